// RedisLimiterStore against a real redis-server: the Lua arithmetic decision for decision
// against LocalLimiterStore, exact limits across three "gateways" firing concurrently,
// all-or-nothing, Adjust, TTLs, concurrency leases, NOSCRIPT recovery, and the failure
// policies with Redis paused (SIGSTOP) and killed (SIGKILL), then recovery.
#include "limits/redis_limiter_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <thread>

#include "limits/check_builders.h"
#include "limits/gcra.h"
#include "limits/local_limiter_store.h"
#include "store/redis/redis_test_server.h"

namespace sluice::limits {
namespace {
namespace asio = boost::asio;
using redis::RedisReply;
using redis::RedisTestServer;
using std::chrono::milliseconds;

constexpr int64_t kMinuteUs = 60'000'000;
constexpr int64_t kNow = 1'764'000'000'000'000;  // a fixed Unix time (µs): decisions are exact

class RedisLimiterStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    store_ = std::make_unique<RedisLimiterStore>(Options(), local_);
  }
  void TearDown() override {
    store_.reset();
    io_.run_for(milliseconds(20));  // the posted Close()s
  }
  RedisLimiterStoreOptions Options() {
    RedisLimiterStoreOptions o;
    o.redis = server_.Options();
    o.timeout = milliseconds(50);
    o.instances = 2;
    o.concurrency_lease = milliseconds(30'000);
    o.budget_slack = milliseconds(5'000);
    return o;
  }
  Decision Decide(std::vector<Check> checks, int64_t now_us, RedisLimiterStore* store = nullptr) {
    Decision out;
    RedisLimiterStore& s = store != nullptr ? *store : *store_;
    auto body = [&]() -> asio::awaitable<void> { out = co_await s.Acquire(checks, now_us); };
    redis::RunCoroutine(io_, body());
    return out;
  }
  // Decides until Redis itself answers again (bounded).
  bool AwaitRedisDecisions() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Decide({RateCheck("sl:{probe}:r", 1000000, kMinuteUs, 0)}, kNow).fallback == nullptr) {
        return true;
      }
      io_.run_for(milliseconds(20));
    }
    return false;
  }

  asio::io_context io_;
  RedisTestServer server_;
  LocalLimiterStore local_;
  std::unique_ptr<RedisLimiterStore> store_;
};

void ExpectSameDecision(const Decision& redis, const Decision& local, const std::string& step) {
  EXPECT_EQ(redis.fallback, nullptr) << step;
  EXPECT_EQ(redis.allowed, local.allowed) << step;
  EXPECT_EQ(redis.denied, local.denied) << step;
  EXPECT_EQ(redis.retry_after_us, local.retry_after_us) << step;
  ASSERT_EQ(redis.count, local.count) << step;
  for (size_t i = 0; i < local.count; ++i) {
    EXPECT_EQ(redis.counters[i].limit, local.counters[i].limit) << step << " #" << i;
    EXPECT_EQ(redis.counters[i].remaining, local.counters[i].remaining) << step << " #" << i;
    EXPECT_EQ(redis.counters[i].reset_us, local.counters[i].reset_us) << step << " #" << i;
  }
}

