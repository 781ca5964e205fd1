// Integration: connection handling — upstream keep-alive reuse, pipelined requests
// answered in order, keep-alive with the client, HTTP/1.0, 100-continue, chunked request
// bodies, and timeouts for slow clients.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <thread>

#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

// Answers with the "n" field of the request so responses can be matched to requests.
asio::awaitable<void> EchoN(FakeExchange& ex) {
  json::value body = json::parse(ex.request().body);
  std::string n = std::to_string(body.at("n").as_int64());
  co_await ex.RespondJson(200, ChatCompletionJson(n, 1, 1));
}

std::string ChatWithN(int n) {
  return JsonRequest("/v1/chat/completions",
                     R"({"model":"m","n":)" + std::to_string(n) + R"(,"messages":[]})");
}

std::string ContentOf(const Response& r) {
  return std::string(
      json::parse(r.body).at("choices").at(0).at("message").at("content").as_string());
}

TEST(Connections, SequentialRequestsReuseOneUpstreamConnection) {
  FakeUpstream upstream(EchoN);
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  for (int i = 0; i < 20; ++i) {
    client.Send(ChatWithN(i));
    auto r = client.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(ContentOf(*r), std::to_string(i));
  }
  EXPECT_EQ(upstream.requests(), 20);
  EXPECT_EQ(upstream.connections(), 1) << "upstream keep-alive pool not reused";
}

TEST(Connections, StaleUpstreamConnectionIsReplacedTransparently) {
  std::atomic<int> count{0};
  FakeUpstream upstream([&](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.RespondJson(200, ChatCompletionJson("ok", 1, 1));
    if (++count == 1) ex.CloseAfter();  // the server closes the idle connection
  });
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  for (int i = 0; i < 3; ++i) {
    client.Send(ChatWithN(i));
    auto r = client.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << "request " << i;
  }
  EXPECT_EQ(upstream.connections(), 2);
}

TEST(Connections, HundredPipelinedRequestsAreAnsweredInOrder) {
  FakeUpstream upstream(EchoN);
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  std::string batch;
  for (int i = 0; i < 100; ++i) batch += ChatWithN(i);
  client.Send(batch);
  for (int i = 0; i < 100; ++i) {
    auto r = client.ReadResponse();
    ASSERT_TRUE(r) << "response " << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(ContentOf(*r), std::to_string(i));
  }
  EXPECT_EQ(upstream.requests(), 100);
}

TEST(Connections, ChunkedRequestBodyIsDecoded) {
  FakeUpstream upstream(EchoN);
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  std::string body = R"({"model":"m","n":42,"messages":[]})";
  std::string request =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  request += "5;ext=1\r\n" + body.substr(0, 5) + "\r\n";
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", body.size() - 5);
  request += std::string(size) + "\r\n" + body.substr(5) + "\r\n0\r\nX-Trailer: t\r\n\r\n";
  client.Send(request);
  auto r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(ContentOf(*r), "42");
  EXPECT_EQ(upstream.requests_seen().at(0).Header("content-length"),
            std::to_string(upstream.requests_seen().at(0).body.size()))
      << "the upstream request is re-serialised with a Content-Length";
}

TEST(Connections, ExpectContinueGetsAnInterimResponse) {
  FakeUpstream upstream(EchoN);
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  std::string body = R"({"model":"m","n":7,"messages":[]})";
  client.Send(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  char interim[64] = {};
  ASSERT_GT(::recv(client.fd(), interim, 25, MSG_WAITALL), 0);
  EXPECT_EQ(std::string(interim, 25), "HTTP/1.1 100 Continue\r\n\r\n");
  client.Send(body);
  auto r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(ContentOf(*r), "7");
}

TEST(Connections, ConnectionCloseAndHttp10AreHonoured) {
  FakeUpstream upstream(EchoN);
  GatewayHarness gateway(BasicConfig(), upstream.address());
  {
    TestClient client(gateway.port());
    client.Send(GetRequest("/health/live", "Connection: close\r\n"));
    auto r = client.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->Header("connection"), "close");
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    TestClient client(gateway.port());
    client.Send("GET /health/live HTTP/1.0\r\n\r\n");
    auto r = client.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    TestClient client(gateway.port());
    client.Send("GET /health/live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    auto r = client.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->Header("connection"), "keep-alive");
    client.Send("GET /health/live HTTP/1.0\r\n\r\n");
    ASSERT_TRUE(client.ReadResponse());
  }
}

TEST(Connections, Http10StreamIsCloseDelimited) {
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.StartSse();
    co_await ex.SendEvent(ChatChunkEvent("a"));
    co_await ex.SendEvent(kDoneEvent);
    co_await ex.EndChunked();
  });
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  std::string body = R"({"model":"m","stream":true,"messages":[]})";
  client.Send("POST /v1/chat/completions HTTP/1.0\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\n\r\n" + body);
  auto r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->chunked);
  EXPECT_NE(r->body.find("data: [DONE]"), std::string::npos);
}

TEST(Connections, IdleConnectionThatReleasedItsBufferServesTheNextRequest) {
  FakeUpstream upstream(EchoN);
  GatewayHarness gateway(BasicConfig("", "  idle_release_after: 20ms\n"), upstream.address());
  TestClient client(gateway.port());
  for (int i = 0; i < 3; ++i) {
    client.Send(ChatWithN(i));
    auto r = client.ReadResponse();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(ContentOf(*r), std::to_string(i));
    // Stay idle past idle_release_after (a bounded wait, a few sweep intervals).
    std::this_thread::sleep_for(std::chrono::milliseconds(80));
  }
  client.Send(GetRequest("/health/live"));
  ASSERT_TRUE(client.ReadResponse());
}

TEST(Connections, SlowHeaderGets408AndIdleKeepAliveIsClosed) {
  FakeUpstream upstream(EchoN);
  GatewayHarness gateway(BasicConfig("",
                                     "  header_timeout: 150ms\n  keepalive_timeout: 150ms\n"
                                     "  idle_release_after: 50ms\n"),
                         upstream.address());
  {
    TestClient client(gateway.port());
    client.Send("GET /health/live HTTP/1.1\r\nHost: x\r\n");  // never finished
    auto r = client.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 408);
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    TestClient client(gateway.port());
    client.Send(GetRequest("/health/live"));
    ASSERT_TRUE(client.ReadResponse());
    EXPECT_TRUE(client.WaitForClose(std::chrono::seconds(3))) << "idle keep-alive not closed";
  }
}

}  // namespace
}  // namespace sluice::testing
