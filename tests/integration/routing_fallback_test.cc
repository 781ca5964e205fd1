// Integration: streams in a model group (a failure before the first event is retried on
// another deployment without the client noticing; a failure after it ends the stream with
// an SSE error event and no retry) and fallbacks between groups by error class (a 429 from
// group A is served by group B; a class not listed is relayed as is).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>

#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

constexpr std::string_view kStreamBody =
    R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})";

// Model "m" with two deployments d0 and d1 (round robin), retries with a tiny backoff.
std::string TwoDeployments(const FakeUpstream& d0, const FakeUpstream& d1) {
  return "server:\n  listen: 127.0.0.1:0\n  workers: 1\n"
         "backends:\n"
         "  - {name: d0, url: 'http://" +
         d0.address() +
         "/v1'}\n"
         "  - {name: d1, url: 'http://" +
         d1.address() +
         "/v1'}\n"
         "models:\n"
         "  - name: m\n"
         "    balancer: round_robin\n"
         "    retries: {attempts: 1, backoff: {base: 1ms, max: 1ms}}\n"
         "    deployments: [{backend: d0, upstream_model: up-m}, {backend: d1, upstream_model: "
         "up-m}]\n"
         "filters:\n  - request_id: {}\n  - access_log:\n      output: {access_log}\n";
}

std::vector<std::string> ReadAllData(TestClient& client) {
  std::vector<std::string> data;
  while (auto event = client.ReadSseEvent()) data.push_back(SseData(*event));
  return data;
}

TEST(RoutingStream, AFailureBeforeTheFirstEventIsRetriedTransparently) {
  std::atomic<int> calls{0};
  auto handler = [&](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.StartSse();
    if (calls++ == 0) {
      ex.Reset();  // the head went out, no event did
      co_return;
    }
    for (const char* word : {"a", "b"}) co_await ex.SendEvent(ChatChunkEvent(word));
    co_await ex.SendEvent(UsageChunkEvent(5, 2));
    co_await ex.SendEvent(kDoneEvent);
    co_await ex.EndChunked();
  };
  FakeUpstream d0(handler), d1(handler);
  GatewayHarness gateway(TwoDeployments(d0, d1));
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", kStreamBody));
  auto head = client.ReadHead();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  auto data = ReadAllData(client);
  ASSERT_EQ(data.size(), 3u);
  EXPECT_NE(data[0].find("\"a\""), std::string::npos);
  EXPECT_NE(data[1].find("\"b\""), std::string::npos);
  EXPECT_EQ(data[2], "[DONE]");
  EXPECT_TRUE(client.stream_finished());
  EXPECT_EQ(d0.requests() + d1.requests(), 2);
  EXPECT_EQ(d0.requests(), 1) << "the retry went to the other deployment";
  auto log = gateway.AccessLog();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log[0].at("error").is_null());
  EXPECT_EQ(log[0].at("completion_tokens").as_int64(), 2);
}

TEST(RoutingStream, AFailureAfterTheFirstEventEndsWithAnSseErrorAndNoRetry) {
  auto handler = [](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.StartSse();
    co_await ex.SendEvent(ChatChunkEvent("one"));
    co_await ex.Sleep(std::chrono::milliseconds(20));
    ex.Reset();
  };
  FakeUpstream d0(handler), d1(handler);
  GatewayHarness gateway(TwoDeployments(d0, d1));
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", kStreamBody));
  auto head = client.ReadHead();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  auto data = ReadAllData(client);
  ASSERT_EQ(data.size(), 2u);
  EXPECT_NE(data[0].find("\"one\""), std::string::npos);
  json::value error = json::parse(data[1]);
  EXPECT_EQ(error.at("error").at("code").as_string(), "upstream_reset");
  EXPECT_EQ(d0.requests() + d1.requests(), 1) << "a started stream is never retried";
}

TEST(RoutingStream, AStreamRefusedWith503IsRetriedOnTheOtherDeployment) {
  std::atomic<int> calls{0};
  auto handler = [&](FakeExchange& ex) -> asio::awaitable<void> {
    if (calls++ == 0) {
      co_await ex.RespondJson(503, R"({"error":{"message":"busy","type":"server_error"}})");
      co_return;
    }
    co_await ex.StartSse();
    co_await ex.SendEvent(ChatChunkEvent("z"));
    co_await ex.SendEvent(kDoneEvent);
    co_await ex.EndChunked();
  };
  FakeUpstream d0(handler), d1(handler);
  GatewayHarness gateway(TwoDeployments(d0, d1));
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", kStreamBody));
  auto head = client.ReadHead();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  auto data = ReadAllData(client);
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[1], "[DONE]");
}

