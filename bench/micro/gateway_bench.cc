// Micro-benchmarks of the per-request gateway work above the wire: route matching, request
// JSON parse + model rewrite + re-serialisation (BuildUpstreamBody) and the access-log
// line. Uses a real Snapshot loaded from YAML. Single-threaded; run with sluice-micro.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>

#include "bench/micro/bench_data.h"
#include "config/loader.h"
#include "filters/access_log/access_log_filter.h"
#include "filters/registry.h"
#include "http/http_parser.h"
#include "providers/openai/upstream_request.h"
#include "routing/model_resolver.h"
#include "routing/router.h"

namespace sluice::bench {
namespace {

constexpr std::string_view kConfig = R"(
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
  - name: gpt-4o
    backend: mock
filters:
  - request_id: {}
)";

std::shared_ptr<const Snapshot> LoadSnapshot() {
  filters::Registry registry;
  LoadResult result = LoadConfigText(kConfig, "bench.yaml", registry);
  if (!result.snapshot) {
    for (const std::string& e : result.errors) std::cerr << e << '\n';
    std::abort();
  }
  return result.snapshot;
}

// A parsed chat request whose body views stay valid for the whole benchmark.
struct ParsedRequest {
  ParsedRequest() : text(ChatRequestHead() + ChatBody()) {
    HeadLimits limits;
    ParseError error;
    size_t head_size = ChatRequestHead().size();
    ParseRequestHead(std::string_view(text).substr(0, head_size), limits, request, error);
    request.body = std::string_view(text).substr(head_size);
  }
  std::string text;
  HttpRequest request;
};

void BM_MatchRoute(benchmark::State& state) {
  static constexpr std::pair<Method, std::string_view> kPaths[] = {
      {Method::kPost, "/v1/chat/completions"},
      {Method::kPost, "/v1/embeddings"},
      {Method::kGet, "/v1/models"},
      {Method::kGet, "/v1/models/gpt-4o-mini"},
      {Method::kGet, "/health/ready"},
      {Method::kPost, "/v1/unknown"},
  };
  for (auto _ : state) {
    for (const auto& [method, path] : kPaths) {
      RouteMatch match = MatchRoute(method, path);
      benchmark::DoNotOptimize(match.kind);
    }
  }
  state.SetItemsProcessed(state.iterations() * 6);
}
BENCHMARK(BM_MatchRoute);

// Parse the body, resolve the model, rewrite it to the upstream name, serialise.
void BM_BuildUpstreamBody(benchmark::State& state) {
  auto snapshot = LoadSnapshot();
  ParsedRequest parsed;
  RequestContext ctx;  // reused across iterations, as a keep-alive session reuses it
  std::string out;
  for (auto _ : state) {
    ctx.Begin(parsed.request, snapshot.get(), &ModelTableResolver::Instance(), SteadyTime{},
              WallTime{});
    ctx.route = RouteKind::kChatCompletions;
    const ModelConfig* model = ctx.Model();
    if (model == nullptr) {
      state.SkipWithError("model not resolved");
      break;
    }
    BuildUpstreamBody(ctx, *model, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * ChatBody().size()));
}
BENCHMARK(BM_BuildUpstreamBody);

void BM_FormatAccessLogLine(benchmark::State& state) {
  auto snapshot = LoadSnapshot();
  ParsedRequest parsed;
  RequestContext ctx;
  SteadyTime t0 = std::chrono::steady_clock::now();
  ctx.Begin(parsed.request, snapshot.get(), &ModelTableResolver::Instance(), t0,
            std::chrono::system_clock::now());
  ctx.route = RouteKind::kChatCompletions;
  ctx.Model();
  ctx.request_id = "req_01J0Z7Q3X9K2M4N6P8R0T2V4W6";
  ctx.client_ip = "10.1.2.3";
  ctx.status = ctx.upstream_status = 200;
  ctx.backend = "mock";
  ctx.upstream_model = "gpt-4o-mini-2024-07-18";
  ctx.upstream_sent = t0 + std::chrono::microseconds(40);
  ctx.upstream_first_byte = t0 + std::chrono::microseconds(900);
  ctx.first_byte_sent = t0 + std::chrono::microseconds(950);
  ctx.end = t0 + std::chrono::microseconds(1000);
  ctx.bytes_out = 1400;
  ctx.usage = Usage{187, 240, 427, 0, true};
  std::string line;
  for (auto _ : state) {
    filters::FormatAccessLogLine(ctx, line);
    benchmark::DoNotOptimize(line.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}
BENCHMARK(BM_FormatAccessLogLine);

}  // namespace
}  // namespace sluice::bench
