// Integration: observability through the real server — /metrics on the main listener counts
// requests, tokens, cost and latency histograms exactly; errors, auth failures, limiter
// decisions and upstream retries land in their families; the in-flight and open-stream gauges
// follow a held stream; the probes (/health/live, /ready, /startup) report their checks and
// required models; /metrics is a 404 on the main listener unless enabled there; the overhead
// headers split gateway and upstream time; and the access log names who called, the limiter's
// decision, the retries and the configuration version. Over 500 lines on purpose: the nine
// scenarios of issue 6 share the scrape-polling and access-log helpers at the top.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <regex>
#include <string>
#include <thread>

#include "auth/api_key.h"
#include "auth/audit_log.h"
#include "auth/auth_runtime.h"
#include "config/loader.h"
#include "filters/registry.h"
#include "tests/integration/auth_test_fixture.h"
#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/metrics_client.h"
#include "tests/testing/prometheus_scrape.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;
using std::chrono::milliseconds;

const std::string kMetricsOnMain = "observability:\n  metrics: {on_main_listener: true}\n";

std::optional<Response> Get(uint16_t port, std::string_view path) {
  TestClient client(port);
  client.Send(GetRequest(path));
  return client.ReadResponse();
}

Response Post(uint16_t port, std::string_view body, std::string_view headers = "") {
  TestClient client(port);
  client.Send(JsonRequest("/v1/chat/completions", body, headers));
  std::optional<Response> response = client.ReadResponse();
  EXPECT_TRUE(response) << "no response";
  return response.value_or(Response{});
}

// Runs a whole stream; returns the status (0: no head).
int Stream(uint16_t port) {
  TestClient client(port);
  client.Send(JsonRequest("/v1/chat/completions", kStreamRequestBody));
  std::optional<Response> head = client.ReadHead();
  if (!head) return 0;
  while (client.ReadSseEvent()) {
  }
  EXPECT_TRUE(client.stream_finished());
  return head->status;
}

std::function<bool(const PrometheusScrape&)> RequestsAtLeast(double n,
                                                             const PromLabels& subset = {}) {
  return [n, subset](const PrometheusScrape& s) {
    return s.Sum("sluice_requests_total", subset) >= n;
  };
}

PromLabels Chat2xx(const std::string& model, const std::string& backend) {
  return {{"route", "chat_completions"},
          {"model", model},
          {"backend", backend},
          {"status_class", "2xx"}};
}

// The access-log lines of chat completions (the scrapes are logged too).
std::vector<json::object> ChatLines(std::vector<json::object> log) {
  std::erase_if(log, [](const json::object& line) {
    return !line.contains("path") || line.at("path") != json::value("/v1/chat/completions");
  });
  return log;
}

// A text field of an access-log line, "" for null (the log writes empty values as null); a
// missing field or another type fails the test.
std::string LogText(const json::object& line, std::string_view key) {
  auto it = line.find(key);
  if (it == line.end()) {
    ADD_FAILURE() << "the access log line has no " << key;
    return "<missing>";
  }
  if (it->value().is_null()) return "";
  if (!it->value().is_string()) {
    ADD_FAILURE() << key << " is not a string: " << json::serialize(it->value());
    return "<not a string>";
  }
  return std::string(it->value().as_string());
}

void ExpectWellFormedHistogram(const PrometheusScrape& scrape, const std::string& family,
                               const PromLabels& labels, double count) {
  PromHistogram h = scrape.Histogram(family, labels);
  ASSERT_TRUE(h.found) << family;
  EXPECT_EQ(h.count, count) << family;
  ASSERT_FALSE(h.buckets.empty()) << family;
  for (size_t i = 1; i < h.buckets.size(); ++i) {
    EXPECT_LT(h.buckets[i - 1].first, h.buckets[i].first) << family;
    EXPECT_LE(h.buckets[i - 1].second, h.buckets[i].second) << family << " is not cumulative";
  }
  EXPECT_TRUE(std::isinf(h.buckets.back().first)) << family << " has no +Inf bucket";
  EXPECT_EQ(h.buckets.back().second, h.count) << family << ": +Inf != _count";
  EXPECT_GT(h.sum, 0) << family;
}

// --- 1. Requests, tokens, cost, histograms.

