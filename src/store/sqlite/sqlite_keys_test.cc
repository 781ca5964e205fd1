// Tests of the api_keys part of SqliteStore: exact round trips, conflicts and their
// messages, input checks, keyset pagination with filters, updates (limit overrides
// included), revocation and the arithmetic of batched usage.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/store_test_util.h"

namespace sluice::sqlite {
namespace {

void ExpectSameKey(const ApiKeyRecord& a, const ApiKeyRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.prefix, b.prefix);
  EXPECT_EQ(a.user_id, b.user_id);
  EXPECT_EQ(a.team_id, b.team_id);
  EXPECT_EQ(a.roles, b.roles);
  EXPECT_EQ(a.tier, b.tier);
  EXPECT_EQ(a.allowed_models, b.allowed_models);
  EXPECT_EQ(a.metadata_json, b.metadata_json);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.expires_at, b.expires_at);
  EXPECT_EQ(a.revoked_at, b.revoked_at);
  EXPECT_EQ(a.last_used_at, b.last_used_at);
  EXPECT_EQ(a.request_count, b.request_count);
  EXPECT_EQ(a.limits, b.limits);
}

KeyLimits EveryLimit() {
  KeyLimits limits;
  limits.requests_per_minute = 600;
  limits.tokens_per_minute = 200000;
  limits.concurrency = 8;
  limits.budget_usd_micros = 25'000'000;
  limits.budget_usd_period = KeyLimitPeriod::kWeek;
  limits.budget_tokens = 1'000'000;
  limits.budget_tokens_period = KeyLimitPeriod::kDay;
  return limits;
}

class SqliteStoreKeys : public testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(store_, nullptr); }

  ApiKeyRecord MustGet(const std::string& id) {
    StoreResult<std::optional<ApiKeyRecord>> key = store_->GetKey(id);
    EXPECT_TRUE(key.ok());
    EXPECT_TRUE(key.ok() && key->has_value()) << id;
    return key.ok() && key->has_value() ? **key : ApiKeyRecord{};
  }

  // Walks every page of `filter` with `limit` and returns the ids in order.
  std::vector<std::string> AllPages(const KeyFilter& filter, int limit, int* pages) {
    std::vector<std::string> ids;
    Page page{limit, ""};
    *pages = 0;
    for (;;) {
      StoreResult<std::vector<ApiKeyRecord>> keys = store_->ListKeys(filter, page);
      EXPECT_TRUE(keys.ok());
      if (!keys.ok() || keys->empty()) break;
      ++*pages;
      EXPECT_LE(keys->size(), static_cast<size_t>(limit));
      for (const ApiKeyRecord& key : *keys) ids.push_back(key.id);
      page.after = keys->back().id;
      if (*pages > 100) break;
    }
    return ids;
  }

  std::unique_ptr<SqliteStore> store_ = OpenOrDie(":memory:");
};

