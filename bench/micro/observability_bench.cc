// Micro-benchmarks of issue 6's per-request metrics cost: WorkerMetrics::Observe of the sample
// RecordRequestMetrics builds for a finished request (route, model, backend, status,
// durations, usage and cost), for a label set seen before on this thread (the steady state:
// a hash lookup and relaxed counter stores, no lock, no allocation), a stream (two more
// histograms), with tenant labels (team and key hashed too), and cycling over 100 label
// sets (cache misses). Single-threaded, as a worker is.
// Run: sluice-micro --benchmark_filter=WorkerMetrics
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "observability/worker_metrics.h"

namespace sluice::bench {
namespace {

// A buffered chat completion as RecordRequestMetrics fills it in: 200, ~1.2 ms in all of
// which ~1 ms upstream, 180 prompt and 240 completion tokens, a price.
RequestSample ChatSample(std::string_view model, std::string_view backend, int64_t jitter) {
  RequestSample sample;
  sample.route = RouteKind::kChatCompletions;
  sample.model = model;
  sample.backend = backend;
  sample.status = 200;
  sample.duration_ns = 1'200'000 + jitter;
  sample.upstream_ns = 1'000'000 + jitter / 2;
  sample.input_tokens = 180;
  sample.output_tokens = 240;
  sample.cached_tokens = 0;
  sample.cost_micro_usd = 171;
  return sample;
}

void BM_WorkerMetricsObserve(benchmark::State& state) {
  WorkerMetrics metrics(2000, 1);
  int64_t jitter = 0;
  for (auto _ : state) {
    RequestSample sample = ChatSample("gpt-4o-mini", "mock", jitter);
    jitter = (jitter + 7919) & 0xffff;  // durations move across a few buckets
    metrics.Observe(sample);
  }
  benchmark::DoNotOptimize(&metrics);
}
BENCHMARK(BM_WorkerMetricsObserve);

void BM_WorkerMetricsObserveStream(benchmark::State& state) {
  WorkerMetrics metrics(2000, 1);
  int64_t jitter = 0;
  for (auto _ : state) {
    RequestSample sample = ChatSample("gpt-4o-mini", "mock", jitter);
    sample.duration_ns = 1'300'000'000 + jitter;
    sample.upstream_ns = 2'000'000;  // a stream's upstream time is the wait for its head
    sample.time_to_first_token_ns = 20'000'000 + jitter;
    sample.time_per_output_token_ns = 20'000'000;
    jitter = (jitter + 7919) & 0xffff;
    metrics.Observe(sample);
  }
  benchmark::DoNotOptimize(&metrics);
}
BENCHMARK(BM_WorkerMetricsObserveStream);

void BM_WorkerMetricsObserveTenantLabels(benchmark::State& state) {
  WorkerMetrics metrics(2000, 1);
  int64_t jitter = 0;
  for (auto _ : state) {
    RequestSample sample = ChatSample("gpt-4o-mini", "mock", jitter);
    sample.team = "team-platform-engineering";
    sample.key = "key_01JDX3Q9M6W8Z2";
    jitter = (jitter + 7919) & 0xffff;
    metrics.Observe(sample);
  }
  benchmark::DoNotOptimize(&metrics);
}
BENCHMARK(BM_WorkerMetricsObserveTenantLabels);

// Requests cycling over state.range(0) models: every label set was seen before, but their
// cells no longer all fit in the L1 cache.
void BM_WorkerMetricsObserveLabelSets(benchmark::State& state) {
  WorkerMetrics metrics(2000, 1);
  std::vector<std::string> models;
  for (int64_t i = 0; i < state.range(0); ++i) models.push_back("model-" + std::to_string(i));
  size_t next = 0;
  int64_t jitter = 0;
  for (auto _ : state) {
    RequestSample sample = ChatSample(models[next], "mock", jitter);
    next = next + 1 == models.size() ? 0 : next + 1;
    jitter = (jitter + 7919) & 0xffff;
    metrics.Observe(sample);
  }
  benchmark::DoNotOptimize(&metrics);
}
BENCHMARK(BM_WorkerMetricsObserveLabelSets)->Arg(100);

}  // namespace
}  // namespace sluice::bench
