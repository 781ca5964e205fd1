// Tests of model groups wired to their live state: picks skip tried, broken and ejected
// deployments; outcomes reach stats, breaker and detector; the registry hands the same
// state to a rebuilt table (what a reload will rely on); hash keys. Manual clock, seeded
// random, configs loaded from YAML.
#include "routing/model_group.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "config/config_test_support.h"
#include "config/loader.h"
#include "routing/manual_clock.h"
#include "routing/routing_runtime.h"
#include "routing/stable_hash.h"

namespace sluice::routing {
namespace {

using config_test::LoadOkWithoutFilters;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Three deployments a, b, c of "chat", one of "solo"; breaker after 3 failures, ejection
// after 2 errors for 10 s.
const char* kThree =
    "backends:\n"
    "  - {name: a, url: 'http://127.0.0.1:1'}\n"
    "  - {name: b, url: 'http://127.0.0.1:2'}\n"
    "  - {name: c, url: 'http://127.0.0.1:3'}\n"
    "routing:\n"
    "  circuit_breaker: {consecutive_failures: 3, open_duration: 5s}\n"
    "  outlier_detection: {consecutive_errors: 2, base_ejection_time: 10s,\n"
    "                      max_ejection_percent: 50}\n"
    "models:\n"
    "  - name: chat\n"
    "    balancer: round_robin\n"
    "    deployments:\n"
    "      - {backend: a, upstream_model: x}\n"
    "      - {backend: b, upstream_model: x}\n"
    "      - {backend: c, upstream_model: y}\n"
    "  - name: solo\n"
    "    backend: a\n";

class ModelGroupTest : public testing::Test {
 protected:
  void SetUp() override {
    snapshot_ = LoadOkWithoutFilters(kThree);
    ASSERT_NE(snapshot_, nullptr);
    std::string error;
    runtime_ = RoutingRuntime::Create(snapshot_, clock_, error);
    ASSERT_NE(runtime_, nullptr) << error;
    chat_ = runtime_->Group(*snapshot_->models[0]);
    solo_ = runtime_->Group(*snapshot_->models[1]);
    ASSERT_NE(chat_, nullptr);
    ASSERT_NE(solo_, nullptr);
  }

  // Picks n times with nothing tried, ending each attempt with `result`; counts picks.
  std::map<size_t, int> PickMany(int n, AttemptResult result = AttemptResult::kSuccess) {
    std::map<size_t, int> counts;
    for (int i = 0; i < n; ++i) {
      auto ticket = chat_->Begin({}, 0, random_, clock_.Now());
      if (!ticket) continue;
      ++counts[ticket->index];
      chat_->End(*ticket, result, clock_.Now(), milliseconds(10));
    }
    return counts;
  }

