// LocalLimiterStore: exact decisions for each counter kind, all-or-nothing, adjustments,
// sweeping, and concurrent deciders (4 threads on one counter admit exactly the limit).
#include "limits/local_limiter_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <string>
#include <thread>
#include <vector>

#include "limits/check_builders.h"
#include "limits/gcra.h"

namespace sluice::limits {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kNow = 1'790'000'000 * kSecond;

Decision Decide(LocalLimiterStore& store, const std::vector<Check>& checks, int64_t now) {
  std::optional<Decision> d = store.AcquireNow(checks, now);
  EXPECT_TRUE(d.has_value());
  return d.value_or(Decision{});
}

TEST(LocalLimiterStoreTest, HundredPerMinuteAdmitsExactlyHundredOfHundredFifty) {
  LocalLimiterStore store;
  const std::vector<Check> checks{RateCheck("sl:{key:a}:p1:rpm", 100, kMinute)};
  int allowed = 0;
  for (int i = 0; i < 150; ++i) {
    const Decision d = Decide(store, checks, kNow);
    if (d.allowed) {
      ++allowed;
      EXPECT_EQ(d.counters[0].remaining, 100 - allowed);
    } else {
      EXPECT_EQ(d.denied, 0);
      EXPECT_EQ(d.retry_after_us, 600'000);
      EXPECT_EQ(d.counters[0].remaining, 0);
      EXPECT_EQ(d.counters[0].reset_us, kMinute);
      EXPECT_EQ(d.counters[0].limit, 100);
    }
    EXPECT_EQ(d.count, 1u);
  }
  EXPECT_EQ(allowed, 100);
  EXPECT_TRUE(Decide(store, checks, kNow + 600'000).allowed);
  EXPECT_FALSE(Decide(store, checks, kNow + 600'000).allowed);
}

TEST(LocalLimiterStoreTest, RejectedDecisionChargesNothing) {
  LocalLimiterStore store;
  const int64_t month_end = kNow + 10 * kSecond;
  ASSERT_TRUE(Decide(store, {BudgetCheck("b", 1000, month_end, 500)}, kNow).allowed);
  // rate ok, tokens ok, budget refuses: the first two must be undone.
  const std::vector<Check> checks{RateCheck("r", 10, kMinute), RateCheck("t", 1000, kMinute, 400),
                                  BudgetCheck("b", 1000, month_end, 600)};
  const Decision d = Decide(store, checks, kNow);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.denied, 2);
  EXPECT_EQ(d.retry_after_us, 10 * kSecond);  // budget: until the window ends
  ASSERT_EQ(d.count, 3u);
  EXPECT_EQ(d.counters[0].remaining, 10);  // reported after the undo
  EXPECT_EQ(d.counters[1].remaining, 1000);
  EXPECT_EQ(d.counters[2].remaining, 500);
  EXPECT_EQ(d.counters[2].reset_us, 10 * kSecond);
  // Everything is still fully available.
  const std::vector<Check> full{RateCheck("r", 10, kMinute, 10),
                                RateCheck("t", 1000, kMinute, 1000),
                                BudgetCheck("b", 1000, month_end, 500)};
  EXPECT_TRUE(Decide(store, full, kNow).allowed);
}

TEST(LocalLimiterStoreTest, DeniedReportsLaterCountersWithoutCharging) {
  LocalLimiterStore store;
  ASSERT_TRUE(Decide(store, {RateCheck("r", 2, kMinute, 2)}, kNow).allowed);
  const Decision d = Decide(store, {RateCheck("r", 2, kMinute), ConcurrencyCheck("c", 5)}, kNow);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.denied, 0);
  EXPECT_EQ(d.retry_after_us, 30 * kSecond);
  EXPECT_EQ(d.counters[1].remaining, 5);
  EXPECT_EQ(d.counters[1].limit, 5);
  EXPECT_EQ(store.Peek(std::vector<Check>{ConcurrencyCheck("c", 5)}, kNow).counters[0].remaining,
            5);
}

TEST(LocalLimiterStoreTest, ConcurrencyAdmitsUpToLimitAndReleases) {
  LocalLimiterStore store;
  const std::vector<Check> one{ConcurrencyCheck("c", 3)};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Decide(store, one, kNow).allowed);
  const Decision refused = Decide(store, one, kNow);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_us, 0);
  EXPECT_EQ(refused.counters[0].remaining, 0);
  store.Adjust(std::vector<Check>{ConcurrencyCheck("c", 3, -1)}, kNow);
  const Decision again = Decide(store, one, kNow);
  EXPECT_TRUE(again.allowed);
  EXPECT_EQ(again.counters[0].remaining, 0);
  // Releasing more than is in flight stops at 0.
  store.Adjust(std::vector<Check>{ConcurrencyCheck("c", 3, -10)}, kNow);
  EXPECT_EQ(store.Peek(one, kNow).counters[0].remaining, 3);
  // Amount larger than the limit can never pass.
  EXPECT_EQ(Decide(store, {ConcurrencyCheck("c", 3, 4)}, kNow).retry_after_us, kNeverUs);
}

TEST(LocalLimiterStoreTest, BudgetAtWindowBoundaries) {
  LocalLimiterStore store;
  const int64_t end = kNow + kMinute;
  Decision d = Decide(store, {BudgetCheck("sl:{team:t}:p5:2026-11", 1000, end, 999)}, kNow);
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.counters[0].remaining, 1);
  EXPECT_EQ(d.counters[0].reset_us, kMinute);
  d = Decide(store, {BudgetCheck("sl:{team:t}:p5:2026-11", 1000, end, 1)}, end - 1);  // exact
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.counters[0].remaining, 0);
  EXPECT_EQ(d.counters[0].reset_us, 1);
  d = Decide(store, {BudgetCheck("sl:{team:t}:p5:2026-11", 1000, end, 1)}, end - 1);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_us, 1);
  // The next window is another key: full again; the old one is swept once ended.
  d = Decide(store, {BudgetCheck("sl:{team:t}:p5:2026-12", 1000, end + kMinute, 1000)}, end);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.Sweep(end - 1), 0u);
  EXPECT_EQ(store.Sweep(end), 1u);
  EXPECT_EQ(store.size(), 1u);
  // Over the whole limit: never.
  EXPECT_EQ(Decide(store, {BudgetCheck("x", 10, end, 11)}, kNow).retry_after_us, kNeverUs);
}

