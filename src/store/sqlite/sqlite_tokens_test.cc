// Tests of refresh tokens and revoked JWT ids in SqliteStore: one-time use (also when two
// connections race for the same token), family revocation, and revoked ids that expire.
#include <gtest/gtest.h>

#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/store_test_util.h"

namespace sluice::sqlite {
namespace {

class SqliteStoreTokens : public testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(store_, nullptr); }

  RefreshTokenRecord MustFind(const std::string& hash) {
    StoreResult<std::optional<RefreshTokenRecord>> token = store_->FindRefreshToken(hash);
    EXPECT_TRUE(token.ok() && token->has_value()) << hash;
    return token.ok() && token->has_value() ? **token : RefreshTokenRecord{};
  }

  bool Use(const std::string& id, int64_t now) {
    StoreResult<bool> used = store_->UseRefreshToken(id, now);
    EXPECT_TRUE(used.ok());
    return used.ok() && *used;
  }

  std::unique_ptr<SqliteStore> store_ = OpenOrDie(":memory:");
};

TEST_F(SqliteStoreTokens, RefreshTokenRoundTripsAndHashesAreUnique) {
  RefreshTokenRecord token = MakeRefreshToken("rt_1", "fam_1");
  token.used_at = 0;
  ASSERT_TRUE(store_->InsertRefreshToken(token).ok());
  RefreshTokenRecord got = MustFind(token.token_hash);
  EXPECT_EQ(got.id, "rt_1");
  EXPECT_EQ(got.family_id, "fam_1");
  EXPECT_EQ(got.user_id, token.user_id);
  EXPECT_EQ(got.token_hash, token.token_hash);
  EXPECT_EQ(got.created_at, token.created_at);
  EXPECT_EQ(got.expires_at, token.expires_at);
  EXPECT_EQ(got.used_at, 0);
  EXPECT_EQ(got.revoked_at, 0);

  RefreshTokenRecord same_hash = MakeRefreshToken("rt_2", "fam_1");
  same_hash.token_hash = token.token_hash;
  StoreResult<void> result = store_->InsertRefreshToken(same_hash);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kConflict);
  EXPECT_EQ(result.error().message.find(token.token_hash), std::string::npos);
  result = store_->InsertRefreshToken(MakeRefreshToken("rt_1", "fam_2"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kConflict);
  RefreshTokenRecord no_hash = MakeRefreshToken("rt_3", "fam_1");
  no_hash.token_hash = "";
  result = store_->InsertRefreshToken(no_hash);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kInvalid);

  StoreResult<std::optional<RefreshTokenRecord>> missing = store_->FindRefreshToken("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(SqliteStoreTokens, ATokenIsUsableExactlyOnce) {
  ASSERT_TRUE(store_->InsertRefreshToken(MakeRefreshToken("rt_1", "fam_1")).ok());
  EXPECT_TRUE(Use("rt_1", 50));
  EXPECT_FALSE(Use("rt_1", 60));
  EXPECT_EQ(MustFind("rthash-rt_1").used_at, 50);
  EXPECT_FALSE(Use("rt_unknown", 60));
  StoreResult<bool> zero = store_->UseRefreshToken("rt_1", 0);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code, StoreErrorCode::kInvalid);
}

TEST_F(SqliteStoreTokens, RevokingAFamilyStopsItsTokensOnly) {
  ASSERT_TRUE(store_->InsertRefreshToken(MakeRefreshToken("rt_1", "fam_1")).ok());
  ASSERT_TRUE(store_->InsertRefreshToken(MakeRefreshToken("rt_2", "fam_1")).ok());
  ASSERT_TRUE(store_->InsertRefreshToken(MakeRefreshToken("rt_3", "fam_2")).ok());
  ASSERT_TRUE(Use("rt_1", 20));
  ASSERT_TRUE(store_->RevokeRefreshFamily("fam_1", 30).ok());
  ASSERT_TRUE(store_->RevokeRefreshFamily("fam_1", 40).ok());  // idempotent: time kept
  ASSERT_TRUE(store_->RevokeRefreshFamily("fam_unknown", 40).ok());
  EXPECT_EQ(MustFind("rthash-rt_1").revoked_at, 30);
  EXPECT_EQ(MustFind("rthash-rt_2").revoked_at, 30);
  EXPECT_EQ(MustFind("rthash-rt_3").revoked_at, 0);
  EXPECT_FALSE(Use("rt_2", 50));
  EXPECT_EQ(MustFind("rthash-rt_2").used_at, 0);
  EXPECT_TRUE(Use("rt_3", 50));
  StoreResult<void> zero = store_->RevokeRefreshFamily("fam_2", 0);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code, StoreErrorCode::kInvalid);
}