  ManualClock clock_;
  Xoshiro256 random_{42};
  std::shared_ptr<const Snapshot> snapshot_;
  std::unique_ptr<RoutingRuntime> runtime_;
  const ModelGroup* chat_ = nullptr;
  const ModelGroup* solo_ = nullptr;
};

TEST(BalancerNames, TheLoaderAndTheBalancerFactoryAgree) {
  std::set<std::string_view> names(kBalancerNames.begin(), kBalancerNames.end());
  EXPECT_EQ(names.size(), kBalancerNames.size());
  for (std::string_view name : kBalancerNames) {
    auto kind = ParseBalancerKind(name);
    ASSERT_TRUE(kind) << name;
    EXPECT_EQ(BalancerKindName(*kind), name);
  }
  EXPECT_FALSE(ParseBalancerKind("fastest"));
}

TEST_F(ModelGroupTest, GroupsFollowTheSnapshotsModels) {
  EXPECT_EQ(chat_->size(), 3u);
  EXPECT_EQ(chat_->deployment(2).key, "c/y");
  EXPECT_EQ(chat_->balancer().kind(), BalancerKind::kRoundRobin);
  EXPECT_EQ(solo_->size(), 1u);
  EXPECT_EQ(solo_->deployment(0).upstream_model, "solo");
  // A model of another snapshot has no group here.
  auto other = LoadOkWithoutFilters(kThree);
  EXPECT_EQ(runtime_->Group(*other->models[0]), nullptr);
}

TEST_F(ModelGroupTest, ExcludesTriedDeploymentsUntilNoneIsLeft) {
  DeploymentMask tried;
  std::set<size_t> seen;
  for (int i = 0; i < 3; ++i) {
    auto ticket = chat_->Begin(tried, 0, random_, clock_.Now());
    ASSERT_TRUE(ticket);
    EXPECT_TRUE(seen.insert(ticket->index).second) << "picked a tried deployment";
    tried.Set(ticket->index);
    chat_->End(*ticket, AttemptResult::kServerError, clock_.Now(), milliseconds(5));
  }
  EXPECT_FALSE(chat_->Begin(tried, 0, random_, clock_.Now()));
}

TEST_F(ModelGroupTest, CountsAttemptsInFlight) {
  auto ticket = chat_->Begin({}, 0, random_, clock_.Now());
  ASSERT_TRUE(ticket);
  EXPECT_EQ(chat_->state(ticket->index).stats.InFlight(), 1);
  chat_->End(*ticket, AttemptResult::kSuccess, clock_.Now(), milliseconds(5));
  EXPECT_EQ(chat_->state(ticket->index).stats.InFlight(), 0);
}

TEST_F(ModelGroupTest, EjectsAFailingDeploymentAndTakesItBackAfterTheEjectionTime) {
  // Round robin spreads evenly; deployment 0 fails twice in a row and is ejected.
  for (int i = 0; i < 2; ++i) {
    DeploymentMask others;
    others.Set(1);
    others.Set(2);
    auto ticket = chat_->Begin(others, 0, random_, clock_.Now());
    ASSERT_TRUE(ticket);
    ASSERT_EQ(ticket->index, 0u);
    chat_->End(*ticket, AttemptResult::kServerError, clock_.Now(), milliseconds(5));
  }
  EXPECT_TRUE(chat_->group_state().outliers.IsEjected(0));
  auto counts = PickMany(60);
  EXPECT_EQ(counts[0], 0) << "an ejected deployment was picked";
  EXPECT_EQ(counts[1] + counts[2], 60);
  clock_.Advance(seconds(11));
  counts = PickMany(60);
  EXPECT_GT(counts[0], 0) << "the deployment did not come back after its ejection";
}

TEST_F(ModelGroupTest, AnOpenBreakerIsSkippedAndHalfOpenAdmitsOneProbe) {
  // Ejection off for this deployment's streak: failures alternate with neutral outcomes so
  // only the breaker (3 consecutive failures; neutral does not reset) reacts.
  DeploymentState& a = chat_->state(0);
  for (int i = 0; i < 3; ++i) {
    auto permit = a.breaker.TryAcquire();
    ASSERT_TRUE(permit);
    a.breaker.OnFailure(*permit);
  }
  EXPECT_EQ(a.breaker.state(), BreakerState::kOpen);
  auto counts = PickMany(30);
  EXPECT_EQ(counts[0], 0);
  clock_.Advance(seconds(6));  // past open_duration: half-open, one probe
  DeploymentMask others;
  others.Set(1);
  others.Set(2);
  auto probe = chat_->Begin(others, 0, random_, clock_.Now());
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->index, 0u);
  EXPECT_FALSE(chat_->Begin(others, 0, random_, clock_.Now())) << "a second probe was admitted";
  chat_->End(*probe, AttemptResult::kSuccess, clock_.Now(), milliseconds(5));
  EXPECT_EQ(a.breaker.state(), BreakerState::kClosed);
}

TEST_F(ModelGroupTest, NeutralOutcomesNeitherTripNorEject) {
  PickMany(60, AttemptResult::kRateLimited);
  PickMany(60, AttemptResult::kClientError);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(chat_->state(i).breaker.state(), BreakerState::kClosed);
    EXPECT_FALSE(chat_->group_state().outliers.IsEjected(i));
  }
  // 429s still count as failures for the error rate the balancers read.
  EXPECT_GT(chat_->state(0).stats.RecentOutcomes(clock_.Now()).failures, 0u);
}