TEST(LocalLimiterStoreTest, SettlementRefundsAndExtraCharges) {
  LocalLimiterStore store;
  const int64_t end = kNow + kMinute;
  ASSERT_TRUE(
      Decide(store, {RateCheck("tpm", 1000, kMinute, 800), BudgetCheck("b", 1000, end, 800)}, kNow)
          .allowed);
  // The request used 300: refund 500 on both.
  store.Adjust(
      std::vector<Check>{RateCheck("tpm", 1000, kMinute, -500), BudgetCheck("b", 1000, end, -500)},
      kNow);
  Decision d = store.Peek(
      std::vector<Check>{RateCheck("tpm", 1000, kMinute), BudgetCheck("b", 1000, end, 0)}, kNow);
  EXPECT_EQ(d.counters[0].remaining, 700);
  EXPECT_EQ(d.counters[1].remaining, 700);
  // Another used 900 more than reserved: the counters go past the limit and refuse.
  store.Adjust(
      std::vector<Check>{RateCheck("tpm", 1000, kMinute, 900), BudgetCheck("b", 1000, end, 900)},
      kNow);
  d = Decide(store, {RateCheck("tpm", 1000, kMinute, 1)}, kNow);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_us, 201 * 60'000);  // 1200 units ahead, capacity 1000, +1
  EXPECT_FALSE(Decide(store, {BudgetCheck("b", 1000, end, 1)}, kNow).allowed);
  // A refund on a counter that does not exist does nothing (and creates nothing).
  store.Adjust(std::vector<Check>{RateCheck("nothing", 10, kMinute, -5)}, kNow);
  EXPECT_EQ(store.size(), 2u);
}