TEST(Metrics, RequestsTokensCostAndHistogramsAreCountedExactly) {
  FakeUpstream upstream(AnswerChatWithUsage);
  std::string yaml = BasicConfig() + kMetricsOnMain;
  // USD per 1M tokens: a token of input costs 1 µ$, one of output 2 µ$.
  const std::string model_m = "    upstream_model: up-m\n";
  yaml.insert(yaml.find(model_m) + model_m.size(), "    price: {input: 1, output: 2}\n");
  GatewayHarness gateway(yaml, upstream.address());
  for (int i = 0; i < 7; ++i) ASSERT_EQ(Post(gateway.port(), kChatRequestBody).status, 200);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Stream(gateway.port()), 200);

  PrometheusScrape scrape =
      ScrapeMetricsUntil(gateway.port(), RequestsAtLeast(10, {{"route", "chat_completions"}}));
  EXPECT_EQ(scrape.Value("sluice_requests_total", Chat2xx("m", "up")), 10.0);
  EXPECT_EQ(scrape.Sum("sluice_requests_total", {{"route", "chat_completions"}}), 10.0);
  EXPECT_EQ(scrape.Value("sluice_tokens_total", {{"model", "m"}, {"type", "input"}}),
            7.0 * 11 + 3 * 4);
  EXPECT_EQ(scrape.Value("sluice_tokens_total", {{"model", "m"}, {"type", "output"}}),
            7.0 * 5 + 3 * 9);
  // 7 × (11 + 2·5) + 3 × (4 + 2·9) = 213 µ$.
  EXPECT_DOUBLE_EQ(scrape.Value("sluice_cost_usd_total", {{"model", "m"}}).value_or(-1), 213e-6);
  PromLabels route_model{{"route", "chat_completions"}, {"model", "m"}};
  ExpectWellFormedHistogram(scrape, "sluice_request_duration_seconds", route_model, 10);
  ExpectWellFormedHistogram(scrape, "sluice_gateway_overhead_seconds", route_model, 10);
  ExpectWellFormedHistogram(scrape, "sluice_upstream_duration_seconds",
                            {{"model", "m"}, {"backend", "up"}}, 10);
  ExpectWellFormedHistogram(scrape, "sluice_gen_ai_server_time_to_first_token_seconds",
                            {{"model", "m"}}, 3);
  ExpectWellFormedHistogram(scrape, "sluice_gen_ai_server_time_per_output_token_seconds",
                            {{"model", "m"}}, 3);
  PromHistogram input = scrape.Histogram("sluice_gen_ai_client_token_usage",
                                         {{"model", "m"}, {"gen_ai_token_type", "input"}});
  EXPECT_EQ(input.count, 10);
  EXPECT_EQ(input.sum, 7 * 11 + 3 * 4);
  PromHistogram output = scrape.Histogram("sluice_gen_ai_client_token_usage",
                                          {{"model", "m"}, {"gen_ai_token_type", "output"}});
  EXPECT_EQ(output.sum, 7 * 5 + 3 * 9);
  // The gateway's own time is part of the whole.
  EXPECT_LT(scrape.Histogram("sluice_gateway_overhead_seconds", route_model).sum,
            scrape.Histogram("sluice_request_duration_seconds", route_model).sum);
  EXPECT_EQ(scrape.Sum("sluice_request_errors_total"), 0);
  EXPECT_EQ(scrape.Value("sluice_upstream_retries_total", {{"model", "m"}}), 0.0);
  EXPECT_GE(
      scrape.Value("sluice_upstream_connections_opened_total", {{"backend", "up"}}).value_or(0),
      1.0);
}

// --- 2. Errors and authentication failures.