TEST_F(ModelGroupTest, OneDeploymentGroupsUseTheirOnlyDeploymentUntilItsBreakerOpens) {
  auto ticket = solo_->Begin({}, 0, random_, clock_.Now());
  ASSERT_TRUE(ticket);
  EXPECT_EQ(ticket->index, 0u);
  DeploymentMask tried;
  tried.Set(0);
  EXPECT_FALSE(solo_->Begin(tried, 0, random_, clock_.Now()));
  solo_->End(*ticket, AttemptResult::kServerError, clock_.Now(), milliseconds(5));
  for (int i = 0; i < 2; ++i) {
    auto t = solo_->Begin({}, 0, random_, clock_.Now());
    ASSERT_TRUE(t);
    solo_->End(*t, AttemptResult::kServerError, clock_.Now(), milliseconds(5));
  }
  EXPECT_FALSE(solo_->Begin({}, 0, random_, clock_.Now())) << "breaker open: no deployment";
}

TEST_F(ModelGroupTest, ARebuiltTableKeepsTheLiveStateOfUnchangedDeploymentsAndGroups) {
  RoutingRegistry& registry = runtime_->registry();
  DeploymentState* before = &chat_->state(0);
  GroupState* group_before = &chat_->group_state();
  // The same file again (a reload that changed nothing), and one with c's breaker changed.
  auto same = LoadOkWithoutFilters(kThree);
  std::string error;
  auto table = RoutingTable::Build(same, registry, error);
  ASSERT_NE(table, nullptr) << error;
  const ModelGroup* chat = table->Group(*same->models[0]);
  ASSERT_NE(chat, nullptr);
  EXPECT_EQ(&chat->state(0), before);
  EXPECT_EQ(&chat->group_state(), group_before);
  // "solo" reuses deployment a/solo; chat's a/x is a different deployment.
  EXPECT_NE(&table->Group(*same->models[1])->state(0), before);

  std::string changed = kThree;
  changed.replace(changed.find("consecutive_failures: 3"), 23, "consecutive_failures: 4");
  auto other = LoadOkWithoutFilters(changed);
  auto table2 = RoutingTable::Build(other, registry, error);
  ASSERT_NE(table2, nullptr) << error;
  EXPECT_NE(&table2->Group(*other->models[0])->state(0), before)
      << "new breaker settings need a new breaker";
  EXPECT_EQ(registry.deployment_count(), 4u);  // a/x, b/x, c/y, a/solo: replaced in place
  registry.Prune();
  EXPECT_EQ(registry.deployment_count(), 4u) << "table2 still uses them";
  table.reset();
  table2.reset();
  registry.Prune();  // only the runtime's table is left, and it holds the replaced ones
  EXPECT_EQ(registry.deployment_count(), 0u);
  EXPECT_EQ(&chat_->state(0), before) << "a table keeps its state alive";
}