TEST(LocalLimiterStoreTest, SweepFreesOnlyIdleCounters) {
  LocalLimiterStore store;
  ASSERT_TRUE(Decide(store, {RateCheck("r", 10, kSecond), ConcurrencyCheck("c", 2)}, kNow).allowed);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.Sweep(kNow), 0u);  // r is 100 ms ahead, c has one in flight
  EXPECT_EQ(store.Sweep(kNow + 100'000), 1u);
  store.Adjust(std::vector<Check>{ConcurrencyCheck("c", 2, -1)}, kNow);
  EXPECT_EQ(store.Sweep(kNow + 100'000), 1u);
  EXPECT_EQ(store.size(), 0u);
  // Swept counters come back fresh.
  const Decision d =
      Decide(store, {RateCheck("r", 10, kSecond), ConcurrencyCheck("c", 2)}, kNow + kSecond);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.counters[0].remaining, 9);
  EXPECT_EQ(d.counters[1].remaining, 1);
}

TEST(LocalLimiterStoreTest, ManyCountersGrowTheTables) {
  LocalLimiterStore store;
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_TRUE(Decide(store, {RateCheck("k" + std::to_string(i), 2, kSecond)}, kNow).allowed);
  }
  EXPECT_EQ(store.size(), 10'000u);
  for (int i = 0; i < 10'000; ++i) {
    const Decision d = Decide(store, {RateCheck("k" + std::to_string(i), 2, kSecond)}, kNow);
    ASSERT_TRUE(d.allowed) << i;
    ASSERT_EQ(d.counters[0].remaining, 0) << i;
  }
  EXPECT_EQ(store.Sweep(kNow + kSecond), 10'000u);
  EXPECT_EQ(store.size(), 0u);
}

TEST(LocalLimiterStoreTest, TooManyChecksAreRefused) {
  LocalLimiterStore store;
  std::vector<Check> checks;
  for (size_t i = 0; i <= kMaxChecks; ++i)
    checks.push_back(RateCheck("r" + std::to_string(i), 5, kSecond));
  const Decision d = Decide(store, checks, kNow);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(store.size(), 0u);
}

TEST(LocalLimiterStoreTest, AcquireCoroutineAnswersTheSame) {
  LocalLimiterStore store;
  const std::vector<Check> checks{RateCheck("r", 1, kMinute)};
  boost::asio::io_context io;
  auto first = boost::asio::co_spawn(io, store.Acquire(checks, kNow), boost::asio::use_future);
  auto second = boost::asio::co_spawn(io, store.Acquire(checks, kNow), boost::asio::use_future);
  io.run();
  EXPECT_TRUE(first.get().allowed);
  const Decision d = second.get();
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_us, kMinute);
}

TEST(LocalLimiterStoreTest, FourThreadsAdmitExactlyTheLimit) {
  LocalLimiterStore store;
  const std::vector<Check> checks{RateCheck("sl:{key:hot}:p1:rpm", 1000, kMinute)};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (store.AcquireNow(checks, kNow)->allowed) allowed.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);
}

TEST(LocalLimiterStoreTest, ConcurrencyNeverExceedsItsLimitUnderContention) {
  LocalLimiterStore store;
  constexpr int kLimit = 8;
  const std::vector<Check> acquire{ConcurrencyCheck("c", kLimit),
                                   RateCheck("r", 1'000'000, kSecond)};
  const std::vector<Check> release{ConcurrencyCheck("c", kLimit, -1),
                                   RateCheck("r", 1'000'000, kSecond, -1)};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_seen{0};
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20'000; ++i) {
        if (!store.AcquireNow(acquire, kNow)->allowed) continue;
        const int now_in = in_flight.fetch_add(1) + 1;
        int seen = max_seen.load();
        while (now_in > seen && !max_seen.compare_exchange_weak(seen, now_in)) {
        }
        admitted.fetch_add(1);
        in_flight.fetch_sub(1);
        store.Adjust(release, kNow);
        if (t == 0 && i % 1000 == 0) store.Sweep(kNow);  // sweeping while others decide
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(max_seen.load(), kLimit);
  EXPECT_GT(admitted.load(), 0);
  EXPECT_EQ(store.Peek(acquire, kNow).counters[0].remaining, kLimit);  // all released
}

TEST(LocalLimiterStoreTest, SweepingWhileDecidingLosesNoCharge) {
  // Counters that go idle and are swept while other threads charge them: every admitted
  // request is accounted in a counter that still exists (a charge never lands on a dead one).
  LocalLimiterStore store;
  std::atomic<bool> stop{false};
  std::thread sweeper([&] {
    while (!stop.load()) store.Sweep(kNow);
  });
  std::vector<std::thread> threads;
  std::atomic<int> leaks{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20'000; ++i) {
        const std::string key = "c" + std::to_string((i + t) % 7);
        const std::vector<Check> one{ConcurrencyCheck(key, 1'000'000)};
        if (!store.AcquireNow(one, kNow)->allowed) leaks.fetch_add(1);
        // While in flight the counter is not idle, so it must still count this request.
        if (store.Peek(one, kNow).counters[0].remaining == 1'000'000) leaks.fetch_add(1);
        store.Adjust(std::vector<Check>{ConcurrencyCheck(key, 1'000'000, -1)}, kNow);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  stop.store(true);
  sweeper.join();
  EXPECT_EQ(leaks.load(), 0);
  store.Sweep(kNow);
  EXPECT_EQ(store.size(), 0u);
}

}  // namespace
}  // namespace sluice::limits
