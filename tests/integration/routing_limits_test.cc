// Integration: deployments' own limits behind the real server. Two deployments of 5 requests
// per minute serve 10 requests (5 each) and the 11th gets OpenAI's 429 with Retry-After; a
// group whose deployments are all over their limits falls back to a rate_limited fallback;
// a tokens_per_minute reservation (the request's estimate) is settled with the real usage;
// a request larger than every deployment's tokens per minute gets a 429 without Retry-After.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

constexpr std::string_view kChatBody =
    R"({"model":"m","messages":[{"role":"user","content":"hello"}]})";

// A 200 with `content` and usage 3 + 1 (a trivially copyable capture: see GCC 12 notes).
FakeUpstream::Handler Answer(const char* content) {
  return [content](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.RespondJson(200, ChatCompletionJson(content, 3, 1));
  };
}

std::string Backends(const FakeUpstream& d0, const FakeUpstream& d1) {
  return "server:\n  listen: 127.0.0.1:0\n  workers: 1\n"
         "backends:\n"
         "  - {name: d0, url: 'http://" +
         d0.address() +
         "/v1'}\n"
         "  - {name: d1, url: 'http://" +
         d1.address() + "/v1'}\n";
}

const char* kFilters =
    "filters:\n  - request_id: {}\n  - access_log:\n      output: {access_log}\n";

std::optional<Response> PostChat(uint16_t port, std::string_view body = kChatBody) {
  TestClient client(port);
  client.Send(JsonRequest("/v1/chat/completions", body));
  return client.ReadResponse();
}

TEST(RoutingLimits, TwoDeploymentsOfFivePerMinuteServeTenThenTheEleventhGets429) {
  FakeUpstream d0(Answer("zero")), d1(Answer("one"));
  GatewayHarness gateway(Backends(d0, d1) +
                         "models:\n"
                         "  - name: m\n"
                         "    deployments:\n"
                         "      - {backend: d0, upstream_model: up, limits: "
                         "{requests_per_minute: 5}}\n"
                         "      - {backend: d1, upstream_model: up, limits: "
                         "{requests_per_minute: 5}}\n" +
                         kFilters);
  for (int i = 0; i < 10; ++i) {
    auto response = PostChat(gateway.port());
    ASSERT_TRUE(response) << "request " << i;
    ASSERT_EQ(response->status, 200) << "request " << i << ": " << response->body;
  }
  EXPECT_EQ(d0.requests(), 5);
  EXPECT_EQ(d1.requests(), 5);

  auto refused = PostChat(gateway.port());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_EQ(d0.requests() + d1.requests(), 10) << "the 11th never went upstream";
  // Each deployment gets one more request every 60 s / 5 = 12 s.
  std::string retry_after = refused->Header("retry-after");
  EXPECT_TRUE(retry_after == "12" || retry_after == "11") << "Retry-After: " << retry_after;
  int64_t retry_ms = std::stoll("0" + refused->Header("retry-after-ms"));
  EXPECT_GT(retry_ms, 10'000);
  EXPECT_LE(retry_ms, 12'000);
  json::object error = json::parse(refused->body).as_object().at("error").as_object();
  EXPECT_EQ(error.at("code").as_string(), "rate_limit_exceeded");
  std::string message(error.at("message").as_string());
  EXPECT_NE(message.find("model 'm'"), std::string::npos) << message;
  auto log = gateway.AccessLog(11);
  ASSERT_EQ(log.size(), 11u);
  EXPECT_EQ(log[10].at("status").as_int64(), 429);
}

TEST(RoutingLimits, AGroupOverItsLimitsFallsBackToARateLimitedFallback) {
  FakeUpstream d0(Answer("primary")), d1(Answer("fallback"));
  GatewayHarness gateway(Backends(d0, d1) +
                         "models:\n"
                         "  - name: m\n"
                         "    deployments:\n"
                         "      - {backend: d0, upstream_model: up, limits: "
                         "{requests_per_minute: 1}}\n"
                         "    fallbacks: [{on: [rate_limited], to: n}]\n"
                         "  - name: n\n"
                         "    backend: d1\n" +
                         kFilters);
  for (const char* expected : {"primary", "fallback", "fallback"}) {
    auto response = PostChat(gateway.port());
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << response->body;
    EXPECT_NE(response->body.find(expected), std::string::npos) << response->body;
  }
  EXPECT_EQ(d0.requests(), 1);
  EXPECT_EQ(d1.requests(), 2);
}

TEST(RoutingLimits, TokensAreReservedByTheEstimateAndSettledWithTheUsage) {
  FakeUpstream d0(Answer("short")), d1(Answer("unused"));
  GatewayHarness gateway(Backends(d0, d1) +
                         "models:\n"
                         "  - name: m\n"
                         "    deployments:\n"
                         "      - {backend: d0, upstream_model: up, limits: "
                         "{tokens_per_minute: 100}}\n" +
                         kFilters);
  // Estimated at the prompt (~8 tokens) + max_tokens 50; the upstream reports 3 + 1 used. Had
  // the reservations stood, the second request would not fit (2 x 58 > 100).
  constexpr std::string_view kBounded =
      R"({"model":"m","max_tokens":50,"messages":[{"role":"user","content":"hello"}]})";
  for (int i = 0; i < 5; ++i) {
    auto response = PostChat(gateway.port(), kBounded);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << "request " << i << ": " << response->body;
  }
  EXPECT_EQ(d0.requests(), 5);

  // Without max_tokens the reservation is default_max_tokens (1024): more than a minute's
  // tokens, so no deployment can ever take it.
  auto too_large = PostChat(gateway.port());
  ASSERT_TRUE(too_large);
  EXPECT_EQ(too_large->status, 429);
  EXPECT_EQ(too_large->Header("retry-after"), "");
  EXPECT_NE(too_large->body.find("Request too large for model 'm'"), std::string::npos)
      << too_large->body;
  EXPECT_EQ(d0.requests(), 5);
}

}  // namespace
}  // namespace sluice::testing