TEST(ModelGroupHash, HashesTheConfiguredKeyOrTheClientAddress) {
  auto snapshot = LoadOkWithoutFilters(
      "backends:\n  - {name: a, url: 'http://127.0.0.1:1'}\n"
      "  - {name: b, url: 'http://127.0.0.1:2'}\n"
      "models:\n"
      "  - name: sticky\n"
      "    balancer: maglev\n"
      "    hash_key: header:X-Session\n"
      "    deployments: [{backend: a}, {backend: b}]\n");
  ASSERT_NE(snapshot, nullptr);
  ManualClock clock;
  std::string error;
  auto runtime = RoutingRuntime::Create(snapshot, clock, error);
  ASSERT_NE(runtime, nullptr) << error;
  const ModelGroup* group = runtime->Group(*snapshot->models[0]);
  ASSERT_TRUE(group->uses_key_hash());

  HttpRequest request;
  request.headers.Add("x-session", "s-1");
  RequestContext ctx;
  ctx.Begin(request, snapshot.get(), nullptr, clock.Now(), clock.WallNow());
  ctx.client_ip = "10.0.0.1";
  EXPECT_EQ(group->KeyHash(ctx), StableHash64("s-1"));
  HttpRequest bare;
  ctx.Begin(bare, snapshot.get(), nullptr, clock.Now(), clock.WallNow());
  ctx.client_ip = "10.0.0.1";
  EXPECT_EQ(group->KeyHash(ctx), StableHash64("10.0.0.1"));
}

// Active health checks: a deployment whose backend is unhealthy is skipped; when every
// deployment's backend is, health is ignored (like panic) rather than refusing everything.
TEST(ModelGroupHealth, UnhealthyBackendsAreSkippedUnlessAllAre) {
  auto snapshot = LoadOkWithoutFilters(
      "routing:\n"
      "  health_check: {unhealthy_threshold: 1, healthy_threshold: 1}\n"
      "backends:\n"
      "  - {name: a, url: 'http://127.0.0.1:1'}\n"
      "  - {name: b, url: 'http://127.0.0.1:2'}\n"
      "  - {name: c, url: 'http://127.0.0.1:3', health_check: false}\n"
      "models:\n"
      "  - name: ab\n"
      "    balancer: round_robin\n"
      "    deployments: [{backend: a}, {backend: b}]\n"
      "  - name: abc\n"
      "    balancer: round_robin\n"
      "    deployments: [{backend: a}, {backend: b}, {backend: c}]\n");
  ASSERT_NE(snapshot, nullptr);
  ManualClock clock;
  Xoshiro256 random(5);
  std::string error;
  auto runtime = RoutingRuntime::Create(snapshot, clock, error);
  ASSERT_NE(runtime, nullptr) << error;
  const ModelGroup& ab = *runtime->Group(*snapshot->models[0]);
  const ModelGroup& abc = *runtime->Group(*snapshot->models[1]);
  ASSERT_EQ(abc.health(2), nullptr);
  auto picks = [&](const ModelGroup& group, const DeploymentMask& tried = {}) {
    std::set<size_t> picked;
    for (int i = 0; i < 12; ++i) {
      auto ticket = group.Begin(tried, 0, random, clock.Now());
      if (!ticket) continue;
      picked.insert(ticket->index);
      group.End(*ticket, AttemptResult::kSuccess, clock.Now(), milliseconds(1));
    }
    return picked;
  };
  auto set_health = [&](BackendHealth* health, bool ok) {
    health->Record(ok, ok ? "" : "status 503", clock.WallNow());
  };
  EXPECT_EQ(picks(ab), (std::set<size_t>{0, 1})) << "unknown counts as healthy";

  set_health(ab.health(0), false);
  EXPECT_EQ(picks(ab), (std::set<size_t>{1}));
  EXPECT_EQ(picks(abc), (std::set<size_t>{1, 2})) << "a's health is shared by both groups";
  DeploymentMask tried_b;
  tried_b.Set(1);
  EXPECT_EQ(picks(ab, tried_b), std::set<size_t>{})
      << "a retry does not fall back to an unhealthy deployment while another is healthy";

  set_health(ab.health(1), false);
  EXPECT_EQ(picks(ab), (std::set<size_t>{0, 1})) << "all unhealthy: health is ignored";
  EXPECT_EQ(picks(abc), (std::set<size_t>{2})) << "c (no check) is healthy: only c";

  set_health(ab.health(0), true);
  EXPECT_EQ(picks(ab), (std::set<size_t>{0}));
}

}  // namespace
}  // namespace sluice::routing
