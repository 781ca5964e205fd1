// Integration: distributed tracing through the real server with an in-process OTLP receiver.
// A continued trace yields a server span parented on the caller, a client span per upstream
// attempt (with the GenAI attributes and its retry number) and a stream span, and the upstream
// gets a traceparent naming the attempt's span; an unsampled parent exports nothing but is
// still propagated; a new trace's id is the one the access log shows; the sampling ratio holds
// over 400 requests; a collector that is down costs requests nothing and shows in /metrics;
// with tracing off an incoming trace is still passed on and logged.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/metrics_client.h"
#include "tests/testing/otlp_receiver.h"
#include "tests/testing/prometheus_scrape.h"
#include "tests/testing/test_certificate.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;
using std::chrono::milliseconds;

// The W3C specification's example ids.
const std::string kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string kParentId = "00f067aa0ba902b7";
constexpr int kServer = 2;
constexpr int kClient = 3;
constexpr int kInternal = 1;

// observability: /metrics on the main listener and tracing to `endpoint` (none: tracing off).
std::string Observability(const std::string& endpoint, const std::string& ratio,
                          const std::string& extra_tracing = "") {
  std::string yaml = "observability:\n  metrics: {on_main_listener: true}\n";
  if (endpoint.empty()) return yaml;
  return yaml + "  tracing:\n    endpoint: " + endpoint + "\n    sample_ratio: " + ratio +
         "\n    flush_interval: 10ms\n" + extra_tracing;
}

std::string TraceparentHeader(const std::string& trace_id, const std::string& parent_id,
                              const std::string& flags) {
  return "traceparent: 00-" + trace_id + "-" + parent_id + "-" + flags + "\r\n";
}

struct Traceparent {
  std::string trace_id, parent_id, flags;
};

// Splits "00-<32 hex>-<16 hex>-<2 hex>"; a malformed header fails the test.
Traceparent SplitTraceparent(const std::string& header) {
  static const std::regex kForm("00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})");
  std::smatch match;
  if (!std::regex_match(header, match, kForm)) {
    ADD_FAILURE() << "not a version-00 traceparent: '" << header << "'";
    return {};
  }
  return {match[1].str(), match[2].str(), match[3].str()};
}

bool IsNewId(const std::string& hex, size_t length) {
  static const std::regex kHex("[0-9a-f]+");
  return hex.size() == length && std::regex_match(hex, kHex) && hex != std::string(length, '0');
}

Response Post(TestClient& client, std::string_view body, const std::string& headers = "") {
  client.Send(JsonRequest("/v1/chat/completions", body, headers));
  std::optional<Response> response = client.ReadResponse();
  EXPECT_TRUE(response) << "no response";
  return response.value_or(Response{});
}

Response Post(uint16_t port, std::string_view body, const std::string& headers = "") {
  TestClient client(port);
  return Post(client, body, headers);
}

// Runs a whole stream; returns the status (0: no head).
int Stream(uint16_t port, const std::string& headers) {
  TestClient client(port);
  client.Send(JsonRequest("/v1/chat/completions", kStreamRequestBody, headers));
  std::optional<Response> head = client.ReadHead();
  if (!head) return 0;
  while (client.ReadSseEvent()) {
  }
  EXPECT_TRUE(client.stream_finished());
  return head->status;
}

std::vector<ReceivedSpan> SpansOf(const OtlpReceiver& receiver, const std::string& trace_id) {
  std::vector<ReceivedSpan> out;
  for (ReceivedSpan& span : receiver.spans()) {
    if (span.trace_id == trace_id) out.push_back(std::move(span));
  }
  return out;
}

// The spans of `trace_id` once at least `n` have arrived (bounded wait; fewer on timeout).
std::vector<ReceivedSpan> WaitForTrace(const OtlpReceiver& receiver, const std::string& trace_id,
                                       size_t n) {
  FakeUpstream::WaitUntil([&] { return SpansOf(receiver, trace_id).size() >= n; });
  return SpansOf(receiver, trace_id);
}

std::vector<const ReceivedSpan*> OfKind(const std::vector<ReceivedSpan>& spans, int kind) {
  std::vector<const ReceivedSpan*> out;
  for (const ReceivedSpan& span : spans) {
    if (span.kind == kind) out.push_back(&span);
  }
  return out;
}

