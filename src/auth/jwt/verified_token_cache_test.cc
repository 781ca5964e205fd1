// VerifiedTokenCache: hit, miss, expiry at the token's exp, the capacity bound with FIFO
// eviction, Clear, and concurrent use from 4 threads (meaningful under ASan/TSan builds).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "auth/jwt/test_keys.h"

namespace sluice::jwt {
namespace {

std::shared_ptr<const VerifiedToken> Verified(std::string subject, int64_t exp) {
  auto token = std::make_shared<VerifiedToken>();
  token->subject = std::move(subject);
  token->expires_at = exp;
  return token;
}

std::string TokenText(int i) {
  return "eyJhbGciOiJIUzI1NiJ9.payload-" + std::to_string(i) + ".sig";
}

TEST(JwtVerifiedTokenCache, HitAndMiss) {
  VerifiedTokenCache cache(100);
  EXPECT_EQ(cache.Find("a.b.c", 1000), nullptr);
  const auto verified = Verified("alice", 2000);
  cache.Insert("a.b.c", verified);
  EXPECT_EQ(cache.Find("a.b.c", 1000), verified);
  EXPECT_EQ(cache.Find("a.b.d", 1000), nullptr);  // one byte differs
  EXPECT_EQ(cache.Find("a.b.c ", 1000), nullptr);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(JwtVerifiedTokenCache, ExpiresAtTheTokensExp) {
  VerifiedTokenCache cache(100);
  cache.Insert("t", Verified("bob", 2000));
  EXPECT_NE(cache.Find("t", 1999), nullptr);
  EXPECT_EQ(cache.Find("t", 2000), nullptr);  // no leeway in the cache
  EXPECT_EQ(cache.Find("t", 5000), nullptr);
}

TEST(JwtVerifiedTokenCache, ReinsertReplaces) {
  VerifiedTokenCache cache(100);
  cache.Insert("t", Verified("v1", 2000));
  cache.Insert("t", Verified("v2", 3000));
  ASSERT_NE(cache.Find("t", 2500), nullptr);
  EXPECT_EQ(cache.Find("t", 2500)->subject, "v2");
  EXPECT_EQ(cache.size(), 1u);
  cache.Insert("u", nullptr);  // ignored
  EXPECT_EQ(cache.size(), 1u);
}

TEST(JwtVerifiedTokenCache, CapacityBound) {
  for (const size_t capacity : {size_t{1}, size_t{5}, size_t{100}, size_t{1000}}) {
    VerifiedTokenCache cache(capacity);
    for (int i = 0; i < 5000; ++i) cache.Insert(TokenText(i), Verified("s", 10'000));
    EXPECT_LE(cache.size(), capacity) << capacity;
    EXPECT_GE(cache.size(), capacity >= 16 ? capacity - 15 : capacity) << capacity;
    // The newest entry is always there; the oldest has been evicted.
    EXPECT_NE(cache.Find(TokenText(4999), 0), nullptr) << capacity;
    EXPECT_EQ(cache.Find(TokenText(0), 0), nullptr) << capacity;
  }
  VerifiedTokenCache none(0);
  none.Insert("t", Verified("s", 10'000));
  EXPECT_EQ(none.Find("t", 0), nullptr);
  EXPECT_EQ(none.size(), 0u);
}

TEST(JwtVerifiedTokenCache, Clear) {
  VerifiedTokenCache cache(10'000);  // large enough that no shard evicts
  for (int i = 0; i < 50; ++i) cache.Insert(TokenText(i), Verified("s", 10'000));
  EXPECT_EQ(cache.size(), 50u);
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Find(TokenText(1), 0), nullptr);
}

TEST(JwtVerifiedTokenCache, HoldsVerifyResults) {
  KeySet keys;
  keys.Add(testing::HmacKey());
  const std::string token = Sign(testing::StandardClaims(), testing::HmacKey());
  VerifyResult result = Verify(token, testing::StandardPolicy(), keys, testing::kNow);
  ASSERT_EQ(result.error, VerifyError::kNone);
  VerifiedTokenCache cache;
  cache.Insert(token, std::make_shared<const VerifiedToken>(std::move(*result.token)));
  const auto hit = cache.Find(token, testing::kNow + 299);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->subject, "user-1234");
  EXPECT_EQ(cache.Find(token, testing::kNow + 300), nullptr);
}

TEST(JwtVerifiedTokenCache, ConcurrentUseFromFourThreads) {
  constexpr int kThreads = 4;
  constexpr int kTokens = 512;
  VerifiedTokenCache cache(256);  // smaller than the working set: evictions race lookups
  std::atomic<int> wrong{0};
  std::atomic<int> hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (int i = 0; i < kTokens; ++i) {
          const int n = (i * 7 + t * 131 + round) % kTokens;
          const std::string token = TokenText(n);
          if (const auto found = cache.Find(token, 0)) {
            ++hits;
            if (found->subject != std::to_string(n)) ++wrong;
          } else {
            cache.Insert(token, Verified(std::to_string(n), 10'000));
          }
        }
        if (t == 0 && round == 10) cache.Clear();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(hits.load(), 0);
  EXPECT_LE(cache.size(), 256u);
}

}  // namespace
}  // namespace sluice::jwt
