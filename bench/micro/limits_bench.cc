// Micro-benchmarks of the in-process limiter store (limits/local_limiter_store): one
// decision with 1 rate check on an existing counter, with 3 checks (requests, tokens,
// concurrency), over 10,000 distinct counters, and 4 threads contending on one counter.
// Time advances 1 µs per decision so every decision is admitted (the steady state).
// Run: sluice-micro --benchmark_filter=Limiter (single-check target: <= 100 ns, Release).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "limits/check_builders.h"
#include "limits/local_limiter_store.h"

namespace sluice::bench {
namespace {

using limits::Check;
using limits::CounterKind;
using limits::RateCheck;

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kStart = 1'790'000'000 * kSecond;

void BM_LimiterOneRateCheck(benchmark::State& state) {
  limits::LocalLimiterStore store;
  const std::vector<Check> checks{RateCheck("sl:{key:key_ab12cd34}:p3:rpm", 1'000'000, kSecond, 1)};
  int64_t now = kStart;
  int64_t refused = 0;
  for (auto _ : state) {
    const auto d = store.AcquireNow(checks, ++now);
    refused += !d->allowed;
    benchmark::DoNotOptimize(d);
  }
  state.counters["refused"] = static_cast<double>(refused);
}
BENCHMARK(BM_LimiterOneRateCheck);

void BM_LimiterThreeChecks(benchmark::State& state) {
  limits::LocalLimiterStore store;
  Check concurrency;
  concurrency.key = "sl:{key:key_ab12cd34}:p3:inflight";
  concurrency.kind = CounterKind::kConcurrency;
  concurrency.limit = int64_t{1} << 60;
  concurrency.amount = 1;
  const std::vector<Check> checks{
      RateCheck("sl:{key:key_ab12cd34}:p3:rpm", 1'000'000, kSecond, 1),
      RateCheck("sl:{team:team_9f}:p4:tpm", 60'000'000'000, 60 * kSecond, 500), concurrency};
  int64_t now = kStart;
  int64_t refused = 0;
  for (auto _ : state) {
    const auto d = store.AcquireNow(checks, ++now);
    refused += !d->allowed;
    benchmark::DoNotOptimize(d);
  }
  state.counters["refused"] = static_cast<double>(refused);
}
BENCHMARK(BM_LimiterThreeChecks);

void BM_LimiterTenThousandCounters(benchmark::State& state) {
  limits::LocalLimiterStore store;
  std::vector<std::vector<Check>> keys;
  for (int i = 0; i < 10'000; ++i) {
    keys.push_back(
        {RateCheck("sl:{key:key_" + std::to_string(i) + "}:p3:rpm", 1'000'000, kSecond, 1)});
    store.AcquireNow(keys.back(), kStart);
  }
  int64_t now = kStart + kSecond;
  size_t i = 0;
  int64_t refused = 0;
  for (auto _ : state) {
    const auto d = store.AcquireNow(keys[i], ++now);
    refused += !d->allowed;
    benchmark::DoNotOptimize(d);
    if (++i == keys.size()) i = 0;
  }
  state.counters["refused"] = static_cast<double>(refused);
  state.counters["counters"] = static_cast<double>(store.size());
}
BENCHMARK(BM_LimiterTenThousandCounters);

// 4 threads, one counter: the CAS loop under contention. Every thread's clock advances; a
// refusal is a decision too (counted), so the figure is the cost of deciding, not admitting.
std::unique_ptr<limits::LocalLimiterStore> g_shared_store;

void MakeSharedStore(const benchmark::State&) {
  g_shared_store = std::make_unique<limits::LocalLimiterStore>();
}
void DropSharedStore(const benchmark::State&) { g_shared_store.reset(); }

void BM_LimiterContendedFourThreads(benchmark::State& state) {
  const std::vector<Check> checks{RateCheck("sl:{key:hot}:p1:rps", 1'000'000, kSecond, 1)};
  int64_t now = kStart;
  int64_t refused = 0;
  for (auto _ : state) {
    const auto d = g_shared_store->AcquireNow(checks, ++now);
    refused += !d->allowed;
    benchmark::DoNotOptimize(d);
  }
  state.counters["refused"] = benchmark::Counter(static_cast<double>(refused));
}
BENCHMARK(BM_LimiterContendedFourThreads)
    ->Threads(4)
    ->UseRealTime()
    ->Setup(MakeSharedStore)
    ->Teardown(DropSharedStore);

}  // namespace
}  // namespace sluice::bench
