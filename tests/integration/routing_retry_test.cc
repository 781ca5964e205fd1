// Integration: a model group of three deployments behind the real server. One deployment
// fails every request and one is slow: every request still succeeds through retries, the
// failing one is ejected after the configured number of failures and comes back once it
// recovers; with all three failing, the retry budget bounds the upstream attempts; an
// upstream's Retry-After hint sets the wait before the retry.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <iostream>
#include <thread>
#include <vector>

#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;
using std::chrono::milliseconds;

constexpr std::string_view kChatBody =
    R"({"model":"m","messages":[{"role":"user","content":"hello"}]})";

std::string ServiceUnavailable() {
  return R"({"error":{"message":"overloaded","type":"server_error","code":null}})";
}

// A gateway whose model "m" has one deployment per upstream (backends d0, d1, ...), with
// `group` appended inside the model entry (indented by 4 spaces).
std::string GroupConfig(const std::vector<const FakeUpstream*>& upstreams,
                        const std::string& group) {
  std::string yaml = "server:\n  listen: 127.0.0.1:0\n  workers: 1\nbackends:\n";
  for (size_t i = 0; i < upstreams.size(); ++i) {
    yaml += "  - name: d" + std::to_string(i) + "\n    url: http://" + upstreams[i]->address() +
            "/v1\n";
  }
  yaml += "models:\n  - name: m\n    deployments:\n";
  for (size_t i = 0; i < upstreams.size(); ++i) {
    yaml += "      - {backend: d" + std::to_string(i) + ", upstream_model: up-m}\n";
  }
  yaml += group;
  yaml += "filters:\n  - request_id: {}\n  - access_log:\n      output: {access_log}\n";
  return yaml;
}

int PostChat(uint16_t port) {
  TestClient client(port);
  client.Send(JsonRequest("/v1/chat/completions", kChatBody));
  auto response = client.ReadResponse();
  return response ? response->status : 0;
}