TEST(Metrics, AnUnknownModelAndAnUnknownRouteAreCountedAsErrors) {
  FakeUpstream upstream(AnswerChatWithUsage);
  GatewayHarness gateway(BasicConfig() + kMetricsOnMain, upstream.address());
  Response unknown = Post(gateway.port(), R"({"model":"nope","messages":[]})");
  EXPECT_EQ(unknown.status, 404);
  std::optional<Response> no_route = Get(gateway.port(), "/v1/nothing-here");
  ASSERT_TRUE(no_route);
  EXPECT_EQ(no_route->status, 404);

  PrometheusScrape scrape = ScrapeMetricsUntil(gateway.port(), [](const PrometheusScrape& s) {
    return s.Sum("sluice_request_errors_total") >= 2;
  });
  EXPECT_EQ(scrape.Value("sluice_requests_total", {{"route", "chat_completions"},
                                                   {"model", "unknown"},
                                                   {"backend", ""},
                                                   {"status_class", "4xx"}}),
            1.0);
  EXPECT_EQ(scrape.Value("sluice_request_errors_total",
                         {{"route", "chat_completions"}, {"error", "model_not_found"}}),
            1.0);
  EXPECT_EQ(scrape.Value("sluice_request_errors_total",
                         {{"route", "not_found"}, {"error", "route_not_found"}}),
            1.0);
  EXPECT_TRUE(scrape.Matching("sluice_requests_total", {{"model", "nope"}}).empty())
      << "a name that is not configured never becomes a label";
  EXPECT_EQ(upstream.requests(), 0);
}

TEST(Metrics, MissingAndWrongKeysAreAuthFailuresAndTokensCarryTheKeyId) {
  auth_test::AuthOptions options;
  options.access_log_first = true;
  options.extra_yaml =
      "observability:\n  metrics: {on_main_listener: true, tenant_labels: [key]}\n";
  auth_test::AuthGateway gw(options);
  EXPECT_EQ(gw.Send(JsonRequest("/v1/chat/completions", auth_test::kChatBody)).status, 401);
  EXPECT_EQ(gw.Chat("m", auth_test::BearerHeader("not-a-gateway-credential")).status, 401);
  auth_test::TestKey key = gw.CreateKey();
  ASSERT_EQ(gw.ChatWithKey("m", key.secret).status, 200);

  uint16_t port = gw.harness().port();
  PrometheusScrape scrape =
      ScrapeMetricsUntil(port, RequestsAtLeast(3, {{"route", "chat_completions"}}));
  EXPECT_EQ(scrape.Value("sluice_auth_failures_total", {{"reason", "auth_missing"}}), 1.0);
  EXPECT_EQ(scrape.Value("sluice_auth_failures_total", {{"reason", "auth_invalid"}}), 1.0);
  EXPECT_EQ(scrape.Sum("sluice_auth_failures_total"), 2.0);
  EXPECT_EQ(scrape.Value("sluice_request_errors_total",
                         {{"route", "chat_completions"}, {"error", "auth_missing"}}),
            1.0);
  // The fixture's upstream reports 3 + 2 tokens; the key label is the key's id.
  EXPECT_EQ(
      scrape.Value("sluice_tokens_total", {{"model", "m"}, {"type", "input"}, {"key", key.id}}),
      3.0);
  std::optional<Response> raw = Get(port, "/metrics");
  ASSERT_TRUE(raw);
  auth_test::ExpectNoSecrets("/metrics", raw->body, {key.secret, key.hash});

  // The access log names the caller by id and key prefix only.
  auto log = ChatLines(gw.harness().AccessLog(3));
  ASSERT_GE(log.size(), 3u);
  EXPECT_EQ(LogText(log[0], "principal"), "");
  EXPECT_EQ(LogText(log[0], "key_prefix"), "");
  EXPECT_EQ(LogText(log[2], "principal"), "key:" + key.id);
  EXPECT_EQ(LogText(log[2], "key_prefix"), key.prefix);
}

// --- 3. Limiter decisions.

