// Integration: active health checks through the real server. A backend whose /health turns
// 503 stops getting traffic once unhealthy_threshold checks failed and gets it back after
// healthy_threshold checks pass; checks carry the backend's Host, key and static headers,
// work over TLS, and never call a completion endpoint. The prober alone: a passing check,
// an unexpected status, a timeout and a refused connection.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cstdlib>
#include <string>

#include "http/health_probe.h"
#include "tests/testing/child_process.h"
#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

constexpr std::string_view kChatBody =
    R"({"model":"m","messages":[{"role":"user","content":"hello"}]})";

// An upstream whose GET /health answers `health_status` (counting the checks it answered
// with each status) and whose chat completions answer 200, counting them.
class HealthyUpstream {
 public:
  explicit HealthyUpstream(std::optional<TlsFiles> tls = std::nullopt)
      : upstream_(
            [this](FakeExchange& ex) -> asio::awaitable<void> {
              if (ex.request().target == "/health") {
                int status = health_status.load();
                (status == 200 ? checks_ok : checks_failed)++;
                co_await ex.RespondJson(
                    status, status == 200 ? R"({"status":"ok"})" : R"({"status":"down"})");
              } else {
                ++chats;
                co_await ex.RespondJson(200, ChatCompletionJson("hi", 3, 1));
              }
            },
            std::move(tls)) {}

  std::string address() const { return upstream_.address(); }
  const FakeUpstream& fake() const { return upstream_; }

  std::atomic<int> health_status{200};
  std::atomic<int> checks_ok{0};
  std::atomic<int> checks_failed{0};
  std::atomic<int> chats{0};

 private:
  FakeUpstream upstream_;
};

int PostChat(uint16_t port) {
  TestClient client(port);
  client.Send(JsonRequest("/v1/chat/completions", kChatBody));
  auto response = client.ReadResponse();
  return response ? response->status : 0;
}

// Model "m" over d0 (flaky) and d1 (steady), round robin, both checked every 50 ms. Breaker
// and outlier detection are off: only the health checks can keep d0 out.
std::string TwoBackendConfig(const HealthyUpstream& flaky, const HealthyUpstream& steady) {
  return "server:\n  listen: 127.0.0.1:0\n  workers: 1\n"
         "routing:\n"
         "  health_check: {path: /health, interval: 50ms, timeout: 1s,\n"
         "                 unhealthy_threshold: 2, healthy_threshold: 2}\n"
         "  circuit_breaker: {consecutive_failures: 0}\n"
         "  outlier_detection: {consecutive_errors: 0}\n"
         "backends:\n"
         "  - {name: d0, url: 'http://" +
         flaky.address() +
         "/v1'}\n"
         "  - {name: d1, url: 'http://" +
         steady.address() +
         "/v1'}\n"
         "models:\n"
         "  - name: m\n"
         "    balancer: round_robin\n"
         "    deployments: [{backend: d0, upstream_model: up-m}, {backend: d1, upstream_model: "
         "up-m}]\n"
         "filters:\n  - request_id: {}\n  - access_log:\n      output: {access_log}\n";
}