std::string Attribute(const ReceivedSpan& span, const std::string& key) {
  auto it = span.attributes.find(key);
  return it == span.attributes.end() ? "<absent>" : it->second;
}

// start <= end, and `inner` lies within `outer` (Unix nanoseconds as decimal text).
void ExpectWithin(const ReceivedSpan& inner, const ReceivedSpan& outer) {
  uint64_t inner_start = std::stoull(inner.start_time_unix_nano);
  uint64_t inner_end = std::stoull(inner.end_time_unix_nano);
  EXPECT_LE(inner_start, inner_end) << inner.name;
  EXPECT_LE(std::stoull(outer.start_time_unix_nano), inner_start) << inner.name;
  EXPECT_LE(inner_end, std::stoull(outer.end_time_unix_nano)) << inner.name;
}

// The access-log lines of chat completions, once at least `expected` lines were written.
std::vector<json::object> ChatLogLines(GatewayHarness& gateway, size_t expected) {
  std::vector<json::object> lines = gateway.AccessLog(expected);
  std::erase_if(lines, [](const json::object& line) {
    return !line.contains("path") || line.at("path") != json::value("/v1/chat/completions");
  });
  EXPECT_EQ(lines.size(), expected) << "chat completions in the access log";
  return lines;
}

// The trace_id field of an access-log line ("<absent>" without one).
std::string LoggedTraceId(const json::object& line) {
  if (!line.contains("trace_id")) return "<absent>";
  const json::value& id = line.at("trace_id");
  return id.is_string() ? std::string(id.as_string()) : id.is_null() ? "null" : "<not a string>";
}

// --- 1. Spans and links.

TEST(Tracing, AContinuedTraceHasServerAndClientSpansAndTheUpstreamGetsTheClientSpan) {
  OtlpReceiver receiver;
  FakeUpstream upstream(AnswerChatWithUsage);
  GatewayHarness gateway(BasicConfig() + Observability(receiver.endpoint(), "1.0"),
                         upstream.address());
  Response response =
      Post(gateway.port(), kChatRequestBody, TraceparentHeader(kTraceId, kParentId, "01"));
  ASSERT_EQ(response.status, 200);

  std::vector<ReceivedSpan> spans = WaitForTrace(receiver, kTraceId, 2);
  ASSERT_EQ(spans.size(), 2u) << "no filter waits on I/O here: a server and a client span";
  std::vector<const ReceivedSpan*> servers = OfKind(spans, kServer);
  std::vector<const ReceivedSpan*> clients = OfKind(spans, kClient);
  ASSERT_EQ(servers.size(), 1u);
  ASSERT_EQ(clients.size(), 1u);
  const ReceivedSpan& server = *servers[0];
  const ReceivedSpan& client = *clients[0];
  EXPECT_EQ(server.service_name, "sluice");
  EXPECT_EQ(server.name, "POST /v1/chat/completions");
  EXPECT_EQ(server.parent_span_id, kParentId) << "the caller's span is the parent";
  EXPECT_TRUE(IsNewId(server.span_id, 16)) << server.span_id;
  EXPECT_NE(server.span_id, kParentId);
  EXPECT_EQ(Attribute(server, "http.response.status_code"), "200");
  EXPECT_EQ(Attribute(server, "gen_ai.request.model"), "m");
  EXPECT_EQ(Attribute(server, "gen_ai.usage.input_tokens"), "11");

  EXPECT_EQ(client.name, "chat up-m");
  EXPECT_EQ(client.parent_span_id, server.span_id);
  EXPECT_TRUE(IsNewId(client.span_id, 16)) << client.span_id;
  EXPECT_NE(client.span_id, server.span_id);
  EXPECT_EQ(Attribute(client, "gen_ai.request.model"), "up-m");
  EXPECT_EQ(Attribute(client, "gen_ai.usage.input_tokens"), "11");
  EXPECT_EQ(Attribute(client, "gen_ai.usage.output_tokens"), "5");
  EXPECT_EQ(Attribute(client, "sluice.retry"), "0");
  EXPECT_EQ(Attribute(client, "sluice.backend"), "up");
  EXPECT_EQ(Attribute(client, "http.response.status_code"), "200");
  EXPECT_EQ(client.status_code, 0) << "unset: the attempt succeeded";
  ExpectWithin(client, server);

  // The upstream continues the trace under the attempt's span, sampled.
  std::vector<FakeRequest> seen = upstream.requests_seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].Header("traceparent"), "00-" + kTraceId + "-" + client.span_id + "-01");
}