TEST(Metrics, LimiterDecisionsAreCountedByPolicyAndOutcome) {
  FakeUpstream upstream(AnswerChatWithUsage);
  std::string yaml = BasicConfig() + kMetricsOnMain +
                     "limits:\n  policies:\n    - name: per-ip\n      per: [client_ip]\n"
                     "      requests: 2/minute\n";
  const std::string last = "      output: {access_log}\n";
  yaml.insert(yaml.find(last) + last.size(), "  - rate_limit: {}\n");
  GatewayHarness gateway(yaml, upstream.address());
  EXPECT_EQ(Post(gateway.port(), kChatRequestBody).status, 200);
  EXPECT_EQ(Post(gateway.port(), kChatRequestBody).status, 200);
  EXPECT_EQ(Post(gateway.port(), kChatRequestBody).status, 429);

  PrometheusScrape scrape =
      ScrapeMetricsUntil(gateway.port(), RequestsAtLeast(3, {{"route", "chat_completions"}}));
  EXPECT_EQ(scrape.Value("sluice_limiter_decisions_total",
                         {{"policy", "per-ip"}, {"outcome", "allowed"}}),
            2.0);
  EXPECT_EQ(scrape.Value("sluice_limiter_decisions_total",
                         {{"policy", "per-ip"}, {"outcome", "rejected"}}),
            1.0);
  EXPECT_EQ(scrape.Sum("sluice_limiter_decisions_total"), 3.0);
  EXPECT_EQ(scrape.Value("sluice_request_errors_total",
                         {{"route", "chat_completions"}, {"error", "rate_limited"}}),
            1.0);
  EXPECT_EQ(scrape.Value("sluice_requests_total", {{"route", "chat_completions"},
                                                   {"model", "m"},
                                                   {"backend", ""},
                                                   {"status_class", "4xx"}}),
            1.0);

  auto log = ChatLines(gateway.AccessLog(3));
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(LogText(log[0], "limit"), "allowed");
  EXPECT_EQ(LogText(log[0], "limit_policy"), "");
  EXPECT_EQ(LogText(log[2], "limit"), "rejected");
  EXPECT_EQ(LogText(log[2], "limit_policy"), "per-ip");
}

// --- 4. Retries and the deployment gauges.

TEST(Metrics, RetriesAreCountedAndDeploymentGaugesShowTheOpenCircuit) {
  FakeUpstream failing([](FakeExchange& ex) -> asio::awaitable<void> {
    const std::string body = R"({"error":{"message":"boom","type":"server_error","code":null}})";
    co_await ex.RespondJson(500, body);
  });
  FakeUpstream good(AnswerChatWithUsage);
  std::string yaml =
      "server:\n  listen: 127.0.0.1:0\n  workers: 1\nbackends:\n"
      "  - {name: d0, url: 'http://" +
      failing.address() +
      "/v1'}\n"
      "  - {name: d1, url: 'http://" +
      good.address() +
      "/v1'}\n"
      "models:\n  - name: m\n    balancer: round_robin\n"
      "    deployments: [{backend: d0, upstream_model: up-m},"
      " {backend: d1, upstream_model: up-m}]\n"
      "    retries: {attempts: 2, backoff: {base: 1ms, max: 2ms}}\n"
      "    circuit_breaker: {consecutive_failures: 2, open_duration: 60s}\n"
      "    outlier_detection: {consecutive_errors: 0}\n"
      "filters:\n  - request_id: {}\n  - access_log:\n      output: {access_log}\n" +
      kMetricsOnMain;
  GatewayHarness gateway(yaml);
  constexpr int kRequests = 8;
  for (int i = 0; i < kRequests; ++i) ASSERT_EQ(Post(gateway.port(), kChatRequestBody).status, 200);

  PrometheusScrape scrape = ScrapeMetricsUntil(
      gateway.port(), RequestsAtLeast(kRequests, {{"route", "chat_completions"}}));
  // Each failed attempt on d0 was retried once on d1; the breaker stops d0 after two.
  EXPECT_EQ(failing.requests(), 2);
  EXPECT_EQ(good.requests(), kRequests);
  EXPECT_EQ(scrape.Value("sluice_upstream_retries_total", {{"model", "m"}}),
            static_cast<double>(failing.requests()));
  EXPECT_EQ(scrape.Value("sluice_requests_total", Chat2xx("m", "d1")),
            static_cast<double>(kRequests));
  auto deployment = [&](const std::string& family, const std::string& name) {
    return scrape.Value(family, {{"model", "m"}, {"deployment", name}});
  };
  EXPECT_EQ(deployment("sluice_deployment_circuit_state", "d0/up-m"), 2.0);
  EXPECT_EQ(deployment("sluice_deployment_circuit_state", "d1/up-m"), 0.0);
  EXPECT_EQ(deployment("sluice_deployment_healthy", "d0/up-m"), 1.0) << "no active checks";
  EXPECT_EQ(deployment("sluice_deployment_ejected", "d0/up-m"), 0.0);
  EXPECT_EQ(deployment("sluice_deployment_in_flight", "d1/up-m"), 0.0);
  EXPECT_TRUE(deployment("sluice_deployment_latency_ewma_seconds", "d1/up-m").has_value());
  EXPECT_EQ(scrape.Value("sluice_retry_budget_exhausted_total", {{"model", "m"}}), 0.0);

  // The access log's retries agree.
  auto log = ChatLines(gateway.AccessLog(kRequests));
  ASSERT_EQ(log.size(), static_cast<size_t>(kRequests));
  int64_t retries = 0;
  for (const auto& line : log) retries += line.at("retries").as_int64();
  EXPECT_EQ(retries, failing.requests());
}