TEST_F(SqliteStoreKeys, InsertedKeyRoundTripsExactly) {
  ApiKeyRecord key = MakeKey("key_0001");
  key.roles = {"a\"b", "ü", std::string("nul\0in", 6), "\xff\xfe", ""};
  key.allowed_models = {};
  key.metadata_json = R"({"nested":{"x":[1,2]},"s":"é"})";
  key.revoked_at = 7;
  key.last_used_at = 8;
  key.request_count = 9;
  ASSERT_TRUE(store_->InsertKey(key).ok());
  ExpectSameKey(MustGet("key_0001"), key);
  StoreResult<std::optional<ApiKeyRecord>> by_hash = store_->FindKeyByHash(key.hash);
  ASSERT_TRUE(by_hash.ok());
  ASSERT_TRUE(by_hash->has_value());
  ExpectSameKey(**by_hash, key);

  StoreResult<std::optional<ApiKeyRecord>> missing = store_->GetKey("key_missing");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  missing = store_->FindKeyByHash("no-such-hash");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(SqliteStoreKeys, LimitOverridesRoundTripThroughInsertGetFindAndList) {
  ApiKeyRecord plain = MakeKey("key_a");
  ApiKeyRecord limited = MakeKey("key_b");
  limited.limits = EveryLimit();
  ASSERT_TRUE(store_->InsertKey(plain).ok());
  ASSERT_TRUE(store_->InsertKey(limited).ok());
  EXPECT_TRUE(MustGet("key_a").limits.empty());
  ExpectSameKey(MustGet("key_b"), limited);
  StoreResult<std::optional<ApiKeyRecord>> by_hash = store_->FindKeyByHash(limited.hash);
  ASSERT_TRUE(by_hash.ok() && by_hash->has_value());
  EXPECT_EQ((*by_hash)->limits, EveryLimit());
  StoreResult<std::vector<ApiKeyRecord>> listed = store_->ListKeys({}, Page{10, ""});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_TRUE((*listed)[0].limits.empty());
  EXPECT_EQ((*listed)[1].limits, EveryLimit());

  // Every period is stored by name and read back.
  for (KeyLimitPeriod period :
       {KeyLimitPeriod::kDay, KeyLimitPeriod::kWeek, KeyLimitPeriod::kMonth}) {
    limited.limits.budget_usd_period = period;
    limited.limits.budget_tokens_period = period;
    ASSERT_TRUE(store_->UpdateKey(limited).ok());
    EXPECT_EQ(MustGet("key_b").limits, limited.limits);
  }
}

TEST_F(SqliteStoreKeys, UpdateSetsAndClearsLimitOverrides) {
  ASSERT_TRUE(store_->InsertKey(MakeKey("key_a")).ok());
  ApiKeyRecord key = MustGet("key_a");
  key.limits.tokens_per_minute = 5000;
  ASSERT_TRUE(store_->UpdateKey(key).ok());
  KeyLimits only_tokens;
  only_tokens.tokens_per_minute = 5000;
  EXPECT_EQ(MustGet("key_a").limits, only_tokens);
  key.limits = EveryLimit();
  ASSERT_TRUE(store_->UpdateKey(key).ok());
  EXPECT_EQ(MustGet("key_a").limits, EveryLimit());
  key.limits = KeyLimits{};
  ASSERT_TRUE(store_->UpdateKey(key).ok());
  EXPECT_TRUE(MustGet("key_a").limits.empty());
  // Usage batches and revocation leave the overrides alone.
  key.limits = EveryLimit();
  ASSERT_TRUE(store_->UpdateKey(key).ok());
  ASSERT_TRUE(store_->RecordKeyUsage({{"key_a", 10, 1}}).ok());
  ASSERT_TRUE(store_->RevokeKey("key_a", 20).ok());
  EXPECT_EQ(MustGet("key_a").limits, EveryLimit());
}

TEST_F(SqliteStoreKeys, NegativeLimitsAreInvalidAndChangeNothing) {
  for (int64_t KeyLimits::*field :
       {&KeyLimits::requests_per_minute, &KeyLimits::tokens_per_minute, &KeyLimits::concurrency,
        &KeyLimits::budget_usd_micros, &KeyLimits::budget_tokens}) {
    ApiKeyRecord key = MakeKey("key_neg");
    key.limits.*field = -1;
    StoreResult<void> result = store_->InsertKey(key);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, StoreErrorCode::kInvalid) << result.error().message;
  }
  ASSERT_TRUE(store_->InsertKey(MakeKey("key_a")).ok());
  ApiKeyRecord key = MustGet("key_a");
  key.limits.concurrency = -3;
  StoreResult<void> update = store_->UpdateKey(key);
  ASSERT_FALSE(update.ok());
  EXPECT_EQ(update.error().code, StoreErrorCode::kInvalid);
  EXPECT_TRUE(MustGet("key_a").limits.empty());
}

TEST_F(SqliteStoreKeys, DuplicateIdOrHashIsAConflictWithoutTheHashInTheMessage) {
  ASSERT_TRUE(store_->InsertKey(MakeKey("key_a")).ok());
  ApiKeyRecord same_id = MakeKey("key_a");
  same_id.hash = "another-hash-value";
  StoreResult<void> result = store_->InsertKey(same_id);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kConflict);
  EXPECT_EQ(result.error().message.find("another-hash-value"), std::string::npos);

  ApiKeyRecord same_hash = MakeKey("key_b");
  same_hash.hash = MakeKey("key_a").hash;
  result = store_->InsertKey(same_hash);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kConflict);
  EXPECT_EQ(result.error().message.find(same_hash.hash), std::string::npos)
      << result.error().message;
  StoreResult<std::optional<ApiKeyRecord>> b = store_->GetKey("key_b");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->has_value());
}

