// Integration: traffic control through the real server with the in-process counter store —
// request and token limits with OpenAI's headers and 429s, reservations settled with the
// real usage, all-or-nothing decisions (a refused request consumes no quota), concurrency
// slots released on completion and on client disconnect, money budgets, repeat-offender
// blocks, and the configuration errors of the limits: section.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "config/loader.h"
#include "filters/rate_limit/rate_limit_filter.h"
#include "filters/registry.h"
#include "limits/limits_runtime.h"
#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

// A short chat: ~12 prompt tokens by the estimator, 10 reserved for the completion.
constexpr std::string_view kSmallChat =
    R"({"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hello"}]})";

asio::awaitable<void> AnswerSmall(FakeExchange& ex) {
  co_await ex.RespondJson(200, ChatCompletionJson("hi", 7, 2));
}

std::string WithLimits(const std::string& limits) { return BasicConfig() + "limits:\n" + limits; }

// Adds the rate_limit filter after access_log, the last filter of BasicConfig.
std::string WithRateLimit(std::string config) {
  const std::string last = "      output: {access_log}\n";
  config.insert(config.find(last) + last.size(), "  - rate_limit: {}\n");
  return config;
}

std::optional<Response> Chat(TestClient& client, std::string_view body = kSmallChat) {
  client.Send(JsonRequest("/v1/chat/completions", body));
  return client.ReadResponse();
}

TEST(RateLimit, RequestLimitAnswers429InOpenAiShapeWithHeaders) {
  FakeUpstream upstream(AnswerSmall);
  GatewayHarness gateway(WithRateLimit(BasicConfig() + "limits:\n"
                                                       "  policies:\n"
                                                       "    - name: per-ip\n"
                                                       "      per: [client_ip]\n"
                                                       "      requests: 3/minute\n"),
                         upstream.address());
  TestClient client(gateway.port());
  for (int i = 0; i < 3; ++i) {
    auto response = Chat(client);
    ASSERT_TRUE(response);
    ASSERT_EQ(response->status, 200) << response->body;
    EXPECT_EQ(response->Header("x-ratelimit-limit-requests"), "3");
    EXPECT_EQ(response->Header("x-ratelimit-remaining-requests"), std::to_string(2 - i));
    EXPECT_FALSE(response->Header("x-ratelimit-reset-requests").empty());
  }
  auto refused = Chat(client);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  json::value body = json::parse(refused->body);
  EXPECT_EQ(body.at("error").at("code").as_string(), "rate_limit_exceeded");
  EXPECT_EQ(body.at("error").at("type").as_string(), "requests");
  EXPECT_NE(std::string(body.at("error").at("message").as_string()).find("per-ip"),
            std::string::npos);
  EXPECT_FALSE(refused->Header("x-request-id").empty());
  // 3 per minute: the next one is admitted 20 s after the first.
  int retry = std::stoi(refused->Header("retry-after"));
  EXPECT_GE(retry, 19);
  EXPECT_LE(retry, 20);
  EXPECT_GE(std::stoll(refused->Header("retry-after-ms")), 19'000);
  EXPECT_EQ(refused->Header("x-ratelimit-remaining-requests"), "0");
  EXPECT_EQ(upstream.requests(), 3) << "a refused request never reaches the upstream";
  auto log = gateway.AccessLog(4);
  EXPECT_EQ(log.back().at("status").as_int64(), 429);
}

TEST(RateLimit, TokenReservationsAreSettledWithTheRealUsage) {
  FakeUpstream upstream(AnswerSmall);  // reports 7 + 2 tokens
  // 100 tokens per minute; each request reserves ~12 prompt + 50 completion = ~62 tokens,
  // so without settlement the second request would be refused. Settled to 9 tokens each,
  // requests pass while 9k + 62 <= 100: five of them, and the sixth is refused.
  GatewayHarness gateway(WithRateLimit(WithLimits("  policies:\n"
                                                  "    - name: tpm\n"
                                                  "      tokens: {limit: 100, per: minute}\n")),
                         upstream.address());
  TestClient client(gateway.port());
  constexpr std::string_view kBody =
      R"({"model":"m","max_tokens":50,"messages":[{"role":"user","content":"hello"}]})";
  for (int i = 0; i < 5; ++i) {
    auto response = Chat(client, kBody);
    ASSERT_TRUE(response);
    ASSERT_EQ(response->status, 200) << "request " << i << ": " << response->body;
    EXPECT_EQ(response->Header("x-ratelimit-limit-tokens"), "100");
  }
  auto refused = Chat(client, kBody);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_NE(refused->body.find("tokens"), std::string::npos);
  // 45 tokens spent: a request reserving ~22 still fits.
  auto small = Chat(client);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200) << small->body;
  // One larger than the whole per-minute capacity never passes and says so.
  auto huge =
      Chat(client, R"({"model":"m","max_tokens":500,"messages":[{"role":"user","content":"x"}]})");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 429);
  EXPECT_NE(huge->body.find("larger than the limit"), std::string::npos) << huge->body;
  EXPECT_EQ(huge->Header("retry-after"), "");
}

