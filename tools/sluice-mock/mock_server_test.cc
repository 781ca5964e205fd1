// In-process tests of sluice-mock over real sockets: the server runs on port 0 and a
// blocking client exchanges requests with it (streamed and non-stream chat, pipelining,
// chunked bodies, malformed input, injected resets and client aborts).
#include "mock_server.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <cstdio>
#include <thread>

#include "mock_test_util.h"
#include "mock_text.h"

namespace sluice {
namespace {
namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;

std::string Post(std::string_view path, std::string_view body, std::string_view extra = {}) {
  std::string request = "POST " + std::string(path) + " HTTP/1.1\r\nHost: mock\r\n";
  request.append(extra);
  request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n\r\n";
  request.append(body);
  return request;
}

class MockServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MockConfig config;
    config.listen = "127.0.0.1:0";
    config.workers = 2;
    server_ = std::make_unique<MockServer>(config);
    std::string error;
    ASSERT_TRUE(server_->Listen(error)) << error;
    ASSERT_NE(server_->port(), 0);
    server_->Start();
  }
  void TearDown() override { server_->Stop(); }

  tcp::socket Connect() {
    tcp::socket socket(io_);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    return socket;
  }

  // Reads until `count` complete responses are buffered (or the peer closes or fails).
  std::vector<mocktest::Response> ReadResponses(tcp::socket& socket, size_t count,
                                                boost::system::error_code* end = nullptr) {
    std::vector<mocktest::Response> responses;
    size_t offset = 0;
    char buffer[16384];
    while (responses.size() < count) {
      mocktest::Response response;
      size_t used = mocktest::ParseResponse(std::string_view(wire_).substr(offset), response);
      if (used > 0) {
        offset += used;
        responses.push_back(std::move(response));
        continue;
      }
      boost::system::error_code ec;
      size_t n = socket.read_some(asio::buffer(buffer), ec);
      if (ec) {
        if (end != nullptr) *end = ec;
        break;
      }
      wire_.append(buffer, n);
    }
    wire_.erase(0, offset);
    return responses;
  }

  // Waits (bounded) until `done` holds for the server's counters.
  template <typename Predicate>
  bool WaitForStats(Predicate done) {
    for (int i = 0; i < 1000; ++i) {
      if (done(server_->Stats())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return done(server_->Stats());
  }

  asio::io_context io_;
  std::unique_ptr<MockServer> server_;
  std::string wire_;
};

constexpr std::string_view kChatBody =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}],"max_tokens":6)";

TEST_F(MockServerTest, NonStreamChatOverTheWire) {
  tcp::socket socket = Connect();
  asio::write(socket, asio::buffer(Post("/v1/chat/completions", std::string(kChatBody) + "}")));
  auto responses = ReadResponses(socket, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_TRUE(responses[0].keep_alive);
  json::value body = json::parse(responses[0].body);
  std::string expected;
  AppendContent(expected, 6);
  EXPECT_EQ(body.at("choices").at(0).at("message").at("content").as_string(), expected);
  EXPECT_EQ(body.at("choices").at(0).at("finish_reason").as_string(), "length");
  EXPECT_EQ(body.at("usage").at("prompt_tokens").as_int64(), 3);  // 9 bytes
}

TEST_F(MockServerTest, StreamedChatWithTimersOverTheWire) {
  tcp::socket socket = Connect();
  std::string body =
      std::string(kChatBody) +
      R"(,"stream":true,"stream_options":{"include_usage":true},"mock":{"ttft_ms":2,"itl_ms":1}})";
  asio::write(socket, asio::buffer(Post("/v1/chat/completions", body)));
  auto responses = ReadResponses(socket, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_TRUE(responses[0].chunked);
  std::vector<std::string> events = mocktest::SseData(responses[0].body);
  ASSERT_EQ(events.size(), 1u + 6u + 1u + 1u + 1u);
  std::string content;
  for (size_t i = 1; i <= 6; ++i) {
    content += json::parse(events[i]).at("choices").at(0).at("delta").at("content").as_string();
  }
  std::string expected;
  AppendContent(expected, 6);
  EXPECT_EQ(content, expected);
  EXPECT_EQ(json::parse(events[8]).at("usage").at("completion_tokens").as_int64(), 6);
  EXPECT_EQ(events[9], "[DONE]");
  // The connection stays usable after a stream.
  asio::write(socket, asio::buffer(std::string("GET /health HTTP/1.1\r\nHost: m\r\n\r\n")));
  auto health = ReadResponses(socket, 1);
  ASSERT_EQ(health.size(), 1u);
  EXPECT_EQ(health[0].body, R"({"status":"ok"})");
  EXPECT_TRUE(WaitForStats([](const StatsTotals& s) { return s.streams_completed == 1; }));
}

TEST_F(MockServerTest, PipelinedAndChunkedRequestsAnswerInOrder) {
  tcp::socket socket = Connect();
  std::string chunked_body = R"({"model":"m","prompt":"abcdefgh","max_tokens":2})";
  std::string requests = "GET /health HTTP/1.1\r\nHost: m\r\n\r\n";
  requests += "POST /v1/completions HTTP/1.1\r\nHost: m\r\nTransfer-Encoding: chunked\r\n\r\n";
  requests += "5\r\n" + chunked_body.substr(0, 5) + "\r\n";
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", chunked_body.size() - 5);
  requests += std::string(size) + ";ext=1\r\n" + chunked_body.substr(5) + "\r\n0\r\n\r\n";
  requests += Post("/v1/embeddings", R"({"model":"e","input":"x","dimensions":3})");
  requests += "GET /v1/models HTTP/1.1\r\nHost: m\r\n\r\n";
  asio::write(socket, asio::buffer(requests));
  auto responses = ReadResponses(socket, 4);
  ASSERT_EQ(responses.size(), 4u);
  EXPECT_EQ(responses[0].body, R"({"status":"ok"})");
  json::value completion = json::parse(responses[1].body);
  EXPECT_EQ(completion.at("choices").at(0).at("text").as_string(), "Hello from");
  EXPECT_EQ(completion.at("usage").at("prompt_tokens").as_int64(), 2);
  EXPECT_EQ(json::parse(responses[2].body).at("data").at(0).at("embedding").as_array().size(), 3u);
  EXPECT_EQ(json::parse(responses[3].body).at("object").as_string(), "list");
}

TEST_F(MockServerTest, HealthCanBeMadeToFailAndRecoverWhileRunning) {
  auto health = [&] {
    tcp::socket socket = Connect();
    asio::write(socket, asio::buffer(std::string("GET /health HTTP/1.1\r\nHost: mock\r\n\r\n")));
    auto responses = ReadResponses(socket, 1);
    wire_.clear();
    return responses.size() == 1 ? responses[0].status : 0;
  };
  EXPECT_EQ(health(), 200);
  {
    tcp::socket socket = Connect();
    asio::write(socket, asio::buffer(Post("/mock/health", R"({"status":503})")));
    auto responses = ReadResponses(socket, 1);
    wire_.clear();
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].status, 200);
  }
  // Every connection (spread over both workers) sees the change.
  for (int i = 0; i < 6; ++i) EXPECT_EQ(health(), 503) << i;
  server_->SetHealthStatus(200);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(health(), 200) << i;
  EXPECT_EQ(server_->Stats().health_checks, 13u);
}