TEST(SqliteStoreRefreshRace, TwoConnectionsUsingTheSameTokenGetExactlyOneTrue) {
  TempDbPath path("refresh_race");
  constexpr int kTokens = 200;
  std::unique_ptr<SqliteStore> first = OpenOrDie(path.path());
  std::unique_ptr<SqliteStore> second = OpenOrDie(path.path());
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  for (int i = 0; i < kTokens; ++i) {
    ASSERT_TRUE(first->InsertRefreshToken(MakeRefreshToken("rt_" + std::to_string(i), "fam")).ok());
  }
  std::vector<int> wins_first(kTokens), wins_second(kTokens);
  std::vector<int> errors(2);
  std::latch start(2);
  auto run = [&](SqliteStore* store, std::vector<int>* wins, int* error_count, int64_t now) {
    start.arrive_and_wait();
    for (int i = 0; i < kTokens; ++i) {
      StoreResult<bool> used = store->UseRefreshToken("rt_" + std::to_string(i), now);
      if (!used.ok()) {
        ++*error_count;
      } else if (*used) {
        (*wins)[i] = 1;
      }
    }
  };
  std::thread a(run, first.get(), &wins_first, &errors[0], 100);
  std::thread b(run, second.get(), &wins_second, &errors[1], 200);
  a.join();
  b.join();
  EXPECT_EQ(errors[0], 0);
  EXPECT_EQ(errors[1], 0);
  for (int i = 0; i < kTokens; ++i) {
    EXPECT_EQ(wins_first[i] + wins_second[i], 1) << "token " << i;
    StoreResult<std::optional<RefreshTokenRecord>> token =
        first->FindRefreshToken("rthash-rt_" + std::to_string(i));
    ASSERT_TRUE(token.ok() && token->has_value());
    // The stored time is the winner's.
    EXPECT_EQ((*token)->used_at, wins_first[i] == 1 ? 100 : 200) << "token " << i;
  }
}

TEST_F(SqliteStoreTokens, RevokedIdsAreListedUntilTheyExpire) {
  ASSERT_TRUE(store_->RevokeTokenId("jti_b", 100).ok());
  ASSERT_TRUE(store_->RevokeTokenId("jti_a", 200).ok());
  ASSERT_TRUE(store_->RevokeTokenId("jti_forever", 0).ok());
  StoreResult<std::vector<std::string>> ids = store_->ListRevokedTokenIds(50);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"jti_a", "jti_b", "jti_forever"}));
  ids = store_->ListRevokedTokenIds(100);  // expires_at is the first second it is no longer denied
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"jti_a", "jti_forever"}));
  // Revoking again keeps the later expiry; pruned ids can be revoked anew.
  ASSERT_TRUE(store_->RevokeTokenId("jti_a", 150).ok());
  ASSERT_TRUE(store_->RevokeTokenId("jti_b", 300).ok());
  ids = store_->ListRevokedTokenIds(199);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"jti_a", "jti_b", "jti_forever"}));
  ASSERT_TRUE(store_->RevokeTokenId("jti_forever", 10).ok());  // 0 (never) wins
  ids = store_->ListRevokedTokenIds(1000000);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, std::vector<std::string>{"jti_forever"});
  // Expired ids were deleted, not just hidden: an earlier `now` no longer shows them.
  ids = store_->ListRevokedTokenIds(1);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, std::vector<std::string>{"jti_forever"});
  StoreResult<void> bad = store_->RevokeTokenId("", 10);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, StoreErrorCode::kInvalid);
}

}  // namespace
}  // namespace sluice::sqlite