TEST(RoutingRetry, EveryRequestSucceedsAndTheFailingDeploymentIsEjectedThenReturns) {
  std::atomic<bool> failing_recovered{false};
  FakeUpstream failing([&](FakeExchange& ex) -> asio::awaitable<void> {
    if (failing_recovered) {
      co_await ex.RespondJson(200, ChatCompletionJson("recovered", 3, 1));
    } else {
      co_await ex.RespondJson(503, ServiceUnavailable());
    }
  });
  FakeUpstream slow([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.Sleep(milliseconds(40));
    co_await ex.RespondJson(200, ChatCompletionJson("slow", 3, 1));
  });
  FakeUpstream good([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.RespondJson(200, ChatCompletionJson("good", 3, 1));
  });
  // Round robin keeps sending the failing deployment its share until it is ejected
  // (p2c_ewma would steer away from it after its first failure and never eject it).
  GatewayHarness gateway(GroupConfig({&failing, &slow, &good},
                                     "    balancer: round_robin\n"
                                     "    retries: {attempts: 2, backoff: {base: 1ms, max: 5ms}}\n"
                                     "    outlier_detection:\n"
                                     "      consecutive_errors: 3\n"
                                     "      base_ejection_time: 2s\n"
                                     "      interval: 100ms\n"));
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) ASSERT_EQ(PostChat(gateway.port()), 200) << "request " << i;
  auto elapsed = std::chrono::steady_clock::now() - started;
  // Three 503s in a row eject it (unless the 50 requests outlasted the 2 s ejection).
  if (elapsed < std::chrono::seconds(2)) {
    EXPECT_EQ(failing.requests(), 3) << "ejected after exactly consecutive_errors failures";
  } else {
    std::cerr << "the 50 requests outlasted the ejection; its count was not checked\n";
  }
  EXPECT_EQ(good.requests() + slow.requests(), 50)
      << "each failed attempt was retried once, elsewhere";

  // It recovers; once the ejection is over it is picked again and answers.
  failing_recovered = true;
  int before = failing.requests();
  bool back = FakeUpstream::WaitUntil(
      [&] {
        EXPECT_EQ(PostChat(gateway.port()), 200);
        return failing.requests() > before;
      },
      milliseconds(6'000));
  EXPECT_TRUE(back) << "the ejected deployment never came back";
  auto log = gateway.AccessLog(51);
  ASSERT_GE(log.size(), 51u);
  for (const auto& line : log) EXPECT_EQ(line.at("status").as_int64(), 200);
}

TEST(RoutingRetry, TheRetryBudgetBoundsAttemptsWhenEveryDeploymentFails) {
  // The first 50 attempts (one per request: retries start only after a failure) are held
  // until all 50 arrived, so all requests are in flight when the failures come back; the
  // retries then fail slowly, so every first failure is judged with all requests counted.
  constexpr int kRequests = 50;
  std::atomic<int> arrived{0};
  auto fail = [&](FakeExchange& ex) -> asio::awaitable<void> {
    int n = ++arrived;
    if (n <= kRequests) {
      for (int i = 0; i < 2'000 && arrived.load() < kRequests; ++i) {
        co_await ex.Sleep(milliseconds(5));
      }
    } else {
      co_await ex.Sleep(milliseconds(150));
    }
    co_await ex.RespondJson(503, ServiceUnavailable());
  };
  FakeUpstream a(fail), b(fail), c(fail);
  GatewayHarness gateway(
      GroupConfig({&a, &b, &c},
                  "    retries:\n"
                  "      attempts: 2\n"
                  "      backoff: {base: 1ms, max: 2ms}\n"
                  "      budget: {ratio: 0.2, min_concurrent: 3}\n"
                  // Breakers and ejection off: the budget alone must hold the line.
                  "    circuit_breaker: {consecutive_failures: 0}\n"
                  "    outlier_detection: {consecutive_errors: 0}\n"));
  std::vector<std::thread> clients;
  std::atomic<int> unavailable{0};
  for (int i = 0; i < kRequests; ++i) {
    clients.emplace_back([&] {
      if (PostChat(gateway.port()) == 503) ++unavailable;
    });
  }
  for (auto& t : clients) t.join();
  int attempts = a.requests() + b.requests() + c.requests();
  RecordProperty("upstream_attempts", attempts);
  EXPECT_EQ(unavailable.load(), kRequests) << "the upstreams' 503 is relayed";
  EXPECT_GT(attempts, kRequests) << "no request was retried at all";
  EXPECT_LE(attempts, kRequests * 1.2 + 3) << "retries exceeded ratio x requests + min";
}

TEST(RoutingRetry, AServerHintSetsTheWaitBeforeTheRetry) {
  std::atomic<int> first{0};
  auto handler = [&](FakeExchange& ex) -> asio::awaitable<void> {
    if (first++ == 0) {
      co_await ex.RespondJson(429, R"({"error":{"message":"slow down","type":"rate_limit"}})",
                              "retry-after-ms: 300\r\n");
    } else {
      co_await ex.RespondJson(200, ChatCompletionJson("ok", 3, 1));
    }
  };
  FakeUpstream a(handler), b(handler);
  GatewayHarness gateway(
      GroupConfig({&a, &b}, "    retries: {attempts: 1, backoff: {base: 1ms, max: 1ms}}\n"));
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(PostChat(gateway.port()), 200);
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(a.requests() + b.requests(), 2);
  EXPECT_EQ(a.requests(), 1) << "the retry went to the other deployment";
  EXPECT_GE(elapsed, milliseconds(300)) << "retry-after-ms was not honoured";
}

TEST(RoutingRetry, ANonRetryableErrorIsRelayedWithoutARetry) {
  auto handler = [](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.RespondJson(400, R"({"error":{"message":"bad","type":"invalid_request_error"}})");
  };
  FakeUpstream a(handler), b(handler);
  GatewayHarness gateway(GroupConfig({&a, &b}, ""));
  EXPECT_EQ(PostChat(gateway.port()), 400);
  EXPECT_EQ(a.requests() + b.requests(), 1);
}

}  // namespace
}  // namespace sluice::testing
