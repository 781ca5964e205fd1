// Integration: the happy paths through the real server with a fake upstream — chat
// (buffered and streamed), embeddings, models, request rewriting, provider key injection,
// request ids, usage accounting and the access log.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

asio::awaitable<void> AnswerChat(FakeExchange& ex) {
  co_await ex.RespondJson(200, ChatCompletionJson("hi there", 7, 2),
                          "x-request-id: upstream-id\r\nopenai-processing-ms: 5\r\n"
                          "set-cookie: secret=1\r\nconnection: keep-alive\r\n");
}

asio::awaitable<void> StreamThree(FakeExchange& ex) {
  co_await ex.StartSse();
  for (const char* word : {"a", "b", "c"}) co_await ex.SendEvent(ChatChunkEvent(word));
  co_await ex.SendEvent(": ping\n\n");
  co_await ex.SendEvent(UsageChunkEvent(11, 3));
  co_await ex.SendEvent(kDoneEvent);
  co_await ex.EndChunked();
}

constexpr std::string_view kChatBody =
    R"({"model":"m","messages":[{"role":"user","content":"hello"}],"temperature":0.5,"extra":{"k":[1,2]}})";

TEST(Proxy, NonStreamingChatIsRelayedWithRewrittenModel) {
  FakeUpstream upstream(AnswerChat);
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", kChatBody, "X-Request-Id: client-id-1\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("content-type"), "application/json");
  EXPECT_EQ(response->Header("x-request-id"), "client-id-1");
  EXPECT_EQ(response->Header("x-upstream-request-id"), "upstream-id");
  EXPECT_EQ(response->Header("openai-processing-ms"), "5");
  EXPECT_EQ(response->Header("set-cookie"), "") << "upstream headers are allowlisted";
  json::value body = json::parse(response->body);
  EXPECT_EQ(body.at("choices").at(0).at("message").at("content").as_string(), "hi there");

  ASSERT_EQ(upstream.requests(), 1);
  FakeRequest seen = upstream.requests_seen()[0];
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/v1/chat/completions");
  EXPECT_EQ(seen.Header("x-request-id"), "client-id-1");
  EXPECT_EQ(seen.Header("content-type"), "application/json");
  json::value sent = json::parse(seen.body);
  EXPECT_EQ(sent.at("model").as_string(), "up-m") << "public name mapped to the upstream name";
  EXPECT_EQ(sent.at("temperature").as_double(), 0.5);
  EXPECT_EQ(sent.at("extra").at("k").at(1).as_int64(), 2) << "unknown fields are preserved";
  EXPECT_FALSE(sent.as_object().contains("stream_options"));

  auto log = gateway.AccessLog();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].at("request_id").as_string(), "client-id-1");
  EXPECT_EQ(log[0].at("status").as_int64(), 200);
  EXPECT_EQ(log[0].at("model").as_string(), "m");
  EXPECT_EQ(log[0].at("backend").as_string(), "up");
  EXPECT_EQ(log[0].at("upstream_model").as_string(), "up-m");
  EXPECT_EQ(log[0].at("upstream_status").as_int64(), 200);
  EXPECT_EQ(log[0].at("prompt_tokens").as_int64(), 7);
  EXPECT_EQ(log[0].at("completion_tokens").as_int64(), 2);
  EXPECT_EQ(log[0].at("bytes_in").as_int64(), static_cast<int64_t>(kChatBody.size()));
  EXPECT_EQ(log[0].at("bytes_out").as_int64(), static_cast<int64_t>(response->body.size()));
  EXPECT_TRUE(log[0].at("error").is_null());
  EXPECT_GT(log[0].at("latency_ms").as_double(), 0.0);
}

TEST(Proxy, GeneratesRequestIdWhenClientSendsNoneOrAnInvalidOne) {
  FakeUpstream upstream(AnswerChat);
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", kChatBody));
  auto first = client.ReadResponse();
  client.Send(
      JsonRequest("/v1/chat/completions", kChatBody, "X-Request-Id: bad id with spaces\r\n"));
  auto second = client.ReadResponse();
  ASSERT_TRUE(first && second);
  for (const Response* r : {&*first, &*second}) {
    std::string id = r->Header("x-request-id");
    EXPECT_EQ(id.size(), 36u) << id;
    EXPECT_EQ(id.substr(0, 4), "req_");
  }
  EXPECT_NE(first->Header("x-request-id"), second->Header("x-request-id"));
  auto seen = upstream.requests_seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].Header("x-request-id"), second->Header("x-request-id"));
}

TEST(Proxy, InjectsProviderKeyFromEnvironmentAndNeverForwardsClientCredentials) {
  ::setenv("SLUICE_TEST_PROVIDER_KEY", "sk-provider-secret", 1);
  FakeUpstream upstream(AnswerChat);
  GatewayHarness gateway(BasicConfig("    api_key_env: SLUICE_TEST_PROVIDER_KEY\n"
                                     "    headers: {OpenAI-Organization: org-1}\n"),
                         upstream.address());
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", kChatBody,
                          "Authorization: Bearer client-key\r\nCookie: c=1\r\n"
                          "Connection: keep-alive, x-hop\r\nX-Hop: 1\r\nTE: trailers\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  FakeRequest seen = upstream.requests_seen().at(0);
  EXPECT_EQ(seen.Header("authorization"), "Bearer sk-provider-secret");
  EXPECT_EQ(seen.Header("openai-organization"), "org-1");
  EXPECT_EQ(seen.Header("cookie"), "");
  EXPECT_EQ(seen.Header("x-hop"), "");
  EXPECT_EQ(seen.Header("te"), "");
  EXPECT_EQ(seen.Header("host"), upstream.address());
}

