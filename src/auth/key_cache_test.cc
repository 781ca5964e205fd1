// Tests of KeyCache (key_cache.h) on explicit time points (no sleeping): hits and misses,
// the TTL of known keys and the shorter TTL of negative entries, Invalidate, and use counts
// that accumulate, survive an entry being replaced or evicted, and are taken exactly once,
// also while other threads count.
#include "auth/key_cache.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>
#include <vector>

namespace sluice {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const SteadyTime kT0 = SteadyTime() + std::chrono::hours(1000);

// A hash-like string: 64 hex digits starting with `first` (which picks the shard).
std::string Hash(char first, int n) {
  std::string hash = std::string(1, first) + std::to_string(n);
  hash.resize(64, '0');
  return hash;
}

std::shared_ptr<KeyState> KnownKey(const std::string& hash, const std::string& key_id,
                                   SteadyTime fetched_at) {
  auto principal = std::make_shared<Principal>();
  principal->kind = Principal::Kind::kApiKey;
  principal->key_id = key_id;
  auto state = std::make_shared<KeyState>();
  state->principal = std::move(principal);
  state->hash = hash;
  state->fetched_at = fetched_at;
  return state;
}

std::shared_ptr<KeyState> UnknownKey(const std::string& hash, SteadyTime fetched_at) {
  auto state = std::make_shared<KeyState>();
  state->hash = hash;
  state->fetched_at = fetched_at;
  return state;
}

// Sums the deltas per key (a key may appear once per retired entry plus once live).
struct Usage {
  int64_t requests = 0;
  int64_t last_used_at = 0;
};
std::map<std::string, Usage> ByKey(const std::vector<KeyUsageDelta>& deltas) {
  std::map<std::string, Usage> out;
  for (const KeyUsageDelta& d : deltas) {
    Usage& u = out[d.key_id];
    u.requests += d.requests;
    u.last_used_at = std::max(u.last_used_at, d.last_used_at);
  }
  return out;
}

TEST(KeyCache, HitAndMiss) {
  KeyCache cache(seconds(10), seconds(2));
  const std::string hash = Hash('a', 1);
  EXPECT_EQ(cache.Find(hash, kT0), nullptr);
  auto state = KnownKey(hash, "key_1", kT0);
  cache.Put(state);
  EXPECT_EQ(cache.Find(hash, kT0), state);
  EXPECT_EQ(cache.Find(hash, kT0 + seconds(1)), state);
  EXPECT_EQ(cache.Find(Hash('a', 2), kT0), nullptr);  // same shard, other key
  EXPECT_EQ(cache.Find(Hash('0', 1), kT0), nullptr);  // other shard
  EXPECT_EQ(cache.Find("", kT0), nullptr);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(KeyCache, ManyKeysAcrossShards) {
  KeyCache cache(seconds(10), seconds(2));
  const std::string first_chars = "0123456789abcdef";
  for (char c : first_chars) {
    for (int i = 0; i < 10; ++i) cache.Put(KnownKey(Hash(c, i), std::string(1, c), kT0));
  }
  EXPECT_EQ(cache.size(), 160u);
  for (char c : first_chars) {
    for (int i = 0; i < 10; ++i) {
      auto found = cache.Find(Hash(c, i), kT0);
      ASSERT_NE(found, nullptr) << c << i;
      EXPECT_EQ(found->hash, Hash(c, i));
    }
  }
}

TEST(KeyCache, KnownKeysExpireAfterTheTtl) {
  KeyCache cache(seconds(10), seconds(2));
  const std::string hash = Hash('b', 1);
  cache.Put(KnownKey(hash, "key_1", kT0));
  EXPECT_NE(cache.Find(hash, kT0 + milliseconds(9'999)), nullptr);
  EXPECT_EQ(cache.Find(hash, kT0 + seconds(10)), nullptr);
  EXPECT_EQ(cache.Find(hash, kT0 + seconds(3600)), nullptr);
  // A fresh read replaces the stale entry and is served again.
  cache.Put(KnownKey(hash, "key_1", kT0 + seconds(10)));
  EXPECT_NE(cache.Find(hash, kT0 + seconds(15)), nullptr);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(KeyCache, NegativeEntriesExpireOnTheirShorterTtl) {
  KeyCache cache(seconds(10), seconds(2));
  const std::string unknown = Hash('c', 1);
  const std::string known = Hash('c', 2);
  cache.Put(UnknownKey(unknown, kT0));
  cache.Put(KnownKey(known, "key_2", kT0));
  auto found = cache.Find(unknown, kT0 + seconds(1));
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->principal, nullptr);  // cached as "no such key"
  EXPECT_EQ(cache.Find(unknown, kT0 + seconds(2)), nullptr);
  EXPECT_NE(cache.Find(known, kT0 + seconds(2)), nullptr);
  EXPECT_NE(cache.Find(known, kT0 + seconds(9)), nullptr);
}

TEST(KeyCache, InvalidateDropsAtOnce) {
  KeyCache cache(seconds(10), seconds(2));
  const std::string hash = Hash('d', 1);
  cache.Put(KnownKey(hash, "key_1", kT0));
  cache.Put(KnownKey(Hash('d', 2), "key_2", kT0));
  cache.Invalidate(hash);
  EXPECT_EQ(cache.Find(hash, kT0), nullptr);
  EXPECT_NE(cache.Find(Hash('d', 2), kT0), nullptr);
  EXPECT_EQ(cache.size(), 1u);
  cache.Invalidate(hash);  // already gone: no effect
  cache.Invalidate(Hash('e', 9));
  EXPECT_EQ(cache.size(), 1u);
  cache.Put(UnknownKey(Hash('d', 3), kT0));
  cache.Invalidate(Hash('d', 3));
  EXPECT_EQ(cache.Find(Hash('d', 3), kT0), nullptr);
}

TEST(KeyCache, UseCountsAccumulateAndAreTakenOnce) {
  KeyCache cache(seconds(10), seconds(2));
  auto one = KnownKey(Hash('1', 1), "key_1", kT0);
  auto two = KnownKey(Hash('2', 1), "key_2", kT0);
  auto idle = KnownKey(Hash('3', 1), "key_3", kT0);
  cache.Put(one);
  cache.Put(two);
  cache.Put(idle);
  cache.CountUse(*one, 100);
  cache.CountUse(*one, 105);
  cache.CountUse(*one, 103);  // an older time never lowers last_used
  cache.CountUse(*two, 200);
  auto usage = ByKey(cache.TakeUsage());
  ASSERT_EQ(usage.size(), 2u);  // a key without use is not reported
  EXPECT_EQ(usage["key_1"].requests, 3);
  EXPECT_EQ(usage["key_1"].last_used_at, 105);
  EXPECT_EQ(usage["key_2"].requests, 1);
  EXPECT_EQ(usage["key_2"].last_used_at, 200);
  EXPECT_TRUE(cache.TakeUsage().empty());
  cache.CountUse(*two, 300);
  usage = ByKey(cache.TakeUsage());
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage["key_2"].requests, 1);
  EXPECT_EQ(usage["key_2"].last_used_at, 300);
}

TEST(KeyCache, CountsCarryOverWhenAnEntryIsReplaced) {
  KeyCache cache(seconds(10), seconds(2));
  const std::string hash = Hash('4', 1);
  auto old_state = KnownKey(hash, "key_1", kT0);
  cache.Put(old_state);
  cache.CountUse(*old_state, 100);
  cache.CountUse(*old_state, 101);
  auto new_state = KnownKey(hash, "key_1", kT0 + seconds(10));  // a refresh after the TTL
  cache.Put(new_state);
  cache.CountUse(*new_state, 110);
  auto usage = ByKey(cache.TakeUsage());
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage["key_1"].requests, 3);
  EXPECT_EQ(usage["key_1"].last_used_at, 110);
  EXPECT_TRUE(cache.TakeUsage().empty());
}

TEST(KeyCache, CountsCarryOverWhenAnEntryIsEvicted) {
  KeyCache cache(seconds(10), seconds(2));
  const std::string hash = Hash('5', 1);
  auto state = KnownKey(hash, "key_1", kT0);
  cache.Put(state);
  for (int i = 0; i < 4; ++i) cache.CountUse(*state, 100 + i);
  cache.Invalidate(hash);
  EXPECT_EQ(cache.size(), 0u);
  auto usage = ByKey(cache.TakeUsage());
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage["key_1"].requests, 4);
  EXPECT_EQ(usage["key_1"].last_used_at, 103);
  EXPECT_TRUE(cache.TakeUsage().empty());
}

TEST(KeyCache, ConcurrentCountsAreNeitherLostNorDoubled) {
  KeyCache cache(seconds(10), seconds(2));
  const std::string hash = Hash('6', 1);
  auto state = KnownKey(hash, "key_1", kT0);
  cache.Put(state);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (i == kPerThread / 2 && t == 0) {
          // Replacing the entry mid-way: its counts move to the retired list.
          cache.Put(KnownKey(hash, "key_1", kT0));
        }
        if (auto found = cache.Find(hash, kT0)) cache.CountUse(*found, 1000 + i);
      }
    });
  }
  int64_t taken = 0;
  for (int round = 0; round < 200; ++round) taken += ByKey(cache.TakeUsage())["key_1"].requests;
  for (std::thread& thread : threads) thread.join();
  taken += ByKey(cache.TakeUsage())["key_1"].requests;
  // Never doubled. A thread that found the old entry just before it was replaced may count
  // on it after it was drained: at most one count per other thread can be lost that way.
  EXPECT_LE(taken, kThreads * kPerThread);
  EXPECT_GE(taken, kThreads * kPerThread - kThreads);
}

}  // namespace
}  // namespace sluice
