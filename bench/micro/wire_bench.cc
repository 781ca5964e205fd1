// Micro-benchmarks of the wire formats on the request path: request head parsing, response
// head scanning plus chunked decoding, SSE event splitting (whole and in 7-byte pieces) and
// usage extraction. Single-threaded Google Benchmark cases; run with sluice-micro.
#include <benchmark/benchmark.h>

#include <algorithm>

#include "bench/micro/bench_data.h"
#include "core/request_context.h"
#include "http/http_parser.h"
#include "http/sse.h"

namespace sluice::bench {
namespace {

void BM_ParseRequestHead(benchmark::State& state) {
  const std::string& head = ChatRequestHead();
  HeadLimits limits;
  HttpRequest request;
  for (auto _ : state) {
    HeadScanner scanner;
    size_t head_size = 0;
    ParseError error;
    if (scanner.Scan(head, limits, true, head_size, error) != ParseStatus::kDone) {
      state.SkipWithError("scan failed");
      break;
    }
    request.Reset();
    bool ok = ParseRequestHead(std::string_view(head).substr(0, head_size), limits, request, error);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(request.content_length);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * head.size()));
}
BENCHMARK(BM_ParseRequestHead);

// A streaming upstream response as it arrives: head, then the chunked body in one buffer.
void BM_ResponseHeadAndChunkedBody(benchmark::State& state) {
  const std::string response =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "Transfer-Encoding: chunked\r\nopenai-processing-ms: 12\r\n\r\n" +
      ChunkedSseBody();
  HeadLimits limits;
  HttpResponseHead head;
  ChunkedDecoder decoder;
  std::string payload;
  for (auto _ : state) {
    HeadScanner scanner;
    size_t head_size = 0;
    ParseError error;
    scanner.Scan(response, limits, false, head_size, error);
    head.Reset();
    ParseResponseHead(std::string_view(response).substr(0, head_size), limits, head, error);
    decoder.Reset();
    payload.clear();
    size_t consumed = 0;
    ParseStatus status =
        decoder.Decode(std::string_view(response).substr(head_size), payload, consumed, error);
    if (status != ParseStatus::kDone) {
      state.SkipWithError("chunked decode did not finish");
      break;
    }
    benchmark::DoNotOptimize(payload.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * response.size()));
}
BENCHMARK(BM_ResponseHeadAndChunkedBody);

// Feeds the 64-event stream in pieces of `state.range(0)` bytes (0 = all at once).
void BM_SseParser(benchmark::State& state) {
  const std::string& sse = SseStream();
  const size_t piece = state.range(0) == 0 ? sse.size() : static_cast<size_t>(state.range(0));
  SseParser parser;
  SseEvent event;
  int64_t events = 0;
  for (auto _ : state) {
    parser.Reset();
    for (size_t at = 0; at < sse.size(); at += piece) {
      parser.Feed(std::string_view(sse).substr(at, std::min(piece, sse.size() - at)));
      while (parser.Next(event) == SseParser::Result::kEvent) {
        benchmark::DoNotOptimize(event.data.data());
        ++events;
      }
    }
  }
  if (events != state.iterations() * 66) state.SkipWithError("wrong event count");
  state.SetItemsProcessed(events);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * sse.size()));
}
BENCHMARK(BM_SseParser)->Arg(0)->Arg(7);

void BM_ExtractUsage(benchmark::State& state) {
  const std::string& response = ChatResponse();
  for (auto _ : state) {
    Usage usage;
    bool found = ExtractUsage(response, usage);
    benchmark::DoNotOptimize(found);
    benchmark::DoNotOptimize(usage.total_tokens);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * response.size()));
}
BENCHMARK(BM_ExtractUsage);

}  // namespace
}  // namespace sluice::bench
