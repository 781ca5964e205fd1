// Micro-benchmarks of issue 5's routing building blocks: one Pick per balancer kind with 3
// and 100 deployments (consistent hashing on pre-hashed keys), the per-attempt bookkeeping
// (live stats, breaker permit, outlier report), and "routing cost per request with 1 and
// 100 model groups": the real path of one attempt (model lookup by name in a Snapshot, its
// ModelGroup, retry-budget count, Begin/End). Single-threaded.
// Run: sluice-micro --benchmark_filter='Pick|Route|Attempt'
#include <benchmark/benchmark.h>

#include <deque>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/loader.h"
#include "filters/registry.h"
#include "routing/balancer.h"
#include "routing/circuit_breaker.h"
#include "routing/deployment_stats.h"
#include "routing/model_group.h"
#include "routing/outlier_detector.h"
#include "routing/retry_budget.h"
#include "routing/routing_runtime.h"
#include "routing/stable_hash.h"

namespace sluice::bench {
namespace {

using routing::BalancerKind;
using std::chrono::milliseconds;

const SteadyTime kNow = SteadyTime(std::chrono::hours(1));

// n deployments with live stats in a plausible state: EWMAs of 100..199 ms, 0..4 in flight.
struct BenchGroup {
  BenchGroup(BalancerKind kind, size_t n) : stats(n) {
    for (size_t i = 0; i < n; ++i) {
      names.push_back("deployment-" + std::to_string(i));
      stats[i].ObserveLatency(kNow, milliseconds(100 + static_cast<int>(i % 100)));
      for (size_t k = 0; k < i % 5; ++k) stats[i].OnAttemptStart();
    }
    std::vector<routing::BalancerTarget> targets;
    for (size_t i = 0; i < n; ++i) {
      targets.push_back({names[i], static_cast<uint32_t>(1 + i % 3), &stats[i]});
    }
    balancer = std::move(routing::MakeBalancer(kind, targets).balancer);
  }
  std::deque<std::string> names;
  std::deque<routing::DeploymentStats> stats;
  std::unique_ptr<routing::Balancer> balancer;
};

void BM_Pick(benchmark::State& state, BalancerKind kind) {
  BenchGroup group(kind, static_cast<size_t>(state.range(0)));
  std::vector<uint64_t> keys;
  for (int i = 0; i < 4096; ++i) keys.push_back(routing::StableHash64("user-" + std::to_string(i)));
  Xoshiro256 random(1);
  routing::PickInput in{.random = &random, .now = kNow};
  size_t k = 0;
  for (auto _ : state) {
    in.key_hash = keys[k++ & 4095];
    benchmark::DoNotOptimize(group.balancer->Pick(in));
  }
}
BENCHMARK_CAPTURE(BM_Pick, round_robin, BalancerKind::kRoundRobin)->Arg(3)->Arg(100);
BENCHMARK_CAPTURE(BM_Pick, weighted_round_robin, BalancerKind::kWeightedRoundRobin)
    ->Arg(3)
    ->Arg(100);
BENCHMARK_CAPTURE(BM_Pick, random, BalancerKind::kRandom)->Arg(3)->Arg(100);
BENCHMARK_CAPTURE(BM_Pick, least_outstanding, BalancerKind::kLeastOutstanding)->Arg(3)->Arg(100);
BENCHMARK_CAPTURE(BM_Pick, p2c_ewma, BalancerKind::kP2cEwma)->Arg(3)->Arg(100);
BENCHMARK_CAPTURE(BM_Pick, ring_hash, BalancerKind::kRingHash)->Arg(3)->Arg(100);
BENCHMARK_CAPTURE(BM_Pick, maglev, BalancerKind::kMaglev)->Arg(3)->Arg(100);

// A retry: the deployment tried first is excluded (slow paths of every balancer).
void BM_PickRetry(benchmark::State& state, BalancerKind kind) {
  BenchGroup group(kind, static_cast<size_t>(state.range(0)));
  Xoshiro256 random(1);
  routing::PickInput in{.random = &random, .now = kNow};
  uint64_t key = 0;
  for (auto _ : state) {
    in.key_hash = routing::MixHash64(++key, 0);
    in.excluded.Clear();
    in.excluded.Set(key % group.stats.size());
    benchmark::DoNotOptimize(group.balancer->Pick(in));
  }
}
BENCHMARK_CAPTURE(BM_PickRetry, p2c_ewma, BalancerKind::kP2cEwma)->Arg(3)->Arg(100);
BENCHMARK_CAPTURE(BM_PickRetry, ring_hash, BalancerKind::kRingHash)->Arg(3)->Arg(100);
BENCHMARK_CAPTURE(BM_PickRetry, maglev, BalancerKind::kMaglev)->Arg(3)->Arg(100);

// Routing cost per request, as UpstreamExchange::ServeGroup pays it for a request that
// succeeds on its first attempt: the model looked up by name in a real Snapshot
// (Snapshot::FindModel, what resolution does once the body's "model" is read), its group in
// the request's RoutingTable, the retry budget's request count, Begin (exclusions from
// breakers and ejections, the P2C-EWMA pick among 3 deployments, breaker permit, stats
// start), End (stats with the latency, breaker, outlier report) and the two clock reads the
// proxy takes around the attempt. range(0) = model groups in the config (1 or 100);
// requests cycle over all of them.
void BM_RouteLookupAndPick(benchmark::State& state) {
  const auto groups = static_cast<size_t>(state.range(0));
  std::string yaml =
      "server: {listen: 127.0.0.1:0, workers: 1}\nbackends:\n"
      "  - {name: a, url: http://127.0.0.1:9/v1}\n  - {name: b, url: http://127.0.0.1:10/v1}\n"
      "  - {name: c, url: http://127.0.0.1:11/v1}\nmodels:\n";
  std::vector<std::string> requested;
  for (size_t g = 0; g < groups; ++g) {
    std::string name = "org-model-" + std::to_string(g) + "-2024-07-18";
    yaml += "  - name: " + name + "\n    balancer: p2c_ewma\n    deployments:\n";
    for (const char* backend : {"a", "b", "c"}) {
      yaml += "      - {backend: " + std::string(backend) + ", upstream_model: " + name + "}\n";
    }
    requested.push_back(std::move(name));
  }
  yaml += "filters:\n  - request_id: {}\n";
  filters::Registry catalog;
  LoadResult loaded = LoadConfigText(yaml, "routing-bench.yaml", catalog);
  if (!loaded.snapshot) {
    for (const std::string& e : loaded.errors) std::cerr << e << '\n';
    state.SkipWithError("config did not load");
    return;
  }
  routing::RoutingRegistry registry(SystemClock::Instance());
  std::string error;
  auto table = routing::RoutingTable::Build(loaded.snapshot, registry, error);
  if (!table) {
    state.SkipWithError(error.c_str());
    return;
  }
  const Snapshot& snapshot = *loaded.snapshot;
  Xoshiro256 random(1);
  size_t r = 0;
  uint64_t failed = 0;
  for (auto _ : state) {
    const std::string_view model_name = requested[r];
    if (++r == requested.size()) r = 0;
    const ModelConfig* model = snapshot.FindModel(model_name);
    const routing::ModelGroup* group = table->Group(*model);
    routing::RetryBudget::RequestScope in_flight(group->group_state().budget);
    routing::DeploymentMask tried;
    const SteadyTime now = std::chrono::steady_clock::now();
    std::optional<routing::AttemptTicket> ticket = group->Begin(tried, 0, random, now);
    if (!ticket) {
      ++failed;
      continue;
    }
    tried.Set(ticket->index);
    const SteadyTime ended = std::chrono::steady_clock::now();
    // Deployments answer in 100, 110 and 120 ms: the EWMAs differ, as they do in production.
    group->End(*ticket, routing::AttemptResult::kSuccess, ended,
               milliseconds(100 + 10 * static_cast<int>(ticket->index)));
    benchmark::DoNotOptimize(tried);
  }
  if (failed != 0) state.SkipWithError("a request found no deployment");
}
BENCHMARK(BM_RouteLookupAndPick)->Arg(1)->Arg(100);

// What one attempt adds around the pick: stats start/end, breaker permit and outcome,
// outlier report (all on a healthy deployment: the steady state).
void BM_AttemptBookkeeping(benchmark::State& state) {
  routing::DeploymentStats stats;
  routing::CircuitBreaker breaker(SystemClock::Instance(), {});
  routing::OutlierDetector outliers(SystemClock::Instance(), 3, {});
  SteadyTime now = kNow;
  for (auto _ : state) {
    const auto permit = breaker.TryAcquire();
    stats.OnAttemptStart();
    now += std::chrono::microseconds(100);
    stats.OnAttemptEnd(now, milliseconds(120), false);
    breaker.OnSuccess(*permit);
    benchmark::DoNotOptimize(outliers.Report(1, routing::AttemptOutcome::kSuccess));
  }
}
BENCHMARK(BM_AttemptBookkeeping);

}  // namespace
}  // namespace sluice::bench
