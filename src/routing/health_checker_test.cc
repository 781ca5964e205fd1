// Tests of the HealthChecker with a fake prober and a manual clock (RunDueChecks instead of
// its thread, so nothing sleeps): which backends it checks, the jittered schedule, the
// thresholds as the groups see them, what an Update keeps, drops and adds, and log lines.
#include "routing/health_checker.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "config/config_test_support.h"
#include "config/loader.h"
#include "routing/manual_clock.h"

namespace sluice::routing {
namespace {

using config_test::LoadOkWithoutFilters;
namespace asio = boost::asio;
using std::chrono::milliseconds;

// Answers at once: failing backends get "status 503". Counts checks per backend name.
class FakeProber final : public HealthProber {
 public:
  asio::awaitable<ProbeResult> Probe(asio::io_context&, const BackendConfig& backend) override {
    ++calls[backend.name];
    headers[backend.name] = backend.extra_headers;
    bool ok = !failing.contains(backend.name);
    co_return ProbeResult{ok, ok ? "" : "status 503"};
  }
  std::map<std::string, int> calls;
  std::map<std::string, std::string> headers;
  std::set<std::string> failing;
};

// a and b are checked every second (healthy after 2, unhealthy after 3); c is not; d has
// a check but no model uses it. `a_extra` is appended to backend a's entry.
std::string Config(const std::string& a_extra = "", bool with_b = true) {
  std::string yaml =
      "routing:\n"
      "  health_check: {interval: 1s, healthy_threshold: 2, unhealthy_threshold: 3}\n"
      "backends:\n"
      "  - {name: a, url: 'http://127.0.0.1:1/v1'" +
      a_extra +
      "}\n"
      "  - {name: b, url: 'http://127.0.0.1:2/v1'}\n"
      "  - {name: c, url: 'http://127.0.0.1:3/v1', health_check: false}\n"
      "  - {name: d, url: 'http://127.0.0.1:4/v1'}\n"
      "models:\n"
      "  - name: chat\n"
      "    balancer: round_robin\n"
      "    deployments:\n"
      "      - {backend: a, upstream_model: x}\n";
  if (with_b) yaml += "      - {backend: b, upstream_model: x}\n";
  yaml +=
      "      - {backend: c, upstream_model: x}\n"
      "  - name: solo\n"
      "    backend: a\n";
  return yaml;
}

class HealthCheckerTest : public testing::Test {
 protected:
  void SetUp() override {
    snapshot_ = LoadOkWithoutFilters(Config());
    ASSERT_NE(snapshot_, nullptr);
    std::string error;
    runtime_ = RoutingRuntime::Create(snapshot_, clock_, error);
    ASSERT_NE(runtime_, nullptr) << error;
    auto prober = std::make_unique<FakeProber>();
    prober_ = prober.get();
    HealthCheckerOptions options;
    options.clock = &clock_;
    options.seed = 7;
    checker_ = std::make_unique<HealthChecker>(std::move(prober), options);
    checker_->Update(runtime_->current());
  }

  const ModelGroup& chat() const { return *runtime_->Group(*snapshot_->models[0]); }
  BackendHealth& health(size_t i) const { return *chat().health(i); }

  // Advances the clock in 10 ms steps through `d`, running what is due at each step.
  int RunFor(Duration d) {
    int checks = 0;
    for (Duration t{}; t < d; t += milliseconds(10)) {
      clock_.Advance(milliseconds(10));
      checks += static_cast<int>(checker_->RunDueChecks());
    }
    return checks;
  }

  // Advances the clock to the next check of `h` and runs what is due then.
  void RunNextCheckOf(const BackendHealth& h) {
    std::optional<SteadyTime> next = checker_->NextCheck(h);
    ASSERT_TRUE(next.has_value());
    if (*next > clock_.Now()) clock_.Advance(*next - clock_.Now());
    checker_->RunDueChecks();
  }

  // Indexes picked by 30 attempts with nothing tried.
  std::set<size_t> Picks() {
    std::set<size_t> picked;
    for (int i = 0; i < 30; ++i) {
      auto ticket = chat().Begin({}, 0, random_, clock_.Now());
      if (!ticket) continue;
      picked.insert(ticket->index);
      chat().End(*ticket, AttemptResult::kSuccess, clock_.Now(), milliseconds(1));
    }
    return picked;
  }

