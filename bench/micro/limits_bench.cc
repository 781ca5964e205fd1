// Micro-benchmarks of traffic control: the in-process limiter store
// (limits/local_limiter_store) — one decision with 1 rate check on an existing counter, with
// 3 checks (requests, tokens, concurrency), over 10,000 distinct counters, and 4 threads
// contending on one counter (time advances 1 µs per decision so every decision is admitted:
// the steady state) — and the rate_limit filter's whole per-request path (plan, decision,
// headers, settlement) as the server runs it.
// Run: sluice-micro --benchmark_filter='Limiter|RateLimitFilter' (single-check target:
// <= 100 ns, Release).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bench/micro/bench_data.h"
#include "config/loader.h"
#include "core/principal.h"
#include "core/services.h"
#include "filters/rate_limit/rate_limit_filter.h"
#include "filters/registry.h"
#include "http/http_parser.h"
#include "limits/check_builders.h"
#include "limits/limits_runtime.h"
#include "limits/local_limiter_store.h"
#include "routing/model_resolver.h"

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

// --- The rate_limit filter's whole per-request path --------------------------------------
//
// What enabling local limits adds to one model request, measured the way the server runs
// it: a filter from RateLimitFilterFactory (one per request, as ChainRun creates it) on a
// parsed ~0.9 KB chat request of an API-key principal, with the per-key policy of
// config/sluice.yaml (`make run`: 600 requests/min burst 100, 2M tokens/min, 64 in flight,
// $50/day): OnRequestNow (token estimate, counter names, the decision), OnResponseHead
// (x-ratelimit-* headers) and OnComplete (settlement with the real usage). The request's
// wall clock advances 1 s per iteration, so every request is admitted (the steady state:
// the counters exist; a new day's budget counter is created every 86,400 iterations).
// BM_RateLimitFilterHarness runs the same loop around an inert filter: subtract it.
// Run: sluice-micro --benchmark_filter=RateLimitFilter

constexpr std::string_view kLimitsConfig = R"(
server:
  listen: 127.0.0.1:0
  workers: 1
backends:
  - name: mock
    url: http://127.0.0.1:9/v1
models:
  - name: gpt-4o-mini
    aliases: [default]
    backend: mock
    upstream_model: gpt-4o-mini-2024-07-18
    price: {input: 0.15, output: 0.60, cached_input: 0.075}
filters:
  - request_id: {}
limits:
  timezone: UTC
  policies:
    - name: per-key
      per: [key]
      requests: {limit: 600, per: minute, burst: 100}
      tokens: {limit: 2000000, per: minute}
      concurrency: 64
      budget: {usd: 50, per: day}
)";

// Everything the filter needs, built once as the server builds it (OpenRuntime).
struct LimitsWorld {
  LimitsWorld() : text(ChatRequestHead() + ChatBody()) {
    filters::Registry registry;
    LoadResult result = LoadConfigText(kLimitsConfig, "bench.yaml", registry);
    if (!result.snapshot) {
      for (const std::string& e : result.errors) std::cerr << e << '\n';
      std::abort();
    }
    snapshot = result.snapshot;
    std::string error;
    runtime = limits::LimitsRuntime::Create(snapshot->limits, error);
    if (!runtime) {
      std::cerr << "limits: " << error << '\n';
      std::abort();
    }
    services.limits = runtime.get();
    factory = std::make_unique<filters::RateLimitFilterFactory>(&services);
    HeadLimits head_limits;
    ParseError parse_error;
    const size_t head_size = ChatRequestHead().size();
    ParseRequestHead(std::string_view(text).substr(0, head_size), head_limits, request,
                     parse_error);
    request.body = std::string_view(text).substr(head_size);
    auto key = std::make_shared<Principal>();
    key->kind = Principal::Kind::kApiKey;
    key->key_id = "key_3f9a0c2d7e1b4a6c8d0e2f4a";  // NewId("key"): 4 + 24 characters
    key->id = "key:" + key->key_id;
    key->user_id = "usr_0b1c2d3e4f5a6b7c8d9e0f1a";
    key->tier = "standard";
    principal = std::move(key);
  }
  std::shared_ptr<const Snapshot> snapshot;
  std::unique_ptr<limits::LimitsRuntime> runtime;
  Services services;
  std::unique_ptr<filters::RateLimitFilterFactory> factory;
  std::string text;
  HttpRequest request;
  std::shared_ptr<const Principal> principal;
};

// The loop of BM_RateLimitFilterRequest around a filter that does nothing (the factory
// without a limits runtime, as `sluice config check` builds it): the harness's own cost,
// to subtract. `with_limits` selects the real filter.
void RunFilterLoop(benchmark::State& state, bool with_limits) {
  LimitsWorld world;
  const Services no_services;
  const filters::RateLimitFilterFactory inert(&no_services);
  const FilterFactory& factory = with_limits ? *world.factory : inert;
  RequestContext ctx;  // reused across iterations, as a keep-alive session reuses it
  const SteadyTime t0 = std::chrono::steady_clock::now();
  WallTime wall = std::chrono::system_clock::now();
  ctx.Begin(world.request, world.snapshot.get(), &ModelTableResolver::Instance(), t0, wall);
  ctx.route = RouteKind::kChatCompletions;
  ctx.client_ip = "10.1.2.3";
  ctx.principal = world.principal;
  if (ctx.Model() == nullptr || ctx.JsonBody() == nullptr) {
    state.SkipWithError("model not resolved");
    return;
  }
  int64_t refused = 0;
  size_t header_bytes = 0;
  for (auto _ : state) {
    wall += std::chrono::seconds(1);
    ctx.wall_start = wall;
    ctx.start = std::chrono::steady_clock::now();
    ctx.upstream_sent = ctx.end = SteadyTime{};
    ctx.usage = Usage{};
    ResponseHead head;  // per response, as UpstreamExchange holds it
    std::unique_ptr<Filter> filter = factory.NewFilter();
    std::optional<Verdict> verdict = filter->OnRequestNow(ctx);
    refused += verdict && !verdict->is_continue();
    ctx.upstream_sent = ctx.start;
    ctx.usage = Usage{187, 240, 427, 0, true};
    filter->OnResponseHead(ctx, head);
    ctx.end = ctx.start + std::chrono::microseconds(900);  // the session sets it, then completes
    filter->OnComplete(ctx);
    benchmark::DoNotOptimize(head.headers.wire().data());
    header_bytes = head.headers.wire().size();
  }
  state.counters["refused"] = static_cast<double>(refused);
  state.counters["headers_bytes"] = static_cast<double>(header_bytes);
}

void BM_RateLimitFilterRequest(benchmark::State& state) { RunFilterLoop(state, true); }
BENCHMARK(BM_RateLimitFilterRequest);

void BM_RateLimitFilterHarness(benchmark::State& state) { RunFilterLoop(state, false); }
BENCHMARK(BM_RateLimitFilterHarness);

}  // namespace
}  // namespace sluice::bench