TEST(Proxy, StreamingRelaysEventsAndDropsTheUsageChunkTheClientDidNotAskFor) {
  FakeUpstream upstream(StreamThree);
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(
      JsonRequest("/v1/chat/completions",
                  R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})"));
  auto head = client.ReadHead();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-type"), "text/event-stream");
  EXPECT_TRUE(head->chunked);
  std::vector<std::string> data;
  while (auto event = client.ReadSseEvent()) data.push_back(SseData(*event));
  ASSERT_TRUE(client.stream_finished());
  // a, b, c, the ping (comment, no data) and [DONE]; the usage chunk is gone.
  ASSERT_EQ(data.size(), 5u);
  EXPECT_NE(data[0].find("\"content\":\"a\""), std::string::npos);
  EXPECT_EQ(data[3], "");
  EXPECT_EQ(data[4], "[DONE]");
  for (const auto& d : data) {
    EXPECT_EQ(d.find("\"choices\":[]"), std::string::npos);
    EXPECT_EQ(d.find("usage"), std::string::npos) << "the client did not ask for usage: " << d;
  }

  json::value sent = json::parse(upstream.requests_seen().at(0).body);
  EXPECT_TRUE(sent.at("stream_options").at("include_usage").as_bool())
      << "the gateway always asks the upstream for usage";
  auto log = gateway.AccessLog();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log[0].at("stream").as_bool());
  EXPECT_EQ(log[0].at("prompt_tokens").as_int64(), 11);
  EXPECT_EQ(log[0].at("completion_tokens").as_int64(), 3);
  EXPECT_TRUE(log[0].at("error").is_null());
}

TEST(Proxy, StreamingKeepsTheUsageChunkWhenTheClientAskedForIt) {
  FakeUpstream upstream(StreamThree);
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions",
                          R"({"model":"m","stream":true,"stream_options":{"include_usage":true},)"
                          R"("messages":[{"role":"user","content":"x"}]})"));
  ASSERT_TRUE(client.ReadHead());
  std::vector<std::string> data;
  while (auto event = client.ReadSseEvent()) data.push_back(SseData(*event));
  ASSERT_EQ(data.size(), 6u);
  EXPECT_NE(data[4].find("\"prompt_tokens\":11"), std::string::npos);
  EXPECT_EQ(data[5], "[DONE]");
}

TEST(Proxy, EmbeddingsAndAliasesAreRouted) {
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.RespondJson(
        200,
        R"({"object":"list","data":[{"object":"embedding","index":0,)"
        R"("embedding":[0.1,0.2]}],"model":"e","usage":{"prompt_tokens":4,"total_tokens":4}})");
  });
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/embeddings", R"({"model":"e","input":"hello"})"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(json::parse(response->body).at("data").at(0).at("embedding").at(1).as_double(), 0.2);
  EXPECT_EQ(upstream.requests_seen().at(0).target, "/v1/embeddings");

  client.Send(JsonRequest("/chat/completions", R"({"model":"m-alias","messages":[]})"));
  response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(json::parse(upstream.requests_seen().at(1).body).at("model").as_string(), "up-m");
  auto log = gateway.AccessLog(2);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].at("prompt_tokens").as_int64(), 4);
}

TEST(Proxy, ModelsListAndRetrieve) {
  FakeUpstream upstream(AnswerChat);
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(GetRequest("/v1/models"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  json::value list = json::parse(response->body);
  EXPECT_EQ(list.at("object").as_string(), "list");
  ASSERT_EQ(list.at("data").as_array().size(), 2u);
  EXPECT_EQ(list.at("data").at(0).at("id").as_string(), "m");
  EXPECT_EQ(list.at("data").at(0).at("object").as_string(), "model");

  client.Send(GetRequest("/v1/models/e"));
  response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(json::parse(response->body).at("id").as_string(), "e");

  client.Send(GetRequest("/v1/models/nope"));
  response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(json::parse(response->body).at("error").at("code").as_string(), "model_not_found");
  EXPECT_EQ(upstream.requests(), 0) << "model listing never calls the upstream";
}

TEST(Proxy, HealthProbes) {
  FakeUpstream upstream(AnswerChat);
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(GetRequest("/health/live"));
  auto live = client.ReadResponse();
  client.Send(GetRequest("/health/ready"));
  auto ready = client.ReadResponse();
  ASSERT_TRUE(live && ready);
  EXPECT_EQ(live->status, 200);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(json::parse(ready->body).at("status").as_string(), "ready");
  client.Send("HEAD /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = client.ReadResponse(/*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), "15");
}

}  // namespace
}  // namespace sluice::testing
