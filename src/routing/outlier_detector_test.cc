// Tests of passive outlier detection on a manual clock: ejection after a streak, growing
// and capped ejection times, forgiveness while healthy, max ejection percent with one
// deployment always left, panic mode, ignored outcomes.
#include "routing/outlier_detector.h"

#include <gtest/gtest.h>

#include "routing/manual_clock.h"

namespace sluice::routing {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

constexpr OutlierOptions kOptions{.consecutive_errors = 5,
                                  .base_ejection_time = seconds(30),
                                  .max_ejection_time = seconds(100),
                                  .interval = seconds(10),
                                  .max_ejection_percent = 100,
                                  .panic_threshold_percent = 0};

// Reports `n` outcomes; returns whether the last one ejected.
bool Report(OutlierDetector& d, size_t i, AttemptOutcome outcome, int n) {
  bool ejected = false;
  for (int k = 0; k < n; ++k) ejected = d.Report(i, outcome);
  return ejected;
}

TEST(OutlierDetector, EjectsAfterConsecutiveErrors) {
  ManualClock clock;
  OutlierDetector d(clock, 3, kOptions);
  EXPECT_FALSE(Report(d, 0, AttemptOutcome::kServerError, 4));
  d.Report(0, AttemptOutcome::kSuccess);  // breaks the streak
  EXPECT_FALSE(Report(d, 0, AttemptOutcome::kServerError, 4));
  d.Report(0, AttemptOutcome::kNeutral);  // a 4xx: neither breaks nor extends it
  EXPECT_FALSE(d.IsEjected(0));
  EXPECT_TRUE(d.Report(0, AttemptOutcome::kConnectFailure));  // connect failures count too
  EXPECT_TRUE(d.IsEjected(0));
  EXPECT_EQ(d.EjectedCount(), 1u);
  EXPECT_EQ(d.Ejections(0), 1u);
}

TEST(OutlierDetector, ConnectFailureStreakOfItsOwn) {
  ManualClock clock;
  OutlierOptions options = kOptions;
  options.consecutive_connect_failures = 2;
  OutlierDetector d(clock, 3, options);
  d.Report(1, AttemptOutcome::kServerError);
  EXPECT_FALSE(d.Report(1, AttemptOutcome::kConnectFailure));
  EXPECT_TRUE(d.Report(1, AttemptOutcome::kConnectFailure));
}

TEST(OutlierDetector, EjectionTimeGrowsAndIsCapped) {
  ManualClock clock;
  OutlierDetector d(clock, 3, kOptions);
  const seconds expected[] = {seconds(30), seconds(60), seconds(90), seconds(100), seconds(100)};
  for (const seconds duration : expected) {
    ASSERT_TRUE(Report(d, 2, AttemptOutcome::kServerError, 5));
    EXPECT_EQ(d.EjectedUntil(2), clock.Now() + duration);
    clock.Advance(duration - nanoseconds(1));
    EXPECT_TRUE(d.IsEjected(2));
    clock.Advance(nanoseconds(1));
    EXPECT_FALSE(d.IsEjected(2)) << "back after " << duration.count() << " s";
  }
}

TEST(OutlierDetector, HealthyIntervalsForgiveEjections) {
  ManualClock clock;
  OutlierDetector d(clock, 3, kOptions);
  ASSERT_TRUE(Report(d, 0, AttemptOutcome::kServerError, 5));  // 30 s
  clock.Advance(seconds(30));
  ASSERT_TRUE(Report(d, 0, AttemptOutcome::kServerError, 5));  // at once again: 60 s
  clock.Advance(seconds(60));
  ASSERT_TRUE(Report(d, 0, AttemptOutcome::kServerError, 5));  // 90 s
  EXPECT_EQ(d.Ejections(0), 3u);
  clock.Advance(seconds(90) + seconds(15));  // healthy for one interval (10 s) and a half
  ASSERT_TRUE(Report(d, 0, AttemptOutcome::kServerError, 5));
  EXPECT_EQ(d.Ejections(0), 3u);  // 3 - 1 forgiven + 1
  EXPECT_EQ(d.EjectedUntil(0), clock.Now() + seconds(90));
  clock.Advance(seconds(90) + seconds(35));  // three intervals forgiven
  ASSERT_TRUE(Report(d, 0, AttemptOutcome::kServerError, 5));
  EXPECT_EQ(d.Ejections(0), 1u);
  EXPECT_EQ(d.EjectedUntil(0), clock.Now() + seconds(30));
}

TEST(OutlierDetector, MaxEjectionPercent) {
  ManualClock clock;
  OutlierOptions options = kOptions;
  options.max_ejection_percent = 20;
  OutlierDetector d(clock, 10, options);
  EXPECT_TRUE(Report(d, 0, AttemptOutcome::kServerError, 5));
  EXPECT_TRUE(Report(d, 1, AttemptOutcome::kServerError, 5));
  EXPECT_FALSE(Report(d, 2, AttemptOutcome::kServerError, 5));  // 2 of 10 is the cap
  EXPECT_FALSE(d.Report(2, AttemptOutcome::kServerError));
  EXPECT_EQ(d.EjectedCount(), 2u);
  clock.Advance(seconds(30));                              // 0 and 1 return
  EXPECT_TRUE(d.Report(2, AttemptOutcome::kServerError));  // its streak was kept
}

TEST(OutlierDetector, OneEjectionAllowedButOneDeploymentAlwaysStays) {
  ManualClock clock;
  OutlierOptions options = kOptions;
  options.max_ejection_percent = 10;  // 10% of 3 rounds to 0: one ejection is still allowed
  OutlierDetector three(clock, 3, options);
  EXPECT_TRUE(Report(three, 0, AttemptOutcome::kServerError, 5));
  EXPECT_FALSE(Report(three, 1, AttemptOutcome::kServerError, 5));

  options.max_ejection_percent = 100;
  OutlierDetector two(clock, 2, options);
  EXPECT_TRUE(Report(two, 0, AttemptOutcome::kServerError, 5));
  EXPECT_FALSE(Report(two, 1, AttemptOutcome::kServerError, 5));  // the last one stays
  OutlierDetector one(clock, 1, options);
  EXPECT_FALSE(Report(one, 0, AttemptOutcome::kServerError, 50));
}

TEST(OutlierDetector, PanicRoutesToAll) {
  ManualClock clock;
  OutlierOptions options = kOptions;
  options.panic_threshold_percent = 50;
  OutlierDetector d(clock, 4, options);
  ASSERT_TRUE(Report(d, 0, AttemptOutcome::kServerError, 5));
  EligibleSet set = d.Eligible();
  EXPECT_FALSE(set.panic);
  EXPECT_TRUE(set.excluded.Test(0));
  EXPECT_EQ(set.excluded.Count(), 1u);
  ASSERT_TRUE(Report(d, 1, AttemptOutcome::kServerError, 5));
  set = d.Eligible();  // 2 of 4 healthy: exactly 50%, not below
  EXPECT_FALSE(set.panic);
  EXPECT_EQ(set.excluded.Count(), 2u);
  DeploymentMask failing_checks;
  failing_checks.Set(3);
  set = d.Eligible(failing_checks);  // 1 of 4 healthy
  EXPECT_TRUE(set.panic);
  EXPECT_TRUE(set.excluded.None());
  ASSERT_TRUE(Report(d, 2, AttemptOutcome::kServerError, 5));
  EXPECT_TRUE(d.Eligible().panic);
  clock.Advance(seconds(30));
  set = d.Eligible();
  EXPECT_FALSE(set.panic);
  EXPECT_TRUE(set.excluded.None());
}

TEST(OutlierDetector, OutcomesWhileEjectedAreIgnored) {
  ManualClock clock;
  OutlierDetector d(clock, 3, kOptions);
  ASSERT_TRUE(Report(d, 0, AttemptOutcome::kServerError, 5));
  EXPECT_FALSE(Report(d, 0, AttemptOutcome::kServerError, 20));  // in-flight stragglers
  EXPECT_EQ(d.Ejections(0), 1u);
  EXPECT_EQ(d.EjectedUntil(0), clock.Now() + seconds(30));
  clock.Advance(seconds(30));
  EXPECT_FALSE(Report(d, 0, AttemptOutcome::kServerError, 4));  // a fresh streak is needed
  EXPECT_FALSE(d.Report(7, AttemptOutcome::kServerError));      // out of range: ignored
}

}  // namespace
}  // namespace sluice::routing