TEST(RoutingHealth, AnUnhealthyBackendGetsNoTrafficUntilItRecovers) {
  HealthyUpstream flaky, steady;
  GatewayHarness gateway(TwoBackendConfig(flaky, steady));
  ASSERT_TRUE(FakeUpstream::WaitUntil([&] { return flaky.checks_ok >= 1; }, milliseconds(5'000)))
      << "the gateway never checked d0";
  for (int i = 0; i < 10; ++i) ASSERT_EQ(PostChat(gateway.port()), 200);
  EXPECT_EQ(flaky.chats.load(), 5) << "round robin while both are healthy";
  EXPECT_EQ(steady.chats.load(), 5);

  // /health turns 503. Checks of one backend run one after the other, so once d0 has seen a
  // third failing check, the gateway has recorded two: unhealthy_threshold.
  flaky.health_status = 503;
  ASSERT_TRUE(
      FakeUpstream::WaitUntil([&] { return flaky.checks_failed >= 3; }, milliseconds(5'000)))
      << "checks stopped";
  int flaky_chats = flaky.chats.load();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(PostChat(gateway.port()), 200) << "request " << i;
  EXPECT_EQ(flaky.chats.load(), flaky_chats) << "no traffic to the unhealthy backend";
  EXPECT_EQ(steady.chats.load(), 25);

  // It recovers: after healthy_threshold passing checks it is used again.
  flaky.health_status = 200;
  int ok_before = flaky.checks_ok.load();
  ASSERT_TRUE(FakeUpstream::WaitUntil([&] { return flaky.checks_ok >= ok_before + 3; },
                                      milliseconds(5'000)));
  for (int i = 0; i < 10; ++i) ASSERT_EQ(PostChat(gateway.port()), 200);
  EXPECT_EQ(flaky.chats.load(), flaky_chats + 5) << "taken back: round robin again";
}

TEST(RoutingHealth, ChecksCarryTheBackendsHostKeyAndHeadersAndNeverCallCompletions) {
  ::setenv("SLUICE_HEALTH_TEST_KEY", "sk-health-secret", 1);
  HealthyUpstream upstream;
  GatewayHarness gateway(BasicConfig("    api_key_env: SLUICE_HEALTH_TEST_KEY\n"
                                     "    headers: {X-Team: platform}\n"
                                     "    health_check: {path: /health, interval: 20ms}\n"),
                         upstream.address());
  ASSERT_TRUE(
      FakeUpstream::WaitUntil([&] { return upstream.checks_ok >= 3; }, milliseconds(5'000)));
  std::vector<FakeRequest> seen = upstream.fake().requests_seen();
  ASSERT_GE(seen.size(), 3u);
  for (const FakeRequest& r : seen) {
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/health") << "from the host's root, not under /v1; nothing else";
    EXPECT_EQ(r.Header("Host"), upstream.address());
    EXPECT_EQ(r.Header("Authorization"), "Bearer sk-health-secret");
    EXPECT_EQ(r.Header("X-Team"), "platform");
    EXPECT_EQ(r.Header("Connection"), "close");
    EXPECT_EQ(r.body, "");
  }
  EXPECT_EQ(upstream.chats.load(), 0) << "a health check is never a completion call";
  ::unsetenv("SLUICE_HEALTH_TEST_KEY");
}

TEST(RoutingHealth, ChecksWorkOverVerifiedTls) {
  std::string dir = WriteTempFile("health-tls", "");
  std::string cmd = "rm -f " + dir + " && mkdir -p " + dir +
                    " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                    "-nodes -days 1 -subj /CN=localhost "
                    "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
                    dir + "/key.pem -out " + dir + "/cert.pem 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl CLI is required (scripts/install-deps)";
  {
    HealthyUpstream upstream(TlsFiles{dir + "/cert.pem", dir + "/key.pem"});
    std::string yaml = BasicConfig("    tls: {ca_file: " + dir +
                                   "/cert.pem}\n"
                                   "    health_check: {interval: 20ms}\n");
    yaml.replace(yaml.find("http://{upstream}"), 17, "https://{upstream}");
    GatewayHarness gateway(yaml, upstream.address());
    EXPECT_TRUE(
        FakeUpstream::WaitUntil([&] { return upstream.checks_ok >= 2; }, milliseconds(5'000)))
        << "no check arrived over TLS";
  }
  std::system(("rm -rf " + dir).c_str());
}

// --- The prober alone, on its own io_context ---

routing::ProbeResult ProbeOnce(const BackendConfig& backend) {
  asio::io_context io;
  UpstreamHealthProber prober;
  routing::ProbeResult result;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await prober.Probe(io, backend);
        done = true;
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(done);
  return result;
}

BackendConfig PlainBackend(uint16_t port) {
  BackendConfig b;
  b.name = "probe";
  b.host = "127.0.0.1";
  b.port = port;
  b.host_header = "127.0.0.1:" + std::to_string(port);
  b.url = "http://" + b.host_header + "/v1";
  b.health_check.enabled = true;
  b.health_check.timeout = milliseconds(300);
  return b;
}

TEST(HealthProbe, PassesOnAnExpectedStatusAndFailsOnAnotherWithoutSecrets) {
  HealthyUpstream upstream;
  BackendConfig backend = PlainBackend(upstream.fake().port());
  backend.api_key = "sk-probe-secret";
  routing::ProbeResult ok = ProbeOnce(backend);
  EXPECT_TRUE(ok.ok) << ok.error;
  upstream.health_status = 503;
  routing::ProbeResult failed = ProbeOnce(backend);
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.error, "status 503");
  backend.health_check.expected_status = {{500, 599}};
  EXPECT_TRUE(ProbeOnce(backend).ok) << "expected_status decides";
  backend.health_check.method = "HEAD";
  backend.health_check.expected_status = {{200, 299}};
  upstream.health_status = 200;
  EXPECT_TRUE(ProbeOnce(backend).ok);
  EXPECT_EQ(upstream.fake().requests_seen().back().method, "HEAD");
}

TEST(HealthProbe, ASilentBackendTimesOut) {
  FakeUpstream silent([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.WaitForPeerClose(milliseconds(5'000));
  });
  auto started = std::chrono::steady_clock::now();
  routing::ProbeResult result = ProbeOnce(PlainBackend(silent.port()));
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "no answer within 300ms");
  EXPECT_GE(elapsed, milliseconds(300));
  EXPECT_LT(elapsed, milliseconds(2'000));
}

TEST(HealthProbe, ARefusedConnectionFails) {
  uint16_t port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
  }  // closed: nothing listens there now
  routing::ProbeResult result = ProbeOnce(PlainBackend(port));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "connect failed");
}

TEST(HealthProbe, TheRequestIsAGetWithHostKeyHeadersAndClose) {
  BackendConfig b = PlainBackend(8000);
  b.api_key = "sk-x";
  b.extra_headers = "X-Team: platform\r\n";
  b.health_check.path = "/v1/models";
  EXPECT_EQ(HealthCheckRequest(b),
            "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: sluice-health-check\r\n"
            "Accept: */*\r\nAuthorization: Bearer sk-x\r\nX-Team: platform\r\n"
            "Connection: close\r\n\r\n");
}

}  // namespace
}  // namespace sluice::testing