TEST_F(MockServerTest, MalformedRequestGets400AndClose) {
  tcp::socket socket = Connect();
  asio::write(socket, asio::buffer(std::string(
                          "POST /v1/chat/completions HTTP/1.1\r\nHost: m\r\nContent-Length: 1\r\n"
                          "Content-Length: 2\r\n\r\nxy")));
  boost::system::error_code end;
  auto responses = ReadResponses(socket, 2, &end);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 400);
  EXPECT_FALSE(responses[0].keep_alive);
  EXPECT_TRUE(json::parse(responses[0].body).at("error").is_object());
  EXPECT_EQ(end, asio::error::eof);
}

TEST_F(MockServerTest, InjectedResetCutsTheStreamAfterKTokens) {
  tcp::socket socket = Connect();
  std::string body = std::string(kChatBody) + R"(,"stream":true,"mock":{"reset_after":2}})";
  asio::write(socket, asio::buffer(Post("/v1/chat/completions", body)));
  boost::system::error_code end;
  auto responses = ReadResponses(socket, 1, &end);
  EXPECT_TRUE(responses.empty());  // the stream never completes
  EXPECT_TRUE(end == asio::error::connection_reset || end == asio::error::eof) << end.message();
  EXPECT_EQ(wire_.find("[DONE]"), std::string::npos);
  EXPECT_EQ(wire_.find(R"({"content":" the"})"), std::string::npos);  // token 3 never sent
  EXPECT_TRUE(WaitForStats([](const StatsTotals& s) { return s.resets_injected == 1; }));
  EXPECT_EQ(server_->Stats().streams_completed, 0u);
}

TEST_F(MockServerTest, ClientAbortMidStreamIsCountedAndFreed) {
  tcp::socket socket = Connect();
  std::string body = R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,)"
                     R"("mock":{"tokens":100000,"itl_ms":60000}})";
  asio::write(socket, asio::buffer(Post("/v1/chat/completions", body)));
  // Read the head and the first events, then go away while the mock waits a minute.
  char buffer[4096];
  size_t total = 0;
  while (std::string_view(buffer, total).find("Hello") == std::string_view::npos) {
    total += socket.read_some(asio::buffer(buffer + total, sizeof(buffer) - total));
  }
  EXPECT_TRUE(WaitForStats([](const StatsTotals& s) { return s.streams_started == 1; }));
  socket.close();
  // Noticed at once (not after the 60 s delay) and the connection is released.
  EXPECT_TRUE(WaitForStats([](const StatsTotals& s) {
    return s.streams_client_aborted == 1 && s.connections_active == 0;
  }));
  EXPECT_EQ(server_->Stats().streams_completed, 0u);
}

}  // namespace
}  // namespace sluice
