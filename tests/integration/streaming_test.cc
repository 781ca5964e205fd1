// Integration: streams that do not go well — the client leaves (the upstream request is
// aborted at once), the upstream resets or ends early (the client gets an explicit SSE
// error event, never a silent clean end), and a slow client (backpressure keeps the
// gateway's memory bounded and slows the upstream down).
#include <gtest/gtest.h>

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

std::vector<std::string> ReadAllData(TestClient& client) {
  std::vector<std::string> data;
  while (auto event = client.ReadSseEvent()) data.push_back(SseData(*event));
  return data;
}

TEST(Streaming, ClientDisconnectAbortsTheUpstreamAtOnce) {
  std::atomic<int> sent_after_close{0};
  std::atomic<bool> upstream_saw_close{false};
  std::atomic<bool> client_closed{false};
  FakeUpstream upstream([&](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.StartSse();
    for (int i = 0; i < 500; ++i) {
      if (!co_await ex.SendEvent(ChatChunkEvent("tok"))) break;
      if (client_closed) ++sent_after_close;
      co_await ex.Sleep(std::chrono::milliseconds(10));
    }
    upstream_saw_close = co_await ex.WaitForPeerClose(std::chrono::seconds(5));
  });
  GatewayHarness gateway(BasicConfig(), upstream.address());
  {
    TestClient client(gateway.port());
    client.Send(JsonRequest("/v1/chat/completions", kStreamBody));
    ASSERT_TRUE(client.ReadHead());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.ReadSseEvent());
    client_closed = true;
  }  // the client goes away mid-stream
  ASSERT_TRUE(FakeUpstream::WaitUntil([&] { return upstream_saw_close.load(); }));
  EXPECT_LT(sent_after_close.load(), 10) << "the upstream kept streaming into the void";
  EXPECT_EQ(upstream.write_failures(), 1);
  auto log = gateway.AccessLog();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].at("error").as_string(), "client_closed");
}

TEST(Streaming, ClientDisconnectWhileWaitingForTheFirstByteAbortsTheUpstream) {
  std::atomic<bool> upstream_saw_close{false};
  FakeUpstream upstream([&](FakeExchange& ex) -> asio::awaitable<void> {
    upstream_saw_close = co_await ex.WaitForPeerClose(std::chrono::seconds(5));
  });
  GatewayHarness gateway(BasicConfig(), upstream.address());
  {
    TestClient client(gateway.port());
    client.Send(JsonRequest("/v1/chat/completions", kStreamBody));
    ASSERT_TRUE(FakeUpstream::WaitUntil([&] { return upstream.requests() == 1; }));
  }
  ASSERT_TRUE(
      FakeUpstream::WaitUntil([&] { return upstream_saw_close.load(); }, std::chrono::seconds(2)));
  auto log = gateway.AccessLog();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].at("error").as_string(), "client_closed");
}

TEST(Streaming, UpstreamResetMidStreamEndsWithAnSseErrorEvent) {
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.StartSse();
    co_await ex.SendEvent(ChatChunkEvent("one"));
    co_await ex.SendEvent(ChatChunkEvent("two"));
    ex.Reset();
  });
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", kStreamBody));
  ASSERT_TRUE(client.ReadHead());
  std::vector<std::string> data = ReadAllData(client);
  ASSERT_TRUE(client.stream_finished()) << "HTTP framing stays intact after the error event";
  ASSERT_EQ(data.size(), 3u);
  json::value error = json::parse(data[2]);
  EXPECT_EQ(error.at("error").at("code").as_string(), "upstream_reset");
  EXPECT_EQ(error.at("error").at("type").as_string(), "server_error");
  auto log = gateway.AccessLog();
  EXPECT_EQ(log.at(0).at("error").as_string(), "upstream_reset");
  // The connection is still usable for the next request.
  client.Send(GetRequest("/health/live"));
  auto next = client.ReadResponse();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

TEST(Streaming, StreamThatEndsWithoutDoneGetsAnErrorEvent) {
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.StartSse();
    co_await ex.SendEvent(ChatChunkEvent("one"));
    co_await ex.EndChunked();  // a clean HTTP end, but no [DONE]
  });
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", kStreamBody));
  ASSERT_TRUE(client.ReadHead());
  std::vector<std::string> data = ReadAllData(client);
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(json::parse(data[1]).at("error").at("code").as_string(), "stream_truncated");
}

TEST(Streaming, EventsSplitAcrossChunksAndCrlfAreReassembled) {
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.StartSse();
    std::string events = "data: {\"a\":1}\r\n\r\nevent: x\r\ndata: {\"b\":\r\ndata: 2}\r\n\r\n" +
                         std::string(kDoneEvent);
    for (size_t i = 0; i < events.size(); i += 5) co_await ex.SendEvent(events.substr(i, 5));
    co_await ex.EndChunked();
  });
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(JsonRequest("/v1/chat/completions", kStreamBody));
  ASSERT_TRUE(client.ReadHead());
  std::string all;
  while (auto e = client.ReadSseEvent()) all += *e;
  // CRLF events are relayed byte for byte; split into events by our \n\n-based test reader.
  EXPECT_NE(all.find("data: {\"a\":1}\r\n\r\n"), std::string::npos);
  EXPECT_NE(all.find("event: x\r\ndata: {\"b\":\r\ndata: 2}\r\n\r\n"), std::string::npos);
  EXPECT_NE(all.find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(all.find("\"error\""), std::string::npos);
}

TEST(Streaming, SlowClientAppliesBackpressureAndMemoryStaysBounded) {
  // The upstream tries to push ~64 MiB as fast as it can while the client reads nothing.
  constexpr int kEvents = 32'768;
  const std::string payload(4000, 'x');
  const std::string event = "data: {\"p\":\"" + payload + "\"}\n\n";
  std::atomic<int> written{0};
  FakeUpstream upstream([&](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.StartSse();
    for (int i = 0; i < kEvents; ++i) {
      if (!co_await ex.SendEvent(event)) co_return;
      ++written;
    }
    co_await ex.SendEvent(kDoneEvent);
    co_await ex.EndChunked();
  });
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port(), std::chrono::seconds(20));
  client.Send(JsonRequest("/v1/chat/completions", kStreamBody));
  ASSERT_TRUE(client.ReadHead());
  // Wait until the upstream stalls: its writes stop progressing.
  int last = -1;
  for (int i = 0; i < 100 && written.load() != last; ++i) {
    last = written.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Everything in flight sits in socket buffers (a few MiB on loopback at most), not in
  // the gateway: the upstream is held far below the 128 MiB it wants to send.
  EXPECT_LT(written.load(), kEvents / 4) << "no backpressure: the gateway buffered the stream";
  // Now read it all: nothing was lost.
  int received = 0;
  bool done = false;
  while (auto e = client.ReadSseEvent()) {
    if (SseData(*e) == "[DONE]") {
      done = true;
    } else {
      ++received;
    }
  }
  EXPECT_EQ(received, kEvents);
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace sluice::testing
