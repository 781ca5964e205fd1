// Integration: every client-visible error is in OpenAI's shape with the right status and
// the request id — bad JSON, missing or unknown model, unknown route, wrong method, body
// too large, upstream unreachable, upstream timeout, upstream errors and credential
// failures (never relayed, they may quote the provider key).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

// Checks the OpenAI error shape and returns error.code ("" when null).
std::string ExpectOpenAiError(const Response& response, int status, std::string_view type) {
  EXPECT_EQ(response.status, status) << response.body;
  EXPECT_EQ(response.Header("content-type"), "application/json");
  EXPECT_FALSE(response.Header("x-request-id").empty());
  json::value body = json::parse(response.body);
  const json::object& error = body.at("error").as_object();
  EXPECT_TRUE(error.at("message").is_string());
  EXPECT_FALSE(error.at("message").as_string().empty());
  EXPECT_EQ(error.at("type").as_string(), type);
  EXPECT_TRUE(error.contains("param"));
  EXPECT_TRUE(error.contains("code"));
  return error.at("code").is_null() ? "" : std::string(error.at("code").as_string());
}

asio::awaitable<void> NeverCalled(FakeExchange& ex) {
  ADD_FAILURE() << "upstream must not be called";
  co_await ex.RespondJson(500, "{}");
}

class Errors : public ::testing::Test {
 protected:
  FakeUpstream upstream_{NeverCalled};
  GatewayHarness gateway_{BasicConfig("", "  max_body_bytes: 1KiB\n"), upstream_.address()};

  Response Roundtrip(const std::string& request) {
    TestClient client(gateway_.port());
    client.Send(request);
    auto response = client.ReadResponse();
    EXPECT_TRUE(response);
    return response.value_or(Response{});
  }
};

TEST_F(Errors, InvalidJsonIs400) {
  Response r = Roundtrip(JsonRequest("/v1/chat/completions", "{not json"));
  EXPECT_EQ(ExpectOpenAiError(r, 400, "invalid_request_error"), "invalid_json");
}

TEST_F(Errors, NonObjectBodyIs400) {
  Response r = Roundtrip(JsonRequest("/v1/chat/completions", "[1,2]"));
  ExpectOpenAiError(r, 400, "invalid_request_error");
}

TEST_F(Errors, MissingModelIs400NamingTheParam) {
  Response r = Roundtrip(JsonRequest("/v1/chat/completions", R"({"messages":[]})"));
  ExpectOpenAiError(r, 400, "invalid_request_error");
  EXPECT_EQ(json::parse(r.body).at("error").at("param").as_string(), "model");
}

TEST_F(Errors, BadStreamFlagIs400) {
  Response r = Roundtrip(JsonRequest("/v1/chat/completions", R"({"model":"m","stream":"yes"})"));
  ExpectOpenAiError(r, 400, "invalid_request_error");
  EXPECT_EQ(json::parse(r.body).at("error").at("param").as_string(), "stream");
}

TEST_F(Errors, UnknownModelIs404ModelNotFound) {
  Response r = Roundtrip(JsonRequest("/v1/chat/completions", R"({"model":"gpt-9","messages":[]})"));
  EXPECT_EQ(ExpectOpenAiError(r, 404, "invalid_request_error"), "model_not_found");
  EXPECT_NE(r.body.find("gpt-9"), std::string::npos);
}

TEST_F(Errors, UnknownRouteIs404InvalidUrl) {
  Response r = Roundtrip(JsonRequest("/v1/nothing", "{}"));
  ExpectOpenAiError(r, 404, "invalid_request_error");
  EXPECT_NE(r.body.find("Invalid URL (POST /v1/nothing)"), std::string::npos);
}

TEST_F(Errors, WrongMethodIs405WithAllow) {
  Response r = Roundtrip(GetRequest("/v1/chat/completions"));
  ExpectOpenAiError(r, 405, "invalid_request_error");
  EXPECT_EQ(r.Header("allow"), "POST");
}

TEST_F(Errors, BodyOverTheLimitIs413BeforeReadingIt) {
  TestClient client(gateway_.port());
  // Only the head is sent: the gateway must answer from Content-Length alone.
  client.Send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
  auto r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(ExpectOpenAiError(*r, 413, "invalid_request_error"), "request_too_large");
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(client.WaitForClose());
}

TEST_F(Errors, ChunkedBodyOverTheLimitIs413) {
  std::string chunk(800, 'a');
  std::string request =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 2; ++i) request += "320\r\n" + chunk + "\r\n";
  request += "0\r\n\r\n";
  Response r = Roundtrip(request);
  ExpectOpenAiError(r, 413, "invalid_request_error");
}