TEST(Tracing, AStreamHasAStreamSpanUnderItsClientSpan) {
  OtlpReceiver receiver;
  FakeUpstream upstream(AnswerChatWithUsage);
  GatewayHarness gateway(BasicConfig() + Observability(receiver.endpoint(), "1.0"),
                         upstream.address());
  ASSERT_EQ(Stream(gateway.port(), TraceparentHeader(kTraceId, kParentId, "01")), 200);

  std::vector<ReceivedSpan> spans = WaitForTrace(receiver, kTraceId, 3);
  ASSERT_EQ(spans.size(), 3u);
  std::vector<const ReceivedSpan*> servers = OfKind(spans, kServer);
  std::vector<const ReceivedSpan*> clients = OfKind(spans, kClient);
  std::vector<const ReceivedSpan*> internals = OfKind(spans, kInternal);
  ASSERT_EQ(servers.size(), 1u);
  ASSERT_EQ(clients.size(), 1u);
  ASSERT_EQ(internals.size(), 1u);
  const ReceivedSpan& client = *clients[0];
  const ReceivedSpan& stream = *internals[0];
  EXPECT_EQ(servers[0]->parent_span_id, kParentId);
  EXPECT_EQ(client.parent_span_id, servers[0]->span_id);
  EXPECT_EQ(stream.name, "stream");
  EXPECT_EQ(stream.parent_span_id, client.span_id);
  EXPECT_EQ(Attribute(client, "gen_ai.usage.input_tokens"), "4");
  EXPECT_EQ(Attribute(client, "gen_ai.usage.output_tokens"), "9");
  EXPECT_EQ(Attribute(stream, "gen_ai.usage.output_tokens"), "9");
  EXPECT_EQ(Attribute(*servers[0], "gen_ai.request.stream"), "true");
  ExpectWithin(stream, *servers[0]);
  std::vector<FakeRequest> seen = upstream.requests_seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].Header("traceparent"), "00-" + kTraceId + "-" + client.span_id + "-01");
}

TEST(Tracing, ARetryHasOneClientSpanPerAttemptEachPropagatedUpstream) {
  // The first attempt of all (on whichever deployment) gets a 500; every other one succeeds.
  std::mutex mutex;
  std::vector<std::string> traceparents;  // in arrival order, guarded by mutex
  auto handler = [&](FakeExchange& ex) -> asio::awaitable<void> {
    size_t n;
    {
      std::lock_guard lock(mutex);
      traceparents.push_back(ex.request().Header("traceparent"));
      n = traceparents.size();
    }
    if (n == 1) {
      const std::string body = R"({"error":{"message":"boom","type":"server_error"}})";
      co_await ex.RespondJson(500, body);
    } else {
      co_await AnswerChatWithUsage(ex);
    }
  };
  FakeUpstream d0(handler), d1(handler);
  OtlpReceiver receiver;
  std::string yaml = TwoDeploymentsConfig(d0.address(), d1.address()) +
                     "filters:\n  - request_id: {}\n  - access_log:\n      output: {access_log}\n" +
                     Observability(receiver.endpoint(), "1.0");
  GatewayHarness gateway(yaml);
  ASSERT_EQ(
      Post(gateway.port(), kChatRequestBody, TraceparentHeader(kTraceId, kParentId, "01")).status,
      200);

  std::vector<ReceivedSpan> spans = WaitForTrace(receiver, kTraceId, 3);
  std::vector<const ReceivedSpan*> servers = OfKind(spans, kServer);
  std::vector<const ReceivedSpan*> clients = OfKind(spans, kClient);
  ASSERT_EQ(servers.size(), 1u);
  ASSERT_EQ(clients.size(), 2u);
  const ReceivedSpan* first = clients[0];
  const ReceivedSpan* second = clients[1];
  if (Attribute(*first, "sluice.retry") == "1") std::swap(first, second);
  EXPECT_EQ(Attribute(*first, "sluice.retry"), "0");
  EXPECT_EQ(Attribute(*second, "sluice.retry"), "1");
  EXPECT_EQ(Attribute(*first, "http.response.status_code"), "500");
  EXPECT_EQ(first->status_code, 2) << "the failed attempt's span is an error";
  EXPECT_EQ(Attribute(*first, "gen_ai.usage.input_tokens"), "<absent>");
  EXPECT_EQ(Attribute(*second, "http.response.status_code"), "200");
  EXPECT_EQ(Attribute(*second, "gen_ai.usage.input_tokens"), "11");
  EXPECT_EQ(Attribute(*servers[0], "sluice.retries"), "1");
  for (const ReceivedSpan* client : {first, second}) {
    EXPECT_EQ(client->parent_span_id, servers[0]->span_id);
    ExpectWithin(*client, *servers[0]);
  }
  EXPECT_LE(std::stoull(first->end_time_unix_nano), std::stoull(second->start_time_unix_nano));

  std::lock_guard lock(mutex);
  ASSERT_EQ(traceparents.size(), 2u);
  EXPECT_EQ(traceparents[0], "00-" + kTraceId + "-" + first->span_id + "-01");
  EXPECT_EQ(traceparents[1], "00-" + kTraceId + "-" + second->span_id + "-01");
}

