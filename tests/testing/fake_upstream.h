// A scriptable in-process upstream for integration tests: an HTTP/1.1 (optionally TLS)
// server on a loopback port chosen by the OS, running its own thread, that hands every
// request to a test-provided coroutine. The coroutine writes raw bytes (so tests can send
// broken framing, resets, slow streams) and the server records what it saw: connections,
// requests, and writes that failed because the gateway went away. Thread-safe accessors.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace sluice::testing {

struct FakeRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int connection_id = 0;
  std::string Header(std::string_view name) const;
};

class FakeConnection;

class FakeExchange {
 public:
  FakeExchange(FakeConnection& connection, const FakeRequest& request)
      : connection_(connection), request_(request) {}
  const FakeRequest& request() const { return request_; }

  // Writes raw bytes; false when the gateway closed the connection.
  boost::asio::awaitable<bool> Write(std::string_view bytes);
  boost::asio::awaitable<void> Sleep(std::chrono::milliseconds duration);
  boost::asio::awaitable<bool> RespondJson(int status, std::string_view body,
                                           std::string_view extra_headers = "");
  // 200 text/event-stream with chunked framing; then SendEvent per event, then End().
  boost::asio::awaitable<bool> StartSse(std::string_view extra_headers = "");
  boost::asio::awaitable<bool> SendEvent(std::string_view raw_event);
  boost::asio::awaitable<bool> EndChunked();
  // Sends a TCP reset and drops the connection.
  void Reset();
  // Waits until the gateway closes the connection; false on timeout.
  boost::asio::awaitable<bool> WaitForPeerClose(std::chrono::milliseconds timeout);
  // Closes the connection after this exchange instead of keeping it alive.
  void CloseAfter() { keep_alive_ = false; }
  bool keep_alive() const { return keep_alive_; }

 private:
  FakeConnection& connection_;
  const FakeRequest& request_;
  bool keep_alive_ = true;
};

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
};

class FakeUpstream {
 public:
  using Handler = std::function<boost::asio::awaitable<void>(FakeExchange&)>;
  explicit FakeUpstream(Handler handler, std::optional<TlsFiles> tls = std::nullopt);
  ~FakeUpstream();

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  int write_failures() const { return write_failures_.load(); }
  int peer_closes() const { return peer_closes_.load(); }
  std::vector<FakeRequest> requests_seen() const;
  // Polls `predicate` until it holds or `timeout` passes.
  static bool WaitUntil(const std::function<bool()>& predicate,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(5'000));

 private:
  friend class FakeConnection;
  friend class FakeExchange;
  boost::asio::awaitable<void> AcceptLoop();
  boost::asio::awaitable<void> Serve(std::shared_ptr<FakeConnection> connection);

  Handler handler_;
  boost::asio::io_context io_;
  std::optional<boost::asio::ssl::context> tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> write_failures_{0};
  std::atomic<int> peer_closes_{0};
  mutable std::mutex mutex_;
  std::vector<FakeRequest> seen_;
  std::thread thread_;
};

// Minimal OpenAI-shaped payloads for fake upstream handlers.
std::string ChatCompletionJson(std::string_view content, int prompt_tokens, int completion_tokens);
std::string ChatChunkEvent(std::string_view content);
std::string UsageChunkEvent(int prompt_tokens, int completion_tokens);
inline constexpr std::string_view kDoneEvent = "data: [DONE]\n\n";

// True when the request's JSON body has "stream": true.
bool IsStreamRequest(const FakeRequest& request);
// A handler answering chat completions with usage 11 + 5, and streams with two content
// chunks, a usage chunk (4 + 9) and [DONE] (the metrics and tracing tests count on these).
boost::asio::awaitable<void> AnswerChatWithUsage(FakeExchange& ex);
inline constexpr int kAnswerPromptTokens = 11, kAnswerCompletionTokens = 5;
inline constexpr int kStreamPromptTokens = 4, kStreamCompletionTokens = 9;

}  // namespace sluice::testing
