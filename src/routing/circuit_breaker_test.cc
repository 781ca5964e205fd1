// Tests of the circuit breaker's transitions on a manual clock: consecutive failures and
// failure ratio trip it, the cool-down, half-open admitting exactly the probe count (also
// under concurrent callers), closing, re-opening, stale outcomes, lost probes.
#include "routing/circuit_breaker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "routing/manual_clock.h"

namespace sluice::routing {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

void Fail(CircuitBreaker& b, int n) {
  for (int i = 0; i < n; ++i) b.OnFailure(*b.TryAcquire());
}

TEST(CircuitBreaker, OpensAfterConsecutiveFailures) {
  ManualClock clock;
  CircuitBreaker breaker(clock, {.consecutive_failures = 3});
  Fail(breaker, 2);
  breaker.OnSuccess(*breaker.TryAcquire());  // breaks the streak
  Fail(breaker, 2);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  Fail(breaker, 1);
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
  EXPECT_FALSE(breaker.AllowsPick());
  EXPECT_EQ(breaker.TryAcquire(), std::nullopt);
}

TEST(CircuitBreaker, HalfOpenAfterCoolDownAdmitsOnlyTheProbes) {
  ManualClock clock;
  CircuitBreaker breaker(
      clock, {.consecutive_failures = 1, .open_duration = seconds(30), .half_open_probes = 2});
  Fail(breaker, 1);
  clock.Advance(seconds(30) - nanoseconds(1));
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
  EXPECT_EQ(breaker.TryAcquire(), std::nullopt);
  clock.Advance(nanoseconds(1));
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
  EXPECT_TRUE(breaker.AllowsPick());
  const auto probe1 = breaker.TryAcquire();
  const auto probe2 = breaker.TryAcquire();
  ASSERT_TRUE(probe1 && probe2);
  EXPECT_FALSE(breaker.AllowsPick());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(breaker.TryAcquire(), std::nullopt);
  breaker.OnSuccess(*probe1);
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);  // needs both probes
  EXPECT_EQ(breaker.TryAcquire(), std::nullopt);
  breaker.OnSuccess(*probe2);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(breaker.TryAcquire());
}

TEST(CircuitBreaker, FailedProbeReopensForAFullCoolDown) {
  ManualClock clock;
  CircuitBreaker breaker(clock, {.consecutive_failures = 2, .open_duration = seconds(10)});
  Fail(breaker, 2);
  clock.Advance(seconds(10));
  const auto probe = breaker.TryAcquire();
  ASSERT_TRUE(probe);
  clock.Advance(seconds(3));
  breaker.OnFailure(*probe);
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
  clock.Advance(seconds(10) - nanoseconds(1));
  EXPECT_EQ(breaker.TryAcquire(), std::nullopt);
  clock.Advance(nanoseconds(1));
  EXPECT_TRUE(breaker.TryAcquire());
}

TEST(CircuitBreaker, StaleOutcomesAreIgnored) {
  ManualClock clock;
  CircuitBreaker breaker(clock, {.consecutive_failures = 1, .open_duration = seconds(5)});
  const auto old_permit = breaker.TryAcquire();  // admitted while closed, still in flight
  Fail(breaker, 1);
  clock.Advance(seconds(5));
  const auto probe = breaker.TryAcquire();
  ASSERT_TRUE(probe);
  breaker.OnSuccess(*old_permit);  // a straggler from before the trip: not a probe result
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
  breaker.OnFailure(*old_permit);  // nor can it reopen the breaker
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
  breaker.OnSuccess(*probe);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  breaker.OnFailure(*probe);  // reported twice: the closed state has a new generation
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

TEST(CircuitBreaker, NeutralOutcomeFreesTheProbe) {
  ManualClock clock;
  CircuitBreaker breaker(clock, {.consecutive_failures = 1, .open_duration = seconds(1)});
  Fail(breaker, 1);
  clock.Advance(seconds(1));
  const auto probe = breaker.TryAcquire();
  ASSERT_TRUE(probe);
  EXPECT_EQ(breaker.TryAcquire(), std::nullopt);
  breaker.OnNeutral(*probe);  // the client went away: no verdict
  const auto next = breaker.TryAcquire();
  ASSERT_TRUE(next);
  breaker.OnSuccess(*next);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

TEST(CircuitBreaker, LostProbesAreReplacedAfterAnotherCoolDown) {
  ManualClock clock;
  CircuitBreaker breaker(clock, {.consecutive_failures = 1, .open_duration = seconds(5)});
  Fail(breaker, 1);
  clock.Advance(seconds(5));
  const auto lost = breaker.TryAcquire();  // never reported
  ASSERT_TRUE(lost);
  clock.Advance(seconds(4));
  EXPECT_EQ(breaker.TryAcquire(), std::nullopt);
  clock.Advance(seconds(1));
  const auto fresh = breaker.TryAcquire();
  ASSERT_TRUE(fresh);
  breaker.OnSuccess(*lost);  // the old round's outcome no longer counts
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
  breaker.OnSuccess(*fresh);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

TEST(CircuitBreaker, FailureRatioOverTheWindow) {
  ManualClock clock;
  CircuitBreaker breaker(clock, {.consecutive_failures = 0,
                                 .failure_ratio = 0.5,
                                 .minimum_requests = 10,
                                 .window = seconds(10)});
  // 4 of 8: ratio reached but too few requests.
  for (int i = 0; i < 4; ++i) {
    breaker.OnSuccess(*breaker.TryAcquire());
    breaker.OnFailure(*breaker.TryAcquire());
  }
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  breaker.OnSuccess(*breaker.TryAcquire());  // 9 requests, 4 failures
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  breaker.OnFailure(*breaker.TryAcquire());  // 10 requests, 5 failures: 0.5
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
}

TEST(CircuitBreaker, FailureRatioForgetsOldOutcomes) {
  ManualClock clock;
  CircuitBreaker breaker(clock, {.consecutive_failures = 0,
                                 .failure_ratio = 0.5,
                                 .minimum_requests = 4,
                                 .window = seconds(10)});
  for (int i = 0; i < 3; ++i) breaker.OnFailure(*breaker.TryAcquire());
  clock.Advance(seconds(11));
  for (int i = 0; i < 3; ++i) breaker.OnSuccess(*breaker.TryAcquire());
  breaker.OnFailure(*breaker.TryAcquire());  // 1 of 4 in the window
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

TEST(CircuitBreaker, ConcurrentCallersGetExactlyTheProbeCount) {
  ManualClock clock;
  CircuitBreaker breaker(
      clock, {.consecutive_failures = 1, .open_duration = seconds(1), .half_open_probes = 3});
  Fail(breaker, 1);
  clock.Advance(seconds(1));
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (breaker.TryAcquire()) admitted.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(admitted.load(), 3);
}

}  // namespace
}  // namespace sluice::routing