TEST_F(Errors, ExpectContinueWithTooLargeBodyGets413WithoutContinue) {
  TestClient client(gateway_.port());
  client.Send(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n"
      "Expect: 100-continue\r\n\r\n");
  auto r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST(UpstreamErrors, UnreachableUpstreamIs502) {
  // Bind and close a port so nothing listens on it.
  std::string address;
  {
    FakeUpstream closed(NeverCalled);
    address = closed.address();
  }
  GatewayHarness gateway(BasicConfig("    connect_timeout: 2s\n"), address);
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", R"({"model":"m","messages":[]})"));
  auto r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(ExpectOpenAiError(*r, 502, "server_error"), "upstream_unreachable");
  auto log = gateway.AccessLog();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].at("error").as_string(), "upstream_unreachable");
  EXPECT_EQ(log[0].at("status").as_int64(), 502);
}

TEST(UpstreamErrors, SlowUpstreamIs504AndTheUpstreamRequestIsAbandoned) {
  std::atomic<bool> abandoned{false};
  FakeUpstream upstream([&](FakeExchange& ex) -> asio::awaitable<void> {
    abandoned = co_await ex.WaitForPeerClose(std::chrono::seconds(5));
  });
  GatewayHarness gateway(BasicConfig("    first_byte_timeout: 200ms\n"), upstream.address());
  TestClient client(gateway.port());
  auto start = std::chrono::steady_clock::now();
  client.Send(JsonRequest("/v1/chat/completions", R"({"model":"m","messages":[]})"));
  auto r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(ExpectOpenAiError(*r, 504, "server_error"), "upstream_timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_TRUE(FakeUpstream::WaitUntil([&] { return abandoned.load(); }))
      << "the gateway closes the timed-out upstream connection";
}

TEST(UpstreamErrors, ARouteTimeoutOverridesTheBackendsOwn) {
  FakeUpstream upstream([&](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.WaitForPeerClose(std::chrono::seconds(5));
  });
  // The backend keeps its default (60 s); the chat route allows 200 ms.
  GatewayHarness gateway(
      BasicConfig() + "routes:\n  /v1/chat/completions:\n    first_byte_timeout: 200ms\n",
      upstream.address());
  TestClient client(gateway.port());
  auto start = std::chrono::steady_clock::now();
  client.Send(JsonRequest("/v1/chat/completions", R"({"model":"m","messages":[]})"));
  auto r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(ExpectOpenAiError(*r, 504, "server_error"), "upstream_timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(UpstreamErrors, StreamingTimeToFirstEventIsBounded) {
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.StartSse();  // head arrives, then nothing
    co_await ex.WaitForPeerClose(std::chrono::seconds(5));
  });
  GatewayHarness gateway(BasicConfig("    first_byte_timeout: 200ms\n"), upstream.address());
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", R"({"model":"m","stream":true,"messages":[]})"));
  ASSERT_TRUE(client.ReadHead());
  std::vector<std::string> events;
  while (auto e = client.ReadSseEvent()) events.push_back(SseData(*e));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(json::parse(events[0]).at("error").at("code").as_string(), "upstream_timeout");
}

TEST(UpstreamErrors, ProviderCredentialFailureIsNeverRelayed) {
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.RespondJson(
        401,
        R"({"error":{"message":"Incorrect API key provided: sk-prov****cret","type":"invalid_request_error","code":"invalid_api_key"}})");
  });
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", R"({"model":"m","messages":[]})"));
  auto r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(ExpectOpenAiError(*r, 502, "server_error"), "upstream_auth_failed");
  EXPECT_EQ(r->body.find("sk-prov"), std::string::npos);
}

TEST(UpstreamErrors, OpenAiShapedUpstreamErrorsAreRelayedWithStatusAndRetryAfter) {
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.RespondJson(
        429,
        R"({"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}})",
        "retry-after: 7\r\n");
  });
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", R"({"model":"m","messages":[]})"));
  auto r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->Header("retry-after"), "7");
  EXPECT_EQ(json::parse(r->body).at("error").at("code").as_string(), "rate_limit_exceeded");
  EXPECT_EQ(gateway.AccessLog().at(0).at("error").as_string(), "upstream_error");
}

TEST(UpstreamErrors, NonJsonUpstreamFailureBecomesA502InOpenAiShape) {
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.Write(
        "HTTP/1.1 500 Oops\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\n<h1>x</h1");
  });
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", R"({"model":"m","messages":[]})"));
  auto r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(ExpectOpenAiError(*r, 502, "server_error"), "upstream_error");
}

TEST(UpstreamErrors, MalformedUpstreamResponseIs502) {
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.Write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
    ex.CloseAfter();
  });
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", R"({"model":"m","messages":[]})"));
  auto r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(ExpectOpenAiError(*r, 502, "server_error"), "upstream_bad_response");
}

TEST(UpstreamErrors, UpstreamResetBeforeTheResponseIs502) {
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    ex.Reset();
    co_return;
  });
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", R"({"model":"m","messages":[]})"));
  auto r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(ExpectOpenAiError(*r, 502, "server_error"), "upstream_reset");
}

}  // namespace
}  // namespace sluice::testing
