// JwksCache decisions on explicit steady_clock time points (no sleeping): the first fetch,
// key rotation, a flood of unknown-kid requests collapsing to one fetch per
// min_refresh_interval, the scheduled refresh, failed fetches keeping the old keys, one
// fetch in flight at a time, and recovery from a fetch that never finished.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "auth/jwt/test_keys.h"

namespace sluice::jwt {
namespace {

namespace json = boost::json;
using std::chrono::seconds;
using testing::kNow;

const auto kT0 = std::chrono::steady_clock::time_point() + std::chrono::hours(1000);
const seconds kRefresh{300};
const seconds kMinRefresh{30};

KeySet Jwks(std::initializer_list<std::pair<int, const char*>> ec_keys) {
  json::array keys;
  for (const auto& [index, kid] : ec_keys) {
    json::object jwk = testing::EcPair(index).public_jwk;
    jwk["kid"] = kid;
    keys.push_back(std::move(jwk));
  }
  auto set = KeySet::ParseJwks(json::serialize(json::object{{"keys", keys}}), nullptr);
  EXPECT_TRUE(set.has_value());
  return set ? std::move(*set) : KeySet();
}

TEST(JwksCache, StartsEmptyAndFetchesFirst) {
  JwksCache cache(kRefresh, kMinRefresh);
  ASSERT_NE(cache.keys(), nullptr);
  EXPECT_EQ(cache.keys()->size(), 0u);
  EXPECT_TRUE(cache.BeginRefresh(kT0, false));
  EXPECT_FALSE(cache.BeginRefresh(kT0, true));  // in flight
  cache.Finish(Jwks({{0, "k1"}}), kT0);
  EXPECT_EQ(cache.keys()->size(), 1u);
  EXPECT_EQ(cache.fetches(), 1u);
}

TEST(JwksCache, RotationAcceptsNewKeyAndDropsOldOne) {
  JwksCache cache(kRefresh, kMinRefresh);
  ASSERT_TRUE(cache.BeginRefresh(kT0, false));
  cache.Finish(Jwks({{0, "old"}}), kT0);

  const Policy policy = testing::StandardPolicy();
  const std::string old_token = Sign(testing::StandardClaims(), testing::EcSigner(0, "old"));
  const std::string new_token = Sign(testing::StandardClaims(), testing::EcSigner(1, "new"));
  EXPECT_EQ(Verify(old_token, policy, *cache.keys(), kNow).error, VerifyError::kNone);
  EXPECT_EQ(Verify(new_token, policy, *cache.keys(), kNow).error, VerifyError::kUnknownKey);

  // The unknown kid triggers a refresh once min_refresh_interval has passed; the issuer
  // publishes both keys during the rotation.
  const auto t1 = kT0 + kMinRefresh;
  ASSERT_TRUE(cache.BeginRefresh(t1, true));
  cache.Finish(Jwks({{0, "old"}, {1, "new"}}), t1);
  EXPECT_EQ(Verify(new_token, policy, *cache.keys(), kNow).error, VerifyError::kNone);
  EXPECT_EQ(Verify(old_token, policy, *cache.keys(), kNow).error, VerifyError::kNone);

  // Then the old key is withdrawn.
  const auto t2 = t1 + kRefresh;
  ASSERT_TRUE(cache.BeginRefresh(t2, false));
  cache.Finish(Jwks({{1, "new"}}), t2);
  EXPECT_EQ(Verify(new_token, policy, *cache.keys(), kNow).error, VerifyError::kNone);
  EXPECT_EQ(Verify(old_token, policy, *cache.keys(), kNow).error, VerifyError::kUnknownKey);
}

TEST(JwksCache, UnknownKidFloodFetchesOncePerInterval) {
  JwksCache cache(kRefresh, kMinRefresh);
  ASSERT_TRUE(cache.BeginRefresh(kT0, false));
  cache.Finish(Jwks({{0, "k1"}}), kT0);
  const auto start = kT0 + kMinRefresh;
  int granted = 0;
  for (int i = 0; i < 1000; ++i) {
    // 1000 requests spread over just under one min_refresh_interval; each fetch finishes
    // immediately (failing), so "in flight" is not what holds them back.
    const auto now = start + std::chrono::milliseconds(i * 29);
    if (cache.BeginRefresh(now, true)) {
      ++granted;
      cache.Finish(std::nullopt, now);
    }
  }
  EXPECT_EQ(granted, 1);
  EXPECT_EQ(cache.fetches(), 2u);
  // The next interval allows the next one.
  EXPECT_TRUE(cache.BeginRefresh(start + kMinRefresh, true));
}

TEST(JwksCache, ScheduledRefreshAfterInterval) {
  JwksCache cache(kRefresh, kMinRefresh);
  ASSERT_TRUE(cache.BeginRefresh(kT0, false));
  cache.Finish(Jwks({{0, "k1"}}), kT0);
  EXPECT_FALSE(cache.BeginRefresh(kT0 + kMinRefresh, false));  // no unknown kid: not due
  EXPECT_FALSE(cache.BeginRefresh(kT0 + kRefresh - seconds(1), false));
  EXPECT_TRUE(cache.BeginRefresh(kT0 + kRefresh, false));
  cache.Finish(Jwks({{0, "k1"}}), kT0 + kRefresh);
  EXPECT_FALSE(cache.BeginRefresh(kT0 + 2 * kRefresh - seconds(1), false));
  EXPECT_TRUE(cache.BeginRefresh(kT0 + 2 * kRefresh, false));
  EXPECT_EQ(cache.fetches(), 3u);
}

TEST(JwksCache, FailedFetchKeepsOldKeys) {
  JwksCache cache(kRefresh, kMinRefresh);
  ASSERT_TRUE(cache.BeginRefresh(kT0, false));
  cache.Finish(Jwks({{0, "k1"}}), kT0);
  const std::shared_ptr<const KeySet> before = cache.keys();

  const auto t1 = kT0 + kRefresh;
  ASSERT_TRUE(cache.BeginRefresh(t1, false));
  cache.Finish(std::nullopt, t1);
  EXPECT_EQ(cache.keys(), before);
  ASSERT_NE(cache.keys()->Find("k1"), nullptr);
  // After a failure the schedule retries after min_refresh_interval, not a full interval.
  EXPECT_FALSE(cache.BeginRefresh(t1 + kMinRefresh - seconds(1), false));
  EXPECT_TRUE(cache.BeginRefresh(t1 + kMinRefresh, false));
}

TEST(JwksCache, OneFetchInFlight) {
  JwksCache cache(kRefresh, kMinRefresh);
  ASSERT_TRUE(cache.BeginRefresh(kT0, false));
  // Everything else waits for Finish(), scheduled or unknown kid, however late.
  for (int s = 0; s < 59; ++s) {
    EXPECT_FALSE(cache.BeginRefresh(kT0 + seconds(s), true)) << s;
    EXPECT_FALSE(cache.BeginRefresh(kT0 + seconds(s), false)) << s;
  }
  EXPECT_EQ(cache.fetches(), 1u);
  cache.Finish(Jwks({{0, "k1"}}), kT0 + seconds(59));
  EXPECT_TRUE(cache.BeginRefresh(kT0 + seconds(59), true));  // began 59 s ago
}

TEST(JwksCache, LostFetchDoesNotBlockForever) {
  JwksCache cache(kRefresh, kMinRefresh);
  ASSERT_TRUE(cache.BeginRefresh(kT0, false));  // and never finished
  EXPECT_FALSE(cache.BeginRefresh(kT0 + seconds(59), true));
  EXPECT_TRUE(cache.BeginRefresh(kT0 + seconds(60), true));
  EXPECT_EQ(cache.fetches(), 2u);
}

TEST(JwksCache, KeysSnapshotOutlivesRotation) {
  JwksCache cache(kRefresh, kMinRefresh);
  ASSERT_TRUE(cache.BeginRefresh(kT0, false));
  cache.Finish(Jwks({{0, "k1"}}), kT0);
  const std::shared_ptr<const KeySet> held = cache.keys();  // an in-flight request's view
  ASSERT_TRUE(cache.BeginRefresh(kT0 + kRefresh, false));
  cache.Finish(Jwks({{1, "k2"}}), kT0 + kRefresh);
  EXPECT_NE(held->Find("k1"), nullptr);
  EXPECT_EQ(cache.keys()->Find("k1"), nullptr);
}

}  // namespace
}  // namespace sluice::jwt