// The table is the specification: both stores must answer every step identically.
TEST_F(RedisLimiterStoreTest, DecidesExactlyLikeTheLocalStore) {
  LocalLimiterStore reference;
  const int64_t window_end = kNow + 3'600'000'000;
  struct Step {
    int64_t at_us;  // offset from kNow
    std::vector<Check> checks;
    std::vector<Check> adjust_after;  // deltas applied after the decision
  };
  auto rpm = [](int64_t amount) { return RateCheck("sl:{k1}:rpm", 100, kMinuteUs, amount); };
  auto tpm = [](int64_t amount) { return RateCheck("sl:{k1}:tpm", 7, kMinuteUs, amount); };
  auto budget = [&](int64_t amount) { return BudgetCheck("sl:{k1}:b", 1000, window_end, amount); };
  auto conc = [](int64_t amount) { return ConcurrencyCheck("sl:{k1}:c", 2, amount); };
  std::vector<Step> steps = {
      {0, {rpm(1), tpm(3), budget(400)}, {}},
      {0, {rpm(1), tpm(3), budget(400)}, {}},
      {0, {rpm(1), tpm(3), budget(400)}, {}},  // tpm refused (6 + 3 > 7)
      {1, {rpm(99), tpm(0)}, {}},              // rpm: 98 left of the burst: refused
      {2, {rpm(98)}, {}},
      {3, {rpm(1)}, {}},        // empty: retry after one T
      {600'000, {rpm(1)}, {}},  // one T later: one more
      {600'001, {tpm(8)}, {}},  // more than the burst: never
      {700'000, {budget(200), conc(1)}, {budget(-150)}},
      {700'001, {budget(0), conc(1)}, {}},
      {700'002, {conc(1)}, {conc(-1)}},         // refused (2 in flight), then one released
      {700'003, {conc(1), budget(600)}, {}},    // budget refused: the slot is not taken
      {700'004, {conc(1)}, {rpm(-5), tpm(4)}},  // refund 5 requests, charge 4 extra tokens
      {700'005, {rpm(3), tpm(1)}, {}},
      {20'000'000, {rpm(60), tpm(1), budget(1000)}, {}},
      {kMinuteUs * 3, {rpm(100), tpm(7), budget(150), conc(0)}, {}},
  };
  int refused = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    Decision expected = *reference.AcquireNow(s.checks, kNow + s.at_us);
    if (!expected.allowed) ++refused;
    Decision got = Decide(s.checks, kNow + s.at_us);
    ExpectSameDecision(got, expected, "step " + std::to_string(i));
    if (!s.adjust_after.empty()) {
      reference.Adjust(s.adjust_after, kNow + s.at_us);
      store_->Adjust(s.adjust_after, kNow + s.at_us);
    }
  }
  EXPECT_EQ(store_->fallback_decisions().total(), 0u);
  EXPECT_GE(refused, 5);  // the table exercises refusals, not only admissions
}

// Three gateways (own thread, io_context, store and connection) fire 100 decisions each,
// concurrently, at one counter: exactly the limit is admitted.
int AdmittedAcrossThreeGateways(const RedisLimiterStoreOptions& options, LocalLimiterStore& local,
                                const Check& check) {
  std::atomic<int> admitted{0}, fallbacks{0};
  std::vector<std::thread> gateways;
  for (int g = 0; g < 3; ++g) {
    gateways.emplace_back([&] {
      asio::io_context io;
      auto store = std::make_unique<RedisLimiterStore>(options, local);
      int done = 0;
      std::vector<Check> checks{check};
      auto one = [&]() -> asio::awaitable<void> {
        Decision d = co_await store->Acquire(checks, kNow);
        if (d.allowed) admitted.fetch_add(1);
        if (d.fallback != nullptr) fallbacks.fetch_add(1);
        ++done;
      };
      for (int i = 0; i < 100; ++i) asio::co_spawn(io, one(), asio::detached);
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (done < 100 && std::chrono::steady_clock::now() < deadline) {
        io.run_one_for(milliseconds(50));
      }
      EXPECT_EQ(done, 100);
      store.reset();
      io.run_for(milliseconds(20));
    });
  }
  for (auto& t : gateways) t.join();
  EXPECT_EQ(fallbacks.load(), 0);
  return admitted.load();
}

TEST_F(RedisLimiterStoreTest, ExactLimitsAcrossThreeGatewaysFiringConcurrently) {
  RedisLimiterStoreOptions o = Options();
  o.timeout = milliseconds(2000);  // sanitizer builds, 300 decisions at once
  EXPECT_EQ(AdmittedAcrossThreeGateways(o, local_, RateCheck("sl:{key:a}:rpm", 100, kMinuteUs, 1)),
            100);
  // Tokens per minute: 10,000 tokens, 70 per request -> 142 requests.
  EXPECT_EQ(
      AdmittedAcrossThreeGateways(o, local_, RateCheck("sl:{key:a}:tpm", 10000, kMinuteUs, 70)),
      142);
  // Money: $1 (1e6 micro-dollars) per month, $0.007 per request -> 142 requests.
  EXPECT_EQ(AdmittedAcrossThreeGateways(
                o, local_, BudgetCheck("sl:{team:t}:b:2026-11", 1'000'000, kNow + kMinuteUs, 7000)),
            142);
  EXPECT_EQ(server_.Call({"GET", "sl:{team:t}:b:2026-11"}).str, "994000");
}

TEST_F(RedisLimiterStoreTest, ARefusedDecisionChargesNothing) {
  std::vector<Check> checks{RateCheck("sl:{k}:rpm", 100, kMinuteUs, 1),
                            ConcurrencyCheck("sl:{k}:c", 5, 1),
                            BudgetCheck("sl:{k}:b", 10, kNow + kMinuteUs, 11)};
  Decision d = Decide(checks, kNow);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.denied, 2);
  EXPECT_EQ(d.retry_after_us, kNeverUs);  // 11 > 10: can never pass
  EXPECT_EQ(d.counters[0].remaining, 100);
  EXPECT_EQ(d.counters[1].remaining, 5);
  EXPECT_EQ(server_.Call({"EXISTS", "sl:{k}:rpm"}).integer, 0);
  EXPECT_EQ(server_.Call({"EXISTS", "sl:{k}:c"}).integer, 0);
  EXPECT_EQ(server_.Call({"EXISTS", "sl:{k}:b"}).integer, 0);
  checks[2].amount = 10;
  d = Decide(checks, kNow);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.counters[0].remaining, 99);
  EXPECT_EQ(d.counters[1].remaining, 4);
  EXPECT_EQ(d.counters[2].remaining, 0);
  EXPECT_EQ(d.counters[2].reset_us, kMinuteUs);
}

TEST_F(RedisLimiterStoreTest, AdjustRefundsAndChargesExtra) {
  std::vector<Check> budget{BudgetCheck("sl:{k}:b", 1000, kNow + kMinuteUs, 100)};
  EXPECT_EQ(Decide(budget, kNow).counters[0].remaining, 900);
  std::vector<Check> refund{BudgetCheck("sl:{k}:b", 1000, kNow + kMinuteUs, -40)};
  store_->Adjust(refund, kNow);
  budget[0].amount = 0;
  EXPECT_EQ(Decide(budget, kNow).counters[0].remaining, 940);  // FIFO: after the Adjust
  std::vector<Check> extra{BudgetCheck("sl:{k}:b", 1000, kNow + kMinuteUs, 1000)};
  store_->Adjust(extra, kNow);  // past the limit: later requests wait
  budget[0].amount = 1;
  Decision d = Decide(budget, kNow);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.counters[0].remaining, 0);
  EXPECT_EQ(server_.Call({"GET", "sl:{k}:b"}).str, "1060");
  EXPECT_EQ(store_->local_adjusts(), 0u);
}

TEST_F(RedisLimiterStoreTest, EveryKeyGetsATtl) {
  const int64_t window_end = kNow + 10'000'000;
  std::vector<Check> checks{RateCheck("sl:{k}:rps", 10, 1'000'000, 3),  // T = 100 ms: TAT now+300ms
                            ConcurrencyCheck("sl:{k}:c", 5, 1),
                            BudgetCheck("sl:{k}:b", 100, window_end, 1)};
  ASSERT_TRUE(Decide(checks, kNow).allowed);
  int64_t rate_ttl = server_.Call({"PTTL", "sl:{k}:rps"}).integer;
  EXPECT_GT(rate_ttl, 0);
  EXPECT_LE(rate_ttl, 300);
  int64_t lease_ttl = server_.Call({"PTTL", "sl:{k}:c"}).integer;
  EXPECT_GT(lease_ttl, 29'000);
  EXPECT_LE(lease_ttl, 30'000);
  int64_t budget_ttl = server_.Call({"PTTL", "sl:{k}:b"}).integer;  // window + 5 s slack
  EXPECT_GT(budget_ttl, 14'000);
  EXPECT_LE(budget_ttl, 15'000);
}

TEST_F(RedisLimiterStoreTest, ConcurrencyLeaseIsTakenAndReleased) {
  std::vector<Check> one{ConcurrencyCheck("sl:{k}:c", 2, 1)};
  EXPECT_TRUE(Decide(one, kNow).allowed);
  EXPECT_TRUE(Decide(one, kNow).allowed);
  Decision third = Decide(one, kNow);
  EXPECT_FALSE(third.allowed);
  EXPECT_EQ(third.retry_after_us, 0);
  std::vector<Check> release{ConcurrencyCheck("sl:{k}:c", 2, -1)};
  store_->Adjust(release, kNow);
  EXPECT_TRUE(Decide(one, kNow).allowed);
  store_->Adjust(release, kNow);
  store_->Adjust(release, kNow);
  EXPECT_TRUE(Decide(std::vector<Check>{ConcurrencyCheck("sl:{k}:c", 2, 0)}, kNow).allowed);
  EXPECT_EQ(server_.Call({"EXISTS", "sl:{k}:c"}).integer, 0);  // back to 0: deleted
}

TEST_F(RedisLimiterStoreTest, RecoversFromScriptFlush) {
  std::vector<Check> one{RateCheck("sl:{k}:rpm", 100, kMinuteUs, 1)};
  EXPECT_EQ(Decide(one, kNow).counters[0].remaining, 99);
  EXPECT_EQ(server_.Call({"SCRIPT", "FLUSH"}).str, "OK");
  Decision d = Decide(one, kNow);
  EXPECT_EQ(d.fallback, nullptr);
  EXPECT_EQ(d.counters[0].remaining, 98);
  RedisReply exists = server_.Call({"SCRIPT", "EXISTS", store_->decide_sha()});
  ASSERT_EQ(exists.elements.size(), 1u);
  EXPECT_EQ(exists.elements[0].integer, 1);
  EXPECT_EQ(store_->fallback_decisions().total(), 0u);
}

TEST_F(RedisLimiterStoreTest, AScriptErrorIsDecidedByTheFailurePolicy) {
  EXPECT_EQ(server_.Call({"RPUSH", "sl:{k}:rpm", "not a counter"}).integer, 1);  // WRONGTYPE
  Decision d = Decide({RateCheck("sl:{k}:rpm", 9, kMinuteUs, 1)}, kNow);
  EXPECT_TRUE(d.allowed);
  EXPECT_STREQ(d.fallback, "local_fallback");
  d = Decide({BudgetCheck("sl:{k}:rpm", 9, kNow + kMinuteUs, 1)}, kNow);
  EXPECT_FALSE(d.allowed);
  EXPECT_STREQ(d.fallback, "fail_closed");
}

// The failure policies, once Redis stops answering (paused or dead).
void ExpectFailurePolicies(RedisLimiterStoreTest& t, RedisLimiterStore& store,
                           std::function<Decision(std::vector<Check>)> decide) {
  // local_fallback: this instance's share, ceil(9 / 2) = 5 of the 9 per minute.
  std::vector<Check> rate{RateCheck("sl:{k}:rpm", 9, kMinuteUs, 1)};
  int admitted = 0;
  for (int i = 0; i < 8; ++i) {
    Decision d = decide(rate);
    EXPECT_STREQ(d.fallback, "local_fallback");
    if (d.allowed) ++admitted;
  }
  EXPECT_EQ(admitted, 5);
  Decision open = decide({RateCheck("sl:{k}:x", 1, kMinuteUs, 1, OnStoreFailure::kFailOpen)});
  EXPECT_TRUE(open.allowed);
  EXPECT_STREQ(open.fallback, "fail_open");
  // fail_closed wins over the others in the same decision.
  Decision closed = decide({RateCheck("sl:{k}:rpm", 9, kMinuteUs, 1),
                            BudgetCheck("sl:{k}:b", 1000, kNow + kMinuteUs, 1)});
  EXPECT_FALSE(closed.allowed);
  EXPECT_EQ(closed.denied, 1);
  EXPECT_STREQ(closed.fallback, "fail_closed");
  EXPECT_GT(closed.retry_after_us, 0);
  FallbackCounts counts = store.fallback_decisions();
  EXPECT_EQ(counts.local_fallback, 8u);
  EXPECT_EQ(counts.fail_open, 1u);
  EXPECT_EQ(counts.fail_closed, 1u);
  (void)t;
}

TEST_F(RedisLimiterStoreTest, FailurePoliciesWhileRedisIsPausedThenRecovery) {
  ASSERT_TRUE(AwaitRedisDecisions());  // connected before the outage
  server_.Pause();
  auto start = std::chrono::steady_clock::now();
  ExpectFailurePolicies(*this, *store_, [&](std::vector<Check> c) { return Decide(c, kNow); });
  // Timeouts (50 ms) until the stalled connection is dropped (300 ms), then immediate.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  server_.Resume();
  ASSERT_TRUE(AwaitRedisDecisions());
  Decision d = Decide({RateCheck("sl:{k}:after", 9, kMinuteUs, 1)}, kNow);
  EXPECT_EQ(d.fallback, nullptr);
  EXPECT_TRUE(d.allowed);
}

TEST_F(RedisLimiterStoreTest, FailurePoliciesWhileRedisIsKilledThenRecovery) {
  ASSERT_TRUE(AwaitRedisDecisions());
  server_.Kill();
  ExpectFailurePolicies(*this, *store_, [&](std::vector<Check> c) { return Decide(c, kNow); });
  // While Redis is away, Adjust goes to the in-process store (the local share's counter).
  store_->Adjust(std::vector<Check>{RateCheck("sl:{k}:rpm", 9, kMinuteUs, -1)}, kNow);
  EXPECT_EQ(store_->local_adjusts(), 1u);
  EXPECT_TRUE(Decide({RateCheck("sl:{k}:rpm", 9, kMinuteUs, 1)}, kNow).allowed);  // refunded slot
  // Decisions that reach the fallback out of time order still get every slot of the share
  // (ceil(3 / 2) = 2): the fallback's clock never goes backwards.
  EXPECT_TRUE(Decide({RateCheck("sl:{k}:ooo", 3, kMinuteUs, 1)}, kNow + 2000).allowed);
  EXPECT_TRUE(Decide({RateCheck("sl:{k}:ooo", 3, kMinuteUs, 1)}, kNow).allowed);
  EXPECT_FALSE(Decide({RateCheck("sl:{k}:ooo", 3, kMinuteUs, 1)}, kNow).allowed);
  ASSERT_TRUE(server_.Start());
  ASSERT_TRUE(AwaitRedisDecisions());
  Decision d = Decide({RateCheck("sl:{k}:rpm", 9, kMinuteUs, 1)}, kNow);
  EXPECT_EQ(d.fallback, nullptr);
  EXPECT_EQ(d.counters[0].remaining, 8);  // a fresh Redis: the whole limit again
}

}  // namespace
}  // namespace sluice::limits