TEST_F(SqliteStoreKeys, BadInputIsInvalid) {
  ApiKeyRecord no_id = MakeKey("key_a");
  no_id.id = "";
  ApiKeyRecord no_hash = MakeKey("key_a");
  no_hash.hash = "";
  ApiKeyRecord bad_metadata = MakeKey("key_a");
  bad_metadata.metadata_json = "[1]";
  ApiKeyRecord broken_metadata = MakeKey("key_a");
  broken_metadata.metadata_json = "{";
  for (const ApiKeyRecord& key : {no_id, no_hash, bad_metadata, broken_metadata}) {
    StoreResult<void> result = store_->InsertKey(key);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, StoreErrorCode::kInvalid) << result.error().message;
  }
  for (int limit : {0, -1, 1001}) {
    StoreResult<std::vector<ApiKeyRecord>> list = store_->ListKeys({}, Page{limit, ""});
    ASSERT_FALSE(list.ok());
    EXPECT_EQ(list.error().code, StoreErrorCode::kInvalid);
  }
  EXPECT_TRUE(store_->ListKeys({}, Page{1000, ""}).ok());
  EXPECT_TRUE(store_->ListKeys({}, Page{1, ""}).ok());
}

TEST_F(SqliteStoreKeys, PaginationWalksEveryMatchingKeyOnceInIdOrder) {
  // 30 keys: user alternates usr_a/usr_b, team team_x for every third, every fifth revoked.
  std::set<std::string> all, user_a, team_x_active, revoked;
  for (int i = 29; i >= 0; --i) {  // inserted out of order
    char id[16];
    std::snprintf(id, sizeof(id), "key_%03d", i);
    ApiKeyRecord key = MakeKey(id);
    key.user_id = i % 2 == 0 ? "usr_a" : "usr_b";
    key.team_id = i % 3 == 0 ? "team_x" : "";
    ASSERT_TRUE(store_->InsertKey(key).ok());
    all.insert(id);
    if (i % 5 == 0) {
      ASSERT_TRUE(store_->RevokeKey(id, 99).ok());
      revoked.insert(id);
    }
    if (i % 2 == 0) user_a.insert(id);
    if (i % 3 == 0 && i % 5 != 0) team_x_active.insert(id);
  }
  int pages = 0;
  std::vector<std::string> ids = AllPages({}, 7, &pages);
  EXPECT_EQ(ids, std::vector<std::string>(all.begin(), all.end()));
  EXPECT_EQ(pages, 5);  // 7+7+7+7+2

  KeyFilter filter;
  filter.user_id = "usr_a";
  ids = AllPages(filter, 4, &pages);
  EXPECT_EQ(ids, std::vector<std::string>(user_a.begin(), user_a.end()));
  EXPECT_EQ(pages, 4);  // 15 keys

  filter = {};
  filter.team_id = "team_x";
  filter.revoked = false;
  ids = AllPages(filter, 2, &pages);
  EXPECT_EQ(ids, std::vector<std::string>(team_x_active.begin(), team_x_active.end()));

  filter = {};
  filter.revoked = true;
  ids = AllPages(filter, 1000, &pages);
  EXPECT_EQ(ids, std::vector<std::string>(revoked.begin(), revoked.end()));
  EXPECT_EQ(pages, 1);

  // `after` is exclusive and need not be an existing id.
  StoreResult<std::vector<ApiKeyRecord>> page = store_->ListKeys({}, Page{3, "key_010"});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].id, "key_011");
  page = store_->ListKeys({}, Page{3, "key_0105"});
  ASSERT_TRUE(page.ok());
  ASSERT_FALSE(page->empty());
  EXPECT_EQ((*page)[0].id, "key_011");
  page = store_->ListKeys({}, Page{3, "key_029"});
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->empty());
}