// --- 2. Unsampled parents and new traces.

TEST(Tracing, AnUnsampledParentExportsNothingButIsStillPropagated) {
  OtlpReceiver receiver;
  FakeUpstream upstream(AnswerChatWithUsage);
  GatewayHarness gateway(BasicConfig() + Observability(receiver.endpoint(), "1.0"),
                         upstream.address());
  TestClient client(gateway.port());
  ASSERT_EQ(Post(client, kChatRequestBody, TraceparentHeader(kTraceId, kParentId, "00")).status,
            200);
  // A sampled request after it: once its spans are in, the earlier request's would be too
  // (one worker finishes requests in order; the exporter sends its queue in order).
  const std::string marker = "0af7651916cd43dd8448eb211c80319c";
  ASSERT_EQ(Post(client, kChatRequestBody, TraceparentHeader(marker, kParentId, "01")).status, 200);
  EXPECT_EQ(WaitForTrace(receiver, marker, 2).size(), 2u);
  EXPECT_TRUE(SpansOf(receiver, kTraceId).empty()) << "the caller did not sample it";

  std::vector<FakeRequest> seen = upstream.requests_seen();
  ASSERT_EQ(seen.size(), 2u);
  Traceparent sent = SplitTraceparent(seen[0].Header("traceparent"));
  EXPECT_EQ(sent.trace_id, kTraceId);
  EXPECT_EQ(sent.flags, "00") << "not sampled downstream either";
  EXPECT_TRUE(IsNewId(sent.parent_id, 16)) << sent.parent_id;
  EXPECT_NE(sent.parent_id, kParentId) << "the gateway's own span is the parent";
  std::vector<json::object> log = ChatLogLines(gateway, 2);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(LoggedTraceId(log[0]), kTraceId) << "logged even though not sampled";
  EXPECT_EQ(LoggedTraceId(log[1]), marker);
}

