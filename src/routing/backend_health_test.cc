// Tests of BackendHealth, the verdict of active health checks: unknown counts as healthy,
// the thresholds move it in both directions, a broken streak starts over, the details
// (streaks, last check, last error) and the registry key that decides what a reload keeps.
#include "routing/backend_health.h"

#include <gtest/gtest.h>

#include "routing/manual_clock.h"

namespace sluice::routing {
namespace {

HealthCheckConfig Thresholds(uint32_t healthy, uint32_t unhealthy) {
  HealthCheckConfig c;
  c.enabled = true;
  c.healthy_threshold = healthy;
  c.unhealthy_threshold = unhealthy;
  return c;
}

class BackendHealthTest : public testing::Test {
 protected:
  HealthTransition Pass() { return health_.Record(true, "", clock_.WallNow()); }
  HealthTransition Fail(std::string_view why = "status 503") {
    return health_.Record(false, why, clock_.WallNow());
  }

  ManualClock clock_;
  BackendHealth health_{"vllm-a", Thresholds(2, 3)};
};

TEST_F(BackendHealthTest, StartsUnknownWhichCountsAsHealthy) {
  EXPECT_EQ(health_.state(), HealthState::kUnknown);
  EXPECT_FALSE(health_.unhealthy());
  EXPECT_EQ(health_.checks(), 0u);
  EXPECT_EQ(health_.last_check(), WallTime{});
  EXPECT_EQ(health_.last_error(), "");
  EXPECT_EQ(health_.backend_name(), "vllm-a");
}

TEST_F(BackendHealthTest, FirstSuccessMakesItHealthy) {
  HealthTransition t = Pass();
  EXPECT_TRUE(t.changed());
  EXPECT_EQ(t.from, HealthState::kUnknown);
  EXPECT_EQ(t.to, HealthState::kHealthy);
  EXPECT_EQ(health_.state(), HealthState::kHealthy);
  EXPECT_FALSE(Pass().changed());
}

TEST_F(BackendHealthTest, UnhealthyAfterExactlyTheThresholdOfFailuresInARow) {
  Pass();
  EXPECT_FALSE(Fail().changed());
  EXPECT_FALSE(Fail().changed());
  EXPECT_FALSE(health_.unhealthy()) << "two failures are below unhealthy_threshold 3";
  HealthTransition t = Fail("no answer within 2000ms");
  EXPECT_EQ(t.from, HealthState::kHealthy);
  EXPECT_EQ(t.to, HealthState::kUnhealthy);
  EXPECT_TRUE(health_.unhealthy());
  EXPECT_EQ(health_.consecutive_failures(), 3u);
  EXPECT_EQ(health_.last_error(), "no answer within 2000ms");
  EXPECT_FALSE(Fail().changed()) << "further failures change nothing";
}

TEST_F(BackendHealthTest, UnknownGoesStraightToUnhealthyWhenItNeverPassed) {
  Fail();
  Fail();
  EXPECT_EQ(health_.state(), HealthState::kUnknown);
  HealthTransition t = Fail();
  EXPECT_EQ(t.from, HealthState::kUnknown);
  EXPECT_EQ(t.to, HealthState::kUnhealthy);
}

TEST_F(BackendHealthTest, ASuccessBreaksAFailureStreak) {
  Pass();
  Fail();
  Fail();
  Pass();
  Fail();
  Fail();
  EXPECT_EQ(health_.state(), HealthState::kHealthy) << "never three failures in a row";
  EXPECT_EQ(health_.consecutive_failures(), 2u);
  EXPECT_EQ(health_.checks(), 6u);
}

TEST_F(BackendHealthTest, ComesBackAfterTheHealthyThresholdOfSuccessesInARow) {
  for (int i = 0; i < 3; ++i) Fail();
  ASSERT_TRUE(health_.unhealthy());
  EXPECT_FALSE(Pass().changed()) << "one success is below healthy_threshold 2";
  EXPECT_TRUE(health_.unhealthy());
  Fail();  // the streak starts over
  EXPECT_FALSE(Pass().changed());
  HealthTransition t = Pass();
  EXPECT_EQ(t.from, HealthState::kUnhealthy);
  EXPECT_EQ(t.to, HealthState::kHealthy);
  EXPECT_FALSE(health_.unhealthy());
  EXPECT_EQ(health_.consecutive_successes(), 2u);
  EXPECT_EQ(health_.consecutive_failures(), 0u);
  EXPECT_EQ(health_.last_error(), "status 503") << "the last failure stays readable";
}

TEST_F(BackendHealthTest, ThresholdsOfOneFlipOnEveryChange) {
  BackendHealth quick("b", Thresholds(1, 1));
  EXPECT_EQ(quick.Record(false, "x", clock_.WallNow()).to, HealthState::kUnhealthy);
  EXPECT_EQ(quick.Record(true, "", clock_.WallNow()).to, HealthState::kHealthy);
  EXPECT_EQ(quick.Record(false, "x", clock_.WallNow()).to, HealthState::kUnhealthy);
}

TEST_F(BackendHealthTest, RecordsTheTimeOfTheLastCheck) {
  Pass();
  WallTime first = health_.last_check();
  clock_.Advance(std::chrono::seconds(10));
  Fail();
  EXPECT_EQ(health_.last_check() - first, std::chrono::seconds(10));
}

TEST(BackendHealthNames, StateNames) {
  EXPECT_EQ(HealthStateName(HealthState::kUnknown), "unknown");
  EXPECT_EQ(HealthStateName(HealthState::kHealthy), "healthy");
  EXPECT_EQ(HealthStateName(HealthState::kUnhealthy), "unhealthy");
}

TEST(BackendHealthKey, NameUrlAndCheckSettingsButNotTheKey) {
  BackendConfig a;
  a.name = "a";
  a.url = "http://127.0.0.1:1/v1";
  a.health_check = Thresholds(2, 3);
  std::string key = BackendHealthKey(a);
  BackendConfig same = a;
  same.api_key = "sk-rotated";
  same.connect_timeout = std::chrono::seconds(1);
  EXPECT_EQ(BackendHealthKey(same), key) << "a rotated key keeps the verdict";
  EXPECT_EQ(key.find("sk-"), std::string::npos);
  for (auto change : std::vector<std::function<void(BackendConfig&)>>{
           [](BackendConfig& b) { b.name = "b"; },
           [](BackendConfig& b) { b.url = "http://127.0.0.1:2/v1"; },
           [](BackendConfig& b) { b.health_check.path = "/v1/models"; },
           [](BackendConfig& b) { b.health_check.method = "HEAD"; },
           [](BackendConfig& b) { b.health_check.interval = std::chrono::seconds(1); },
           [](BackendConfig& b) { b.health_check.timeout = std::chrono::seconds(1); },
           [](BackendConfig& b) { b.health_check.healthy_threshold = 5; },
           [](BackendConfig& b) { b.health_check.unhealthy_threshold = 5; },
           [](BackendConfig& b) {
             b.health_check.expected_status = {{200, 200}};
           },
       }) {
    BackendConfig changed = a;
    change(changed);
    EXPECT_NE(BackendHealthKey(changed), key);
  }
}

}  // namespace
}  // namespace sluice::routing