TEST(RateLimit, RefusedRequestConsumesNoQuota) {
  FakeUpstream upstream(AnswerSmall);
  // Checked in order: requests (2/min) then tokens (30/min). A big request passes the
  // request check but not the token check; it must not use up a request.
  GatewayHarness gateway(WithRateLimit(WithLimits("  policies:\n"
                                                  "    - name: both\n"
                                                  "      requests: 2/minute\n"
                                                  "      tokens: {limit: 30, per: minute}\n")),
                         upstream.address());
  TestClient client(gateway.port());
  constexpr std::string_view kBig =
      R"({"model":"m","max_tokens":25,"messages":[{"role":"user","content":"hello"}]})";
  auto refused = Chat(client, kBig);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429) << refused->body;
  for (int i = 0; i < 2; ++i) {
    auto response = Chat(client);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << "request " << i << " " << response->body;
  }
  auto third = Chat(client);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 429);
  EXPECT_EQ(upstream.requests(), 2);
}

TEST(RateLimit, ConcurrencySlotsAreReleasedOnCompletionAndDisconnect) {
  std::atomic<int> calls{0};
  FakeUpstream upstream([&](FakeExchange& ex) -> asio::awaitable<void> {
    int n = ++calls;
    if (n == 1) {
      // The first request is a stream that waits for its client to go away.
      co_await ex.StartSse();
      co_await ex.SendEvent(ChatChunkEvent("a"));
      co_await ex.WaitForPeerClose(std::chrono::milliseconds(5'000));
      co_return;
    }
    co_await ex.RespondJson(200, ChatCompletionJson("hi", 7, 2));
  });
  GatewayHarness gateway(WithRateLimit(WithLimits("  policies:\n"
                                                  "    - name: one-at-a-time\n"
                                                  "      concurrency: 1\n")),
                         upstream.address());
  TestClient streaming(gateway.port());
  streaming.Send(
      JsonRequest("/v1/chat/completions",
                  R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})"));
  auto head = streaming.ReadHead();
  ASSERT_TRUE(head);
  ASSERT_EQ(head->status, 200);
  ASSERT_TRUE(streaming.ReadSseEvent());

  TestClient other(gateway.port());
  auto refused = Chat(other);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429) << "the stream holds the only slot";
  EXPECT_EQ(refused->Header("retry-after"), "1");

  streaming.Close();  // the client disconnects mid-stream: its slot must come back
  bool admitted = false;
  for (int attempt = 0; attempt < 100 && !admitted; ++attempt) {
    auto response = Chat(other);
    ASSERT_TRUE(response);
    admitted = response->status == 200;
    if (!admitted) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(admitted) << "the slot of the disconnected stream was never released";
  // A completed request frees its slot at once.
  auto again = Chat(other);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST(RateLimit, MoneyBudgetRefusesWithInsufficientQuota) {
  FakeUpstream upstream(AnswerSmall);  // 7 prompt + 2 completion tokens
  // $1 per 1M input and $2 per 1M output tokens: a request costs 7 + 4 = 11 micro-USD,
  // reserved first as ~12 + 2 × 10. A budget of 40 micro-USD admits the first two
  // (after settlement 22 spent), then the reservation of the third (~32) does not fit.
  std::string config = BasicConfig();
  config.replace(config.find("    upstream_model: up-m\n"), 25,
                 "    upstream_model: up-m\n    price: {input: 1, output: 2}\n");
  GatewayHarness gateway(WithRateLimit(config + "limits:\n"
                                                "  timezone: UTC\n"
                                                "  policies:\n"
                                                "    - name: wallet\n"
                                                "      budget: {usd: 0.00004, per: month}\n"),
                         upstream.address());
  TestClient client(gateway.port());
  for (int i = 0; i < 2; ++i) {
    auto response = Chat(client);
    ASSERT_TRUE(response);
    ASSERT_EQ(response->status, 200) << i << ": " << response->body;
  }
  auto refused = Chat(client);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  json::value body = json::parse(refused->body);
  EXPECT_EQ(body.at("error").at("code").as_string(), "insufficient_quota");
  EXPECT_EQ(body.at("error").at("type").as_string(), "insufficient_quota");
  // The month ends in at most 31 days.
  int64_t retry = std::stoll(refused->Header("retry-after"));
  EXPECT_GT(retry, 0);
  EXPECT_LE(retry, 31 * 86'400);
}

TEST(RateLimit, RepeatOffendersAreBlockedForACoolDown) {
  FakeUpstream upstream(AnswerSmall);
  GatewayHarness gateway(WithRateLimit(WithLimits("  repeat_offenders: {rejections: 3, "
                                                  "window: 1m, block: 10m}\n"
                                                  "  policies:\n"
                                                  "    - name: tiny\n"
                                                  "      requests: 1/hour\n")),
                         upstream.address());
  TestClient client(gateway.port());
  ASSERT_EQ(Chat(client)->status, 200);
  for (int i = 0; i < 3; ++i) {
    auto refused = Chat(client);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 429);
    EXPECT_NE(refused->body.find("tiny"), std::string::npos) << "refused by the policy";
  }
  auto blocked = Chat(client);
  ASSERT_TRUE(blocked);
  EXPECT_EQ(blocked->status, 429);
  EXPECT_NE(blocked->body.find("blocked"), std::string::npos) << blocked->body;
  int64_t retry = std::stoll(blocked->Header("retry-after"));
  EXPECT_GT(retry, 590);
  EXPECT_LE(retry, 600);
}

TEST(RateLimit, PoliciesMatchModelsAndSubjects) {
  FakeUpstream upstream(AnswerSmall);
  // Only model "e" is limited; "m" is not.
  GatewayHarness gateway(WithRateLimit(WithLimits("  policies:\n"
                                                  "    - name: e-only\n"
                                                  "      per: [model]\n"
                                                  "      models: [e]\n"
                                                  "      requests: 1/hour\n")),
                         upstream.address());
  TestClient client(gateway.port());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Chat(client)->status, 200);
  constexpr std::string_view kE = R"({"model":"e","messages":[{"role":"user","content":"hello"}]})";
  EXPECT_EQ(Chat(client, kE)->status, 200);
  EXPECT_EQ(Chat(client, kE)->status, 429);
  EXPECT_EQ(Chat(client)->status, 200);
}

TEST(RateLimitConfig, ErrorsAreReportedWithTheirLine) {
  filters::Registry registry;
  auto errors = [&](const std::string& yaml) {
    LoadResult result = LoadConfigText(yaml, "test.yaml", registry);
    std::string joined;
    for (const auto& e : result.errors) joined += e + "\n";
    return joined;
  };
  std::string base = "backends:\n  - name: b\n    url: http://127.0.0.1:1/v1\n";
  EXPECT_NE(errors(base + "filters:\n  - rate_limit: {}\n").find("needs a limits: section"),
            std::string::npos);
  EXPECT_NE(errors(base + "limits:\n  policies:\n    - name: p\n").find("limits nothing"),
            std::string::npos);
  EXPECT_NE(errors(base + "limits:\n  policies:\n    - name: p\n      requests: 5/fortnight\n")
                .find("60/minute"),
            std::string::npos);
  EXPECT_NE(errors(base + "limits:\n  policies:\n    - name: p\n      per: [planet]\n"
                          "      requests: 5/minute\n")
                .find("unknown subject 'planet'"),
            std::string::npos);
  EXPECT_NE(errors(base + "limits:\n  policies:\n    - name: key\n      requests: 5/minute\n")
                .find("'key' is reserved"),
            std::string::npos);
  std::string many = base + "limits:\n  policies:\n";
  for (int i = 0; i < 9; ++i) {
    many +=
        "    - name: p" + std::to_string(i) + "\n      requests: 5/minute\n      concurrency: 2\n";
  }
  EXPECT_NE(errors(many).find("18 counters; at most 11"), std::string::npos) << errors(many);
  // The time zone is checked when the runtime opens (it reads /usr/share/zoneinfo).
  sluice::LimitsConfig mars;
  mars.timezone = "Mars/Olympus";
  std::string error;
  EXPECT_EQ(limits::LimitsRuntime::Create(mars, error), nullptr);
  EXPECT_NE(error.find("Mars/Olympus"), std::string::npos) << error;
  EXPECT_EQ(errors(base + "limits:\n  policies:\n    - name: p\n      per: key\n"
                          "      requests: {limit: 5, per: second, burst: 2}\n"
                          "      budget: {tokens: 1000, per: day}\n"),
            "");
}

TEST(RateLimitHeaders, ResetDurationsFollowOpenAiFormat) {
  using filters::FormatResetDuration;
  EXPECT_EQ(FormatResetDuration(0), "0s");
  EXPECT_EQ(FormatResetDuration(17'000), "17ms");
  EXPECT_EQ(FormatResetDuration(1'000'000), "1s");
  EXPECT_EQ(FormatResetDuration(1'500'000), "1.5s");
  EXPECT_EQ(FormatResetDuration(360'000'000), "6m0s");
  EXPECT_EQ(FormatResetDuration(3'723'000'000), "1h2m3s");
}

}  // namespace
}  // namespace sluice::testing