// Group "a" (backend ba) falls back to group "b" (backend bb) on the listed classes.
std::string FallbackConfig(const FakeUpstream& ba, const FakeUpstream& bb, const std::string& on) {
  return "server:\n  listen: 127.0.0.1:0\n  workers: 1\n"
         "backends:\n"
         "  - {name: ba, url: 'http://" +
         ba.address() +
         "/v1'}\n"
         "  - {name: bb, url: 'http://" +
         bb.address() +
         "/v1'}\n"
         "models:\n"
         "  - name: a\n"
         "    backend: ba\n"
         "    upstream_model: a-up\n"
         "    fallbacks:\n"
         "      - {on: " +
         on +
         ", to: b}\n"
         "  - name: b\n"
         "    backend: bb\n"
         "    upstream_model: b-up\n"
         "filters:\n  - request_id: {}\n  - access_log:\n      output: {access_log}\n";
}

asio::awaitable<void> RateLimited(FakeExchange& ex) {
  co_await ex.RespondJson(429, R"({"error":{"message":"quota","type":"rate_limit_error"}})");
}

TEST(RoutingFallback, A429FromGroupAIsServedByGroupB) {
  FakeUpstream ba(RateLimited);
  FakeUpstream bb([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.RespondJson(200, ChatCompletionJson("from b", 4, 2));
  });
  GatewayHarness gateway(FallbackConfig(ba, bb, "[rate_limited]"));
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions",
                          R"({"model":"a","messages":[{"role":"user","content":"x"}]})"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  json::value body = json::parse(response->body);
  EXPECT_EQ(body.at("choices").at(0).at("message").at("content").as_string(), "from b");
  ASSERT_EQ(ba.requests(), 1);
  ASSERT_EQ(bb.requests(), 1);
  EXPECT_EQ(json::parse(ba.requests_seen()[0].body).at("model").as_string(), "a-up");
  EXPECT_EQ(json::parse(bb.requests_seen()[0].body).at("model").as_string(), "b-up")
      << "the body is rebuilt for the fallback's deployment";
  auto log = gateway.AccessLog();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].at("model").as_string(), "a") << "the model asked for";
  EXPECT_EQ(log[0].at("backend").as_string(), "bb") << "the backend that served";
  EXPECT_EQ(log[0].at("upstream_model").as_string(), "b-up") << "the model that served";
  EXPECT_EQ(log[0].at("status").as_int64(), 200);
  EXPECT_EQ(log[0].at("completion_tokens").as_int64(), 2);
}

TEST(RoutingFallback, AnErrorClassNotListedIsRelayedWithoutFallback) {
  FakeUpstream ba(RateLimited);
  FakeUpstream bb([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.RespondJson(200, ChatCompletionJson("from b", 4, 2));
  });
  GatewayHarness gateway(FallbackConfig(ba, bb, "[context_window_exceeded]"));
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions",
                          R"({"model":"a","messages":[{"role":"user","content":"x"}]})"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 429);
  EXPECT_EQ(bb.requests(), 0);
}

TEST(RoutingFallback, AContextWindowErrorMovesToTheLargerModel) {
  FakeUpstream ba([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.RespondJson(400, R"({"error":{"message":"too long","type":"invalid_request_error",)"
                                 R"("code":"context_length_exceeded"}})");
  });
  FakeUpstream bb([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.RespondJson(200, ChatCompletionJson("long ok", 4, 2));
  });
  GatewayHarness gateway(FallbackConfig(ba, bb, "[context_window_exceeded]"));
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions",
                          R"({"model":"a","messages":[{"role":"user","content":"x"}]})"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(bb.requests(), 1);
}

TEST(RoutingFallback, AnUnreachableGroupFallsBackAsUnavailable) {
  FakeUpstream bb([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.RespondJson(200, ChatCompletionJson("b", 4, 2));
  });
  // Group a's backend listens nowhere: port 1 refuses connections.
  std::string yaml =
      "server:\n  listen: 127.0.0.1:0\n  workers: 1\n"
      "backends:\n  - {name: ba, url: 'http://127.0.0.1:1/v1'}\n"
      "  - {name: bb, url: 'http://" +
      bb.address() +
      "/v1'}\n"
      "models:\n  - name: a\n    backend: ba\n    fallbacks: [{to: b}]\n"
      "  - name: b\n    backend: bb\n";
  GatewayHarness gateway(yaml);
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions",
                          R"({"model":"a","messages":[{"role":"user","content":"x"}]})"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(bb.requests(), 1);
}

}  // namespace
}  // namespace sluice::testing