// --- 5. In-flight and open-stream gauges.

TEST(Metrics, InFlightAndOpenStreamGaugesFollowAHeldStream) {
  std::atomic<bool> release{false};
  FakeUpstream upstream([&](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.StartSse();
    const std::string first = ChatChunkEvent("first");
    co_await ex.SendEvent(first);
    for (int i = 0; i < 2'000 && !release.load(); ++i) co_await ex.Sleep(milliseconds(5));
    const std::string usage = UsageChunkEvent(4, 9);
    co_await ex.SendEvent(usage);
    co_await ex.SendEvent(kDoneEvent);
    co_await ex.EndChunked();
  });
  GatewayHarness gateway(BasicConfig() + kMetricsOnMain, upstream.address());
  {
    TestClient client(gateway.port());
    client.Send(JsonRequest("/v1/chat/completions", kStreamRequestBody));
    ASSERT_TRUE(client.ReadHead());
    ASSERT_TRUE(client.ReadSseEvent());  // the stream is being relayed

    PrometheusScrape during = ScrapeMetrics(gateway.port());
    EXPECT_TRUE(during.errors().empty());
    EXPECT_EQ(during.Value("sluice_requests_in_flight"), 1.0) << "the scrape counts not itself";
    EXPECT_EQ(during.Value("sluice_streams_open"), 1.0);
    EXPECT_EQ(during.Value("sluice_client_connections_open"), 2.0) << "the stream's and ours";
    EXPECT_EQ(during.Sum("sluice_requests_total", {{"route", "chat_completions"}}), 0);

    release = true;
    while (client.ReadSseEvent()) {
    }
    EXPECT_TRUE(client.stream_finished());
  }
  PrometheusScrape after = ScrapeMetricsUntil(gateway.port(), [](const PrometheusScrape& s) {
    return s.Value("sluice_requests_in_flight") == 0.0 && s.Value("sluice_streams_open") == 0.0 &&
           s.Value("sluice_client_connections_open") == 1.0;
  });
  EXPECT_EQ(after.Value("sluice_requests_in_flight"), 0.0);
  EXPECT_EQ(after.Value("sluice_streams_open"), 0.0);
  EXPECT_EQ(after.Value("sluice_client_connections_open"), 1.0) << "only the scrape's";
  EXPECT_EQ(after.Value("sluice_requests_total", Chat2xx("m", "up")), 1.0);
}

// --- 6. Probes.

json::object ProbeJson(uint16_t port, std::string_view path, int& status) {
  std::optional<Response> response = Get(port, path);
  status = response ? response->status : 0;
  if (!response) return {};
  EXPECT_EQ(response->Header("content-type"), "application/json") << path;
  boost::system::error_code ec;
  json::value body = json::parse(response->body, ec);
  EXPECT_FALSE(ec) << path << ": " << response->body;
  return !ec && body.is_object() ? body.as_object() : json::object{};
}

TEST(Probes, LiveStartupAndReadyAnswerWithTheirChecks) {
  FakeUpstream upstream(AnswerChatWithUsage);
  GatewayHarness gateway(BasicConfig(), upstream.address());
  std::optional<Response> live = Get(gateway.port(), "/health/live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  EXPECT_EQ(live->body, R"({"status":"ok"})");
  int status = 0;
  json::object startup = ProbeJson(gateway.port(), "/health/startup", status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(startup["status"], json::value("started"));
  json::object ready = ProbeJson(gateway.port(), "/health/ready", status);
  EXPECT_EQ(status, 200) << json::serialize(ready);
  EXPECT_EQ(ready["status"], json::value("ready"));
  ASSERT_TRUE(ready.contains("checks") && ready["checks"].is_object()) << json::serialize(ready);
  const json::object& checks = ready["checks"].as_object();
  EXPECT_EQ(checks.at("started").at("ok"), json::value(true));
  EXPECT_EQ(checks.at("draining").at("ok"), json::value(true));
  EXPECT_EQ(checks.at("config").at("ok"), json::value(true));
  EXPECT_GE(checks.at("config").at("version").to_number<int64_t>(), 1);
  EXPECT_FALSE(checks.contains("models")) << "no required models configured";
  EXPECT_EQ(upstream.requests(), 0) << "probes never call the upstream";
}

TEST(Probes, ReadinessFollowsTheRequiredModelsDeployments) {
  std::atomic<int> health_status{200};
  FakeUpstream upstream([&](FakeExchange& ex) -> asio::awaitable<void> {
    const int status = health_status.load();
    const std::string body = status == 200 ? R"({"status":"ok"})" : R"({"status":"down"})";
    co_await ex.RespondJson(status, body);
  });
  GatewayHarness gateway(
      BasicConfig("    health_check: {path: /health, interval: 20ms,\n"
                  "                   unhealthy_threshold: 2, healthy_threshold: 2}\n") +
          "observability:\n  metrics: {on_main_listener: true}\n"
          "  probes: {required_models: [m]}\n",
      upstream.address());
  uint16_t port = gateway.port();
  int status = 0;
  json::object body;
  auto ready_is = [&](int expected) {
    return FakeUpstream::WaitUntil([&] {
      body = ProbeJson(port, "/health/ready", status);
      return status == expected;
    });
  };
  ASSERT_TRUE(ready_is(200)) << json::serialize(body);
  EXPECT_EQ(body.at("checks").at("models").at("m").at("ok"), json::value(true));

  health_status = 503;
  ASSERT_TRUE(ready_is(503)) << "the only deployment of m fails its checks";
  EXPECT_EQ(body["status"], json::value("not_ready"));
  const json::value& models = body.at("checks").at("models");
  EXPECT_EQ(models.at("ok"), json::value(false));
  EXPECT_EQ(models.at("m").at("ok"), json::value(false));
  EXPECT_EQ(models.at("m").at("available"), json::value(0));
  EXPECT_EQ(models.at("m").at("deployments"), json::value(1));
  PrometheusScrape scrape = ScrapeMetrics(port);
  EXPECT_EQ(scrape.Value("sluice_deployment_healthy", {{"model", "m"}, {"deployment", "up/up-m"}}),
            0.0);
  EXPECT_EQ(scrape.Matching("sluice_deployment_healthy", {{"model", "e"}}).size(), 1u);
  EXPECT_EQ(scrape.Sum("sluice_deployment_healthy", {{"model", "e"}}), 0.0)
      << "the same backend serves e";

  health_status = 200;
  ASSERT_TRUE(ready_is(200)) << "it recovered: ready again";
  EXPECT_EQ(body.at("checks").at("models").at("m").at("ok"), json::value(true));
  EXPECT_EQ(ScrapeMetrics(port).Value("sluice_deployment_healthy",
                                      {{"model", "m"}, {"deployment", "up/up-m"}}),
            1.0);
}

TEST(Probes, ARequiredModelMustBeConfigured) {
  filters::Registry registry;
  const std::string base =
      "backends:\n  - name: b\n    url: http://127.0.0.1:1/v1\n"
      "models:\n  - name: m\n    backend: b\n";
  LoadResult bad = LoadConfigText(base + "observability:\n  probes: {required_models: [m, nope]}\n",
                                  "test.yaml", registry);
  EXPECT_EQ(bad.snapshot, nullptr);
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_NE(bad.errors[0].find("test.yaml:"), std::string::npos) << bad.errors[0];
  EXPECT_NE(bad.errors[0].find("unknown model 'nope'"), std::string::npos) << bad.errors[0];
  LoadResult good = LoadConfigText(base + "observability:\n  probes: {required_models: [m]}\n",
                                   "test.yaml", registry);
  EXPECT_TRUE(good.errors.empty());
  ASSERT_NE(good.snapshot, nullptr);
  EXPECT_EQ(good.snapshot->observability.required_models, std::vector<std::string>{"m"});
}

// --- 7. /metrics is not served on the main listener unless enabled there.

TEST(Metrics, MetricsOnTheMainListenerIsA404UnlessEnabled) {
  FakeUpstream upstream(AnswerChatWithUsage);
  for (const std::string& observability :
       {std::string(), std::string("observability:\n  metrics: {enabled: false, "
                                   "on_main_listener: true}\n")}) {
    GatewayHarness gateway(BasicConfig() + observability, upstream.address());
    std::optional<Response> response = Get(gateway.port(), "/metrics");
    ASSERT_TRUE(response);
    json::object error = auth_test::ExpectOpenAiError(*response, 404, "invalid_request_error", "");
    EXPECT_NE(std::string(error["message"].as_string()).find("/metrics"), std::string::npos);
    EXPECT_EQ(response->body.find("sluice_"), std::string::npos) << "no metric leaked";
  }
}

// --- 8. Overhead headers.

double Millis(const std::string& text) {
  static const std::regex kMillis(R"(\d+\.\d{3})");
  EXPECT_TRUE(std::regex_match(text, kMillis)) << "'" << text << "'";
  return std::regex_match(text, kMillis) ? std::stod(text) : -1;
}

TEST(OverheadHeaders, SplitGatewayAndUpstreamTimeWhenEnabled) {
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.Sleep(milliseconds(30));
    co_await AnswerChatWithUsage(ex);
  });
  GatewayHarness gateway(BasicConfig() + "observability:\n  overhead_headers: true\n",
                         upstream.address());
  auto started = std::chrono::steady_clock::now();
  Response proxied = Post(gateway.port(), kChatRequestBody);
  double elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(proxied.status, 200);
  std::string overhead = proxied.Header("x-sluice-overhead-ms");
  double gateway_ms = Millis(overhead);
  EXPECT_GE(gateway_ms, 0);
  static const std::regex kBoth(R"(gateway;dur=(\d+\.\d{3}), upstream;dur=(\d+\.\d{3}))");
  std::smatch match;
  std::string timing = proxied.Header("server-timing");
  ASSERT_TRUE(std::regex_match(timing, match, kBoth)) << timing;
  EXPECT_EQ(match[1].str(), overhead);
  double upstream_ms = std::stod(match[2].str());
  EXPECT_GE(upstream_ms, 30.0) << "the upstream held the answer 30 ms";
  EXPECT_LE(gateway_ms + upstream_ms, elapsed_ms + 0.002) << "the parts fit in the whole";

  // A stream's head carries them too.
  {
    TestClient client(gateway.port());
    client.Send(JsonRequest("/v1/chat/completions", kStreamRequestBody));
    std::optional<Response> head = client.ReadHead();
    ASSERT_TRUE(head);
    EXPECT_TRUE(std::regex_match(head->Header("server-timing"), kBoth))
        << head->Header("server-timing");
    while (client.ReadSseEvent()) {
    }
  }

  // A local reply has no upstream part.
  Response local = Post(gateway.port(), R"({"model":"nope","messages":[]})");
  EXPECT_EQ(local.status, 404);
  Millis(local.Header("x-sluice-overhead-ms"));
  EXPECT_EQ(local.Header("server-timing"), "gateway;dur=" + local.Header("x-sluice-overhead-ms"));
}

TEST(OverheadHeaders, AreOffByDefault) {
  FakeUpstream upstream(AnswerChatWithUsage);
  GatewayHarness gateway(BasicConfig(), upstream.address());
  Response proxied = Post(gateway.port(), kChatRequestBody);
  ASSERT_EQ(proxied.status, 200);
  Response local = Post(gateway.port(), R"({"model":"nope","messages":[]})");
  ASSERT_EQ(local.status, 404);
  for (const Response* r : {&proxied, &local}) {
    for (const auto& [name, value] : r->headers) {
      EXPECT_NE(name, "x-sluice-overhead-ms");
      EXPECT_NE(name, "server-timing");
    }
    EXPECT_EQ(r->Header("x-sluice-overhead-ms"), "");
    EXPECT_EQ(r->Header("server-timing"), "");
  }
}

// --- 9. The access log's new fields, all in one gateway: auth, a per-key limit, retries.

class AccessLogFields : public ::testing::Test {
 protected:
  ~AccessLogFields() override {
    gateway_.reset();
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((db_ + suffix).c_str());
    std::error_code ignored;
    std::filesystem::remove_all(db_ + ".usage", ignored);
  }

  auth_test::TestKey CreateKey() {
    return auth_test::InsertTestKey(*gateway_->auth(), {}, "metrics test key");
  }

  std::string db_ = auth_test::TempDbPath();
  std::unique_ptr<GatewayHarness> gateway_;
};

TEST_F(AccessLogFields, NameTheCallerTheLimitTheRetriesAndTheConfigVersion) {
  // The first attempt of all (on whichever deployment) fails; every other one succeeds.
  std::atomic<int> attempts{0};
  auto handler = [&](FakeExchange& ex) -> asio::awaitable<void> {
    if (++attempts == 1) {
      const std::string body = R"({"error":{"message":"busy","type":"server_error"}})";
      co_await ex.RespondJson(503, body);
    } else {
      co_await AnswerChatWithUsage(ex);
    }
  };
  FakeUpstream d0(handler), d1(handler);
  std::string yaml =
      TwoDeploymentsConfig(d0.address(), d1.address()) +
      "auth:\n  bootstrap: {admin_key: false}\n  tiers: {all: [\"*\"]}\n  default_tier: all\n"
      "store:\n  sqlite: " +
      db_ +
      "\n"
      "limits:\n  policies:\n    - name: per-key\n      per: key\n      requests: 2/minute\n"
      "filters:\n  - request_id: {}\n  - access_log:\n      output: {access_log}\n"
      "  - auth: {}\n  - authorize: {}\n  - rate_limit: {}\n" +
      kMetricsOnMain;
  gateway_ = std::make_unique<GatewayHarness>(yaml);
  ASSERT_NE(gateway_->auth(), nullptr);
  auth_test::TestKey key = CreateKey();
  uint16_t port = gateway_->port();
  std::string bearer = auth_test::BearerHeader(key.secret);
  EXPECT_EQ(Post(port, kChatRequestBody, bearer).status, 200);  // retried once
  EXPECT_EQ(Post(port, kChatRequestBody, bearer).status, 200);
  EXPECT_EQ(Post(port, kChatRequestBody, bearer).status, 429);  // over the key's 2/minute
  EXPECT_EQ(Post(port, kChatRequestBody).status, 401);          // no key

  PrometheusScrape scrape =
      ScrapeMetricsUntil(port, RequestsAtLeast(4, {{"route", "chat_completions"}}));
  std::optional<double> version = scrape.Value("sluice_config_version");
  ASSERT_TRUE(version);
  auto log = ChatLines(gateway_->AccessLog(4));
  ASSERT_EQ(log.size(), 4u);
  for (const auto& line : log) {
    for (const char* field : {"principal", "key_prefix", "limit", "limit_policy"}) {
      LogText(line, field);  // present, text or null
    }
    EXPECT_TRUE(line.contains("retries") && line.at("retries").is_int64());
    EXPECT_EQ(line.at("config_version").to_number<double>(), *version);
    auth_test::ExpectNoSecrets("access log", json::serialize(line), {key.secret, key.hash});
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(LogText(log[i], "principal"), "key:" + key.id) << i;
    EXPECT_EQ(LogText(log[i], "key_prefix"), key.prefix) << i;
  }
  EXPECT_EQ(LogText(log[0], "limit"), "allowed");
  EXPECT_EQ(LogText(log[0], "limit_policy"), "");
  EXPECT_EQ(log[0].at("retries").as_int64(), 1);
  EXPECT_EQ(LogText(log[1], "limit"), "allowed");
  EXPECT_EQ(log[1].at("retries").as_int64(), 0);
  EXPECT_EQ(LogText(log[2], "limit"), "rejected");
  EXPECT_EQ(LogText(log[2], "limit_policy"), "per-key");
  EXPECT_EQ(log[2].at("retries").as_int64(), 0);
  EXPECT_EQ(LogText(log[3], "principal"), "");
  EXPECT_EQ(LogText(log[3], "limit"), "") << "refused before the limiter";
  EXPECT_EQ(scrape.Value("sluice_upstream_retries_total", {{"model", "m"}}), 1.0);
  EXPECT_EQ(scrape.Value("sluice_limiter_decisions_total",
                         {{"policy", "per-key"}, {"outcome", "rejected"}}),
            1.0);
}

}  // namespace
}  // namespace sluice::testing