TEST(Tracing, WithoutTraceparentANewTraceIsStartedAndLogged) {
  OtlpReceiver receiver;
  FakeUpstream upstream(AnswerChatWithUsage);
  GatewayHarness gateway(BasicConfig() + Observability(receiver.endpoint(), "1"),
                         upstream.address());
  ASSERT_EQ(Post(gateway.port(), kChatRequestBody).status, 200);
  ASSERT_TRUE(receiver.WaitForSpans(2, milliseconds(10'000)));
  std::vector<ReceivedSpan> spans = receiver.spans();
  std::vector<const ReceivedSpan*> servers = OfKind(spans, kServer);
  ASSERT_EQ(servers.size(), 1u);
  const std::string trace_id = servers[0]->trace_id;
  EXPECT_TRUE(IsNewId(trace_id, 32)) << trace_id;
  EXPECT_EQ(servers[0]->parent_span_id, "") << "a root span";
  for (const ReceivedSpan& span : spans) EXPECT_EQ(span.trace_id, trace_id) << span.name;

  std::vector<json::object> log = ChatLogLines(gateway, 1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(LoggedTraceId(log[0]), trace_id);
  std::vector<FakeRequest> seen = upstream.requests_seen();
  ASSERT_EQ(seen.size(), 1u);
  Traceparent sent = SplitTraceparent(seen[0].Header("traceparent"));
  EXPECT_EQ(sent.trace_id, trace_id);
  EXPECT_EQ(sent.flags, "01");
}

// --- 3. The sampling ratio.

TEST(Tracing, TheSampleRatioHoldsOverManyRequests) {
  OtlpReceiver receiver;
  FakeUpstream upstream(AnswerChatWithUsage);
  GatewayHarness gateway(BasicConfig() + Observability(receiver.endpoint(), "0.25"),
                         upstream.address());
  constexpr int kRequests = 400;
  TestClient client(gateway.port());
  for (int i = 0; i < kRequests; ++i) ASSERT_EQ(Post(client, kChatRequestBody).status, 200) << i;
  // A sampled marker last: its spans arrive after those of every earlier request.
  const std::string marker = "0af7651916cd43dd8448eb211c80319c";
  ASSERT_EQ(Post(client, kChatRequestBody, TraceparentHeader(marker, kParentId, "01")).status, 200);
  ASSERT_EQ(WaitForTrace(receiver, marker, 2).size(), 2u);

  int sampled = 0;
  for (const ReceivedSpan& span : receiver.spans()) {
    if (span.kind == kServer && span.trace_id != marker) ++sampled;
  }
  // Each request is sampled independently with p = 0.25 (its trace id is random), so the
  // count is Binomial(400, 0.25): mean 100, sd = sqrt(400 * 0.25 * 0.75) ≈ 8.7 requests
  // (≈ 2.2 pp). ±7 pp (±28 requests) is ≈ 3.2 sd: a correct sampler fails this ~0.15% of the
  // time, while a sampler that ignores the ratio (0% or 100%) or is off by 2x always fails.
  EXPECT_GE(sampled, 100 - 28);
  EXPECT_LE(sampled, 100 + 28);
}

// --- 4. A collector that is down.

TEST(Tracing, ACollectorThatIsDownCostsRequestsNothingAndShowsInMetrics) {
  OtlpReceiver receiver;
  const std::string endpoint = receiver.endpoint();
  receiver.Stop();  // connections to it are refused from now on
  FakeUpstream upstream(AnswerChatWithUsage);
  GatewayHarness gateway(
      BasicConfig() + Observability(endpoint, "1",
                                    "    timeout: 200ms\n    max_queue_spans: 4\n"
                                    "    max_batch_spans: 2\n"),
      upstream.address());
  constexpr int kRequests = 40;
  TestClient client(gateway.port());
  auto slowest = std::chrono::steady_clock::duration::zero();
  for (int i = 0; i < kRequests; ++i) {
    auto started = std::chrono::steady_clock::now();
    ASSERT_EQ(Post(client, kChatRequestBody).status, 200) << i;
    slowest = std::max(slowest, std::chrono::steady_clock::now() - started);
  }
  // The exporter's retries take up to seconds per batch; a request never waits for them.
  EXPECT_LT(slowest, milliseconds(1'000));

  PrometheusScrape scrape = ScrapeMetricsUntil(gateway.port(), [](const PrometheusScrape& s) {
    return s.Sum("sluice_trace_export_failures_total") > 0 &&
           s.Sum("sluice_trace_spans_dropped_total") > 0;
  });
  EXPECT_GT(scrape.Value("sluice_trace_export_failures_total").value_or(0), 0);
  double queue_full =
      scrape.Value("sluice_trace_spans_dropped_total", {{"reason", "queue_full"}}).value_or(0);
  double export_failed =
      scrape.Value("sluice_trace_spans_dropped_total", {{"reason", "export_failed"}}).value_or(0);
  EXPECT_GT(queue_full + export_failed, 0);
  // 4 spans fit in the queue and 2 per request were submitted: most met a full queue.
  EXPECT_GT(queue_full, 0);
  EXPECT_EQ(scrape.Value("sluice_trace_spans_exported_total"), 0.0);
  EXPECT_EQ(receiver.requests(), 0u);
}

// --- 4b. An https:// collector: verified against tls.ca_file, or the system CAs by default.

// A gateway tracing every request to a collector on TLS (the fake upstream with a test
// certificate, answering every POST with 200), trusting that certificate through
// tls.ca_file or, without, checking it against the system CAs.
struct HttpsCollectorRig {
  explicit HttpsCollectorRig(bool trust_certificate)
      : gateway(BasicConfig() +
                    Observability("https://" + collector.address() + "/v1/traces", "1.0",
                                  trust_certificate
                                      ? "    tls: {ca_file: " + certificate.cert_file() + "}\n"
                                      : "    timeout: 500ms\n"),
                upstream.address()) {}

  TestCertificate certificate;
  FakeUpstream collector{
      [](FakeExchange& ex) -> asio::awaitable<void> { co_await ex.RespondJson(200, "{}"); },
      TlsFiles{certificate.cert_file(), certificate.key_file()}};
  FakeUpstream upstream{AnswerChatWithUsage};
  GatewayHarness gateway;
};

TEST(Tracing, AnHttpsCollectorTrustedThroughItsCaFileGetsTheSpans) {
  HttpsCollectorRig rig(true);
  ASSERT_TRUE(rig.certificate.ok());
  ASSERT_EQ(Post(rig.gateway.port(), kChatRequestBody, TraceparentHeader(kTraceId, kParentId, "01"))
                .status,
            200);
  ASSERT_TRUE(FakeUpstream::WaitUntil([&] {
    for (const FakeRequest& request : rig.collector.requests_seen()) {
      if (request.body.find(kTraceId) != std::string::npos) return true;
    }
    return false;
  })) << "no span of the trace reached the https collector";
  const FakeRequest request = rig.collector.requests_seen().front();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/v1/traces");
  EXPECT_EQ(request.Header("content-type"), "application/json");
  EXPECT_TRUE(json::parse(request.body).at("resourceSpans").is_array());
}

TEST(Tracing, AnHttpsCollectorWithAnUntrustedCertificateGetsNothingAndFailuresAreCounted) {
  HttpsCollectorRig rig(false);  // the self-signed certificate against the system CAs
  ASSERT_TRUE(rig.certificate.ok());
  ASSERT_EQ(Post(rig.gateway.port(), kChatRequestBody, TraceparentHeader(kTraceId, kParentId, "01"))
                .status,
            200);
  PrometheusScrape scrape = ScrapeMetricsUntil(rig.gateway.port(), [](const PrometheusScrape& s) {
    return s.Sum("sluice_trace_export_failures_total") > 0;
  });
  EXPECT_GT(scrape.Sum("sluice_trace_export_failures_total"), 0);
  EXPECT_EQ(scrape.Value("sluice_trace_spans_exported_total"), 0.0);
  EXPECT_EQ(rig.collector.requests(), 0) << "a request went over an unverified connection";
}

// --- 5. Tracing off.

TEST(Tracing, WithTracingOffAnIncomingTraceIsPassedOnAndLogged) {
  FakeUpstream upstream(AnswerChatWithUsage);
  GatewayHarness gateway(BasicConfig() + Observability("", ""), upstream.address());
  ASSERT_EQ(
      Post(gateway.port(), kChatRequestBody, TraceparentHeader(kTraceId, kParentId, "01")).status,
      200);
  std::vector<FakeRequest> seen = upstream.requests_seen();
  ASSERT_EQ(seen.size(), 1u);
  // Passed on as it came: the caller's span stays the parent and its sampled flag holds, so
  // services behind the gateway keep a trace the caller chose to record.
  EXPECT_EQ(seen[0].Header("traceparent"), "00-" + kTraceId + "-" + kParentId + "-01");

  // Without an incoming trace nothing is invented.
  ASSERT_EQ(Post(gateway.port(), kChatRequestBody).status, 200);
  seen = upstream.requests_seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].Header("traceparent"), "");
  std::vector<json::object> log = ChatLogLines(gateway, 2);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(LoggedTraceId(log[0]), kTraceId);
  EXPECT_EQ(LoggedTraceId(log[1]), "null");
  PrometheusScrape scrape = ScrapeMetrics(gateway.port());
  EXPECT_TRUE(scrape.Matching("sluice_trace_spans_exported_total").empty())
      << "no exporter, no exporter metrics";
}

}  // namespace
}  // namespace sluice::testing
