// Tests of DeploymentStats (peak EWMA formula, load, in-flight, recent errors) and of the
// sliding window under it (WindowedCounts), with explicit times instead of sleeping.
#include "routing/deployment_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

#include "routing/windowed_counts.h"

namespace sluice::routing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const SteadyTime kT0 = SteadyTime(std::chrono::hours(5));

TEST(DeploymentStats, PeakEwmaRisesAtOnceAndDecaysOverTau) {
  DeploymentStats stats({.ewma_decay = seconds(10)});
  EXPECT_EQ(stats.CostMillis(kT0), 0);
  stats.ObserveLatency(kT0, milliseconds(100));
  EXPECT_DOUBLE_EQ(stats.CostMillis(kT0), 100);
  stats.ObserveLatency(kT0, milliseconds(500));  // slower: taken as is
  EXPECT_DOUBLE_EQ(stats.CostMillis(kT0), 500);
  stats.ObserveLatency(kT0, milliseconds(100));  // faster, no time passed: weight 0
  EXPECT_DOUBLE_EQ(stats.CostMillis(kT0), 500);
  // Idle for tau: the cost read decays by e.
  EXPECT_NEAR(stats.CostMillis(kT0 + seconds(10)), 500 * std::exp(-1.0), 1e-3);
  // A fast observation after tau: c*w + rtt*(1-w), w = e^-1.
  stats.ObserveLatency(kT0 + seconds(10), milliseconds(100));
  const double expected = 500 * std::exp(-1.0) + 100 * (1 - std::exp(-1.0));
  EXPECT_NEAR(stats.CostMillis(kT0 + seconds(10)), expected, 1e-3);
  // A late reading (a time before the stamp) counts as no time passing.
  EXPECT_NEAR(stats.CostMillis(kT0), expected, 1e-3);
}

TEST(DeploymentStats, ConvergesToSteadyLatency) {
  DeploymentStats stats({.ewma_decay = seconds(1)});
  SteadyTime now = kT0;
  stats.ObserveLatency(now, milliseconds(900));
  for (int i = 0; i < 200; ++i) stats.ObserveLatency(now += milliseconds(50), milliseconds(100));
  EXPECT_NEAR(stats.CostMillis(now), 100, 1);
}

TEST(DeploymentStats, FailuresCountAsSlowAndAsErrors) {
  DeploymentStats stats({.failure_latency = seconds(2)});
  stats.OnAttemptStart();
  EXPECT_EQ(stats.InFlight(), 1);
  stats.OnAttemptEnd(kT0, milliseconds(3), /*failed=*/true);  // a fast connect refusal
  EXPECT_EQ(stats.InFlight(), 0);
  EXPECT_DOUBLE_EQ(stats.CostMillis(kT0), 2000);
  stats.OnAttemptStart();
  stats.OnAttemptEnd(kT0, milliseconds(3), false);
  const WindowTotals totals = stats.RecentOutcomes(kT0);
  EXPECT_EQ(totals.requests, 2u);
  EXPECT_EQ(totals.failures, 1u);
  EXPECT_DOUBLE_EQ(totals.FailureRatio(), 0.5);
  EXPECT_EQ(stats.RecentOutcomes(kT0 + seconds(11)).requests, 0u);  // out of the window
}

TEST(DeploymentStats, LoadIsCostTimesInFlightPlusOne) {
  DeploymentStats stats;
  EXPECT_EQ(stats.Load(kT0), 0);  // never measured, idle: the most attractive
  stats.OnAttemptStart();
  EXPECT_EQ(stats.Load(kT0), DeploymentStats::kUnmeasuredPenalty + 1);
  stats.OnAttemptEnd(kT0, milliseconds(200), false);
  for (int i = 0; i < 3; ++i) stats.OnAttemptStart();
  EXPECT_DOUBLE_EQ(stats.Load(kT0), 200 * 4);
}

TEST(DeploymentStats, ConcurrentUpdatesKeepCounts) {
  DeploymentStats stats;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&stats, t] {
      for (int i = 0; i < 5000; ++i) {
        stats.OnAttemptStart();
        stats.OnAttemptEnd(kT0, milliseconds(10 + t), i % 10 == 0);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(stats.InFlight(), 0);
  const WindowTotals totals = stats.RecentOutcomes(kT0);
  EXPECT_EQ(totals.requests, 20'000u);
  EXPECT_EQ(totals.failures, 2'000u);
  EXPECT_GE(stats.CostMillis(kT0), 10);
  EXPECT_LE(stats.CostMillis(kT0), 1000);  // failures observed at failure_latency (1 s)
}

TEST(WindowedCounts, SlidesSliceBySlice) {
  WindowedCounts counts(seconds(10), 10);
  for (int s = 0; s < 10; ++s) counts.Record(kT0 + seconds(s), s % 2 == 0);
  EXPECT_EQ(counts.Totals(kT0 + seconds(9)).requests, 10u);
  EXPECT_EQ(counts.Totals(kT0 + seconds(9)).failures, 5u);
  // One slice later the oldest (a failure) has left the window.
  EXPECT_EQ(counts.Totals(kT0 + seconds(10)).requests, 9u);
  EXPECT_EQ(counts.Totals(kT0 + seconds(10)).failures, 4u);
  counts.Record(kT0 + seconds(10), false);  // reuses slice 0
  EXPECT_EQ(counts.Totals(kT0 + seconds(10)).requests, 10u);
  EXPECT_EQ(counts.Totals(kT0 + seconds(30)).requests, 0u);
  counts.Reset();
  EXPECT_EQ(counts.Totals(kT0 + seconds(10)).requests, 0u);
}

TEST(WindowedCounts, LateRecordForAReusedSliceIsDropped) {
  WindowedCounts counts(seconds(10), 10);
  counts.Record(kT0 + seconds(20), true);
  counts.Record(kT0 + seconds(10), true);  // same slice, a lap older: dropped
  EXPECT_EQ(counts.Totals(kT0 + seconds(20)).requests, 1u);
}

TEST(WindowedCounts, SaturatesWithoutCorruptingTheEpoch) {
  WindowedCounts counts(seconds(1), 1);
  for (int i = 0; i < 70'000; ++i) counts.Record(kT0, i % 4 == 0);
  const WindowTotals totals = counts.Totals(kT0);
  EXPECT_EQ(totals.requests, 65'535u);
  EXPECT_NEAR(totals.FailureRatio(), 0.25, 0.001);
}

}  // namespace
}  // namespace sluice::routing