TEST_F(SqliteStoreKeys, UpdateReplacesTheEditableFieldsOnly) {
  ApiKeyRecord key = MakeKey("key_a");
  ASSERT_TRUE(store_->InsertKey(key).ok());
  ASSERT_TRUE(store_->RecordKeyUsage({{"key_a", 500, 3}}).ok());
  ASSERT_TRUE(store_->RevokeKey("key_a", 600).ok());

  ApiKeyRecord changed = key;
  changed.name = "renamed";
  changed.hash = "rotated-hash";
  changed.prefix = "sk-sl-new…";
  changed.user_id = "";
  changed.team_id = "team_9";
  changed.roles = {};
  changed.tier = "";
  changed.allowed_models = {"*"};
  changed.metadata_json = "{}";
  changed.expires_at = 0;
  changed.limits = EveryLimit();
  changed.created_at = 1;       // not editable
  changed.revoked_at = 0;       // not editable
  changed.request_count = 100;  // not editable
  ASSERT_TRUE(store_->UpdateKey(changed).ok());

  ApiKeyRecord expected = changed;
  expected.created_at = key.created_at;
  expected.revoked_at = 600;
  expected.last_used_at = 500;
  expected.request_count = 3;
  ExpectSameKey(MustGet("key_a"), expected);
  StoreResult<std::optional<ApiKeyRecord>> old_hash = store_->FindKeyByHash(key.hash);
  ASSERT_TRUE(old_hash.ok());
  EXPECT_FALSE(old_hash->has_value());

  StoreResult<void> absent = store_->UpdateKey(MakeKey("key_missing"));
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().code, StoreErrorCode::kNotFound);

  ASSERT_TRUE(store_->InsertKey(MakeKey("key_b")).ok());
  ApiKeyRecord clash = MakeKey("key_b");
  clash.hash = "rotated-hash";
  StoreResult<void> conflict = store_->UpdateKey(clash);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, StoreErrorCode::kConflict);
  EXPECT_EQ(conflict.error().message.find("rotated-hash"), std::string::npos);
  EXPECT_EQ(MustGet("key_b").hash, MakeKey("key_b").hash);
}

TEST_F(SqliteStoreKeys, RevokeSetsTheTimeOnceAndReportsAbsentKeys) {
  ASSERT_TRUE(store_->InsertKey(MakeKey("key_a")).ok());
  ASSERT_TRUE(store_->RevokeKey("key_a", 100).ok());
  ASSERT_TRUE(store_->RevokeKey("key_a", 200).ok());  // already revoked: kept
  EXPECT_EQ(MustGet("key_a").revoked_at, 100);

  StoreResult<void> absent = store_->RevokeKey("key_missing", 100);
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().code, StoreErrorCode::kNotFound);
  StoreResult<void> zero = store_->RevokeKey("key_a", 0);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code, StoreErrorCode::kInvalid);
}

TEST_F(SqliteStoreKeys, UsageBatchesAddCountsAndRaiseLastUse) {
  ASSERT_TRUE(store_->InsertKey(MakeKey("key_a")).ok());
  ASSERT_TRUE(store_->InsertKey(MakeKey("key_b")).ok());
  ASSERT_TRUE(store_
                  ->RecordKeyUsage({{"key_a", 1000, 5},
                                    {"key_b", 2000, 1},
                                    {"key_a", 900, 2},  // older: count only
                                    {"key_gone", 5000, 7}})
                  .ok());
  EXPECT_EQ(MustGet("key_a").request_count, 7);
  EXPECT_EQ(MustGet("key_a").last_used_at, 1000);
  EXPECT_EQ(MustGet("key_b").request_count, 1);
  EXPECT_EQ(MustGet("key_b").last_used_at, 2000);

  ASSERT_TRUE(store_->RecordKeyUsage({{"key_a", 800, 10}, {"key_a", 1500, 0}}).ok());
  EXPECT_EQ(MustGet("key_a").request_count, 17);
  EXPECT_EQ(MustGet("key_a").last_used_at, 1500);
  ASSERT_TRUE(store_->RecordKeyUsage({}).ok());

  // A bad delta rejects the whole batch before anything is written.
  StoreResult<void> bad = store_->RecordKeyUsage({{"key_a", 3000, 4}, {"key_b", 3000, -1}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, StoreErrorCode::kInvalid);
  bad = store_->RecordKeyUsage({{"", 3000, 4}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, StoreErrorCode::kInvalid);
  EXPECT_EQ(MustGet("key_a").request_count, 17);
  EXPECT_EQ(MustGet("key_a").last_used_at, 1500);
}

}  // namespace
}  // namespace sluice::sqlite