  ManualClock clock_;
  Xoshiro256 random_{3};
  std::shared_ptr<const Snapshot> snapshot_;
  std::unique_ptr<RoutingRuntime> runtime_;
  FakeProber* prober_ = nullptr;
  std::unique_ptr<HealthChecker> checker_;
};

TEST_F(HealthCheckerTest, ChecksEachBackendWithAHealthCheckThatAModelUses) {
  EXPECT_EQ(chat().health(2), nullptr) << "c has health_check: false";
  EXPECT_NE(chat().health(0), nullptr);
  EXPECT_EQ(runtime_->Group(*snapshot_->models[1])->health(0), chat().health(0))
      << "one health object per backend, shared by the groups that use it";
  EXPECT_EQ(checker_->RunDueChecks(), 0u) << "nothing applied or due before the clock moves";
  EXPECT_EQ(checker_->target_count(), 2u) << "a and b; c has no check, d no model";
  EXPECT_EQ(RunFor(milliseconds(100)), 2) << "first checks within a tenth of the interval";
  EXPECT_EQ(prober_->calls["a"], 1) << "a is listed by two groups, checked once";
  EXPECT_EQ(prober_->calls["b"], 1);
  EXPECT_EQ(prober_->calls.count("c"), 0u);
  EXPECT_EQ(prober_->calls.count("d"), 0u);
  EXPECT_EQ(health(0).state(), HealthState::kHealthy);
}

TEST_F(HealthCheckerTest, ChecksRecurEveryIntervalWithinTenPercentJitter) {
  checker_->RunDueChecks();  // applies the table
  std::set<int64_t> gaps;
  for (int round = 0; round < 40; ++round) {
    std::optional<SteadyTime> next = checker_->NextCheck(health(0));
    ASSERT_TRUE(next.has_value());
    Duration gap = *next - clock_.Now();
    if (round == 0) {
      EXPECT_GT(gap, Duration::zero());
      EXPECT_LT(gap, milliseconds(100)) << "the first check comes within a tenth";
    } else {
      EXPECT_GE(gap, milliseconds(900));
      EXPECT_LE(gap, milliseconds(1100));
      gaps.insert(std::chrono::duration_cast<milliseconds>(gap).count());
    }
    int before = prober_->calls["a"];
    clock_.Advance(gap - std::chrono::microseconds(1));
    checker_->RunDueChecks();
    EXPECT_EQ(prober_->calls["a"], before) << "not before it is due";
    clock_.Advance(std::chrono::microseconds(1));
    checker_->RunDueChecks();
    EXPECT_EQ(prober_->calls["a"], before + 1) << "exactly when it is due";
  }
  EXPECT_GT(gaps.size(), 10u) << "the interval is jittered, not fixed";
}

TEST_F(HealthCheckerTest, AFailingBackendIsAvoidedAfterTheThresholdAndTakenBack) {
  checker_->RunDueChecks();
  RunNextCheckOf(health(1));
  EXPECT_EQ(health(1).state(), HealthState::kHealthy);
  EXPECT_EQ(Picks(), (std::set<size_t>{0, 1, 2}));
  prober_->failing.insert("b");
  RunNextCheckOf(health(1));
  RunNextCheckOf(health(1));
  EXPECT_EQ(health(1).consecutive_failures(), 2u);
  EXPECT_FALSE(health(1).unhealthy()) << "two failures are below the threshold of 3";
  EXPECT_EQ(Picks(), (std::set<size_t>{0, 1, 2}));
  RunNextCheckOf(health(1));
  EXPECT_TRUE(health(1).unhealthy());
  EXPECT_EQ(health(1).last_error(), "status 503");
  EXPECT_EQ(Picks(), (std::set<size_t>{0, 2})) << "b is skipped";

  prober_->failing.clear();
  RunNextCheckOf(health(1));
  EXPECT_TRUE(health(1).unhealthy()) << "one success is not enough";
  EXPECT_EQ(Picks(), (std::set<size_t>{0, 2}));
  RunNextCheckOf(health(1));
  EXPECT_FALSE(health(1).unhealthy());
  EXPECT_EQ(Picks(), (std::set<size_t>{0, 1, 2})) << "b is taken back";
}

TEST_F(HealthCheckerTest, AnUpdateKeepsUnchangedBackendsAndDropsTheOthers) {
  checker_->RunDueChecks();
  prober_->failing.insert("a");
  for (int i = 0; i < 3; ++i) RunNextCheckOf(health(0));
  ASSERT_TRUE(health(0).unhealthy());
  BackendHealth* a_before = &health(0);
  std::optional<SteadyTime> a_next = checker_->NextCheck(*a_before);

  // b leaves the group; a changes only its static headers (not part of its identity).
  auto reloaded = LoadOkWithoutFilters(Config(", headers: {X-Env: two}", /*with_b=*/false));
  std::string error;
  auto table = runtime_->BuildTable(reloaded, error);
  ASSERT_NE(table, nullptr) << error;
  checker_->Update(table);
  checker_->RunDueChecks();
  EXPECT_EQ(checker_->target_count(), 1u);
  const ModelGroup& chat2 = *table->Group(*reloaded->models[0]);
  EXPECT_EQ(chat2.health(0), a_before) << "same backend and check: same verdict object";
  EXPECT_TRUE(chat2.health(0)->unhealthy()) << "the verdict survives the reload";
  EXPECT_EQ(checker_->NextCheck(*a_before), a_next) << "and so does its schedule";
  int b_checks = prober_->calls["b"];
  RunFor(milliseconds(1'200));
  EXPECT_EQ(prober_->calls["b"], b_checks) << "b is no longer checked";
  EXPECT_EQ(prober_->headers["a"], "X-Env: two\r\n") << "checks use the new backend settings";
}

TEST_F(HealthCheckerTest, ChangedCheckSettingsStartOverFromUnknown) {
  checker_->RunDueChecks();
  prober_->failing.insert("a");
  for (int i = 0; i < 3; ++i) RunNextCheckOf(health(0));
  ASSERT_TRUE(health(0).unhealthy());
  const BackendHealth* before = &health(0);
  auto reloaded = LoadOkWithoutFilters(Config(", health_check: {path: /v1/models}"));
  std::string error;
  auto table = runtime_->BuildTable(reloaded, error);
  ASSERT_NE(table, nullptr) << error;
  checker_->Update(table);
  checker_->RunDueChecks();  // applies it
  const BackendHealth* fresh = table->Group(*reloaded->models[0])->health(0);
  ASSERT_NE(fresh, nullptr);
  EXPECT_NE(fresh, before);
  EXPECT_EQ(fresh->state(), HealthState::kUnknown);
  EXPECT_EQ(fresh->config().path, "/v1/models");
  std::optional<SteadyTime> next = checker_->NextCheck(*fresh);
  ASSERT_TRUE(next.has_value());
  EXPECT_LT(*next - clock_.Now(), milliseconds(100)) << "a new check gets its first run soon";
}

TEST_F(HealthCheckerTest, ANullTableStopsEveryCheck) {
  checker_->RunDueChecks();
  ASSERT_EQ(checker_->target_count(), 2u);
  checker_->Update(nullptr);
  checker_->RunDueChecks();
  EXPECT_EQ(checker_->target_count(), 0u);
  EXPECT_EQ(RunFor(milliseconds(2'500)), 0);
}

TEST(HealthTransitionMessage, SaysWhatChangedAndWhyWithoutSecrets) {
  HealthCheckConfig c;
  c.enabled = true;
  std::string down = HealthTransitionMessage(
      "vllm-a", c, {HealthState::kHealthy, HealthState::kUnhealthy}, "status 503");
  EXPECT_EQ(down,
            "backend 'vllm-a' is unhealthy: 3 health check(s) of GET /health failed in a row "
            "(last: status 503); requests avoid it");
  std::string up =
      HealthTransitionMessage("vllm-a", c, {HealthState::kUnhealthy, HealthState::kHealthy}, "");
  EXPECT_EQ(up,
            "backend 'vllm-a' is healthy again: 2 health check(s) passed in a row; requests use "
            "it again");
  EXPECT_EQ(HealthTransitionMessage("b", c, {HealthState::kUnknown, HealthState::kHealthy}, ""),
            "backend 'b' passed its first health check");
}

TEST(HealthCheckerThread, StartsAndStopsPromptly) {
  auto checker = std::make_unique<HealthChecker>(std::make_unique<FakeProber>());
  checker->Start();
  checker->Stop();
  checker->Stop();  // idempotent
  EXPECT_EQ(checker->target_count(), 0u);
}

}  // namespace
}  // namespace sluice::routing
