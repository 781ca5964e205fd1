// One client connection of sluice-mock: a coroutine that reads strict HTTP/1.1 requests
// (keep-alive, pipelining, Content-Length and chunked bodies), hands each to the worker's
// MockService and executes the returned plan: immediate writes (pipelined responses are
// batched into one write), delays on an asio timer, streamed events written as they are
// generated, injected resets. While it waits it watches the socket, so a client that goes
// away mid-stream is noticed at once. Lives on one worker thread; not thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "core/http_types.h"
#include "http/http_parser.h"
#include "mock_format.h"
#include "mock_handler.h"

namespace sluice {

class MockConnection : public std::enable_shared_from_this<MockConnection> {
 public:
  MockConnection(MockService& service, boost::asio::ip::tcp::socket socket, uint64_t max_body);
  ~MockConnection();
  MockConnection(const MockConnection&) = delete;
  MockConnection& operator=(const MockConnection&) = delete;

  boost::asio::awaitable<void> Run();

 private:
  enum class ReadResult : uint8_t { kRequest, kClosed, kRejected };

  boost::asio::awaitable<ReadResult> ReadRequest();
  boost::asio::awaitable<ReadResult> ReadBody(size_t head_size);
  boost::asio::awaitable<bool> ReadMore();
  // Appends an error reply for a framing error; the connection closes after it.
  void Reject(const ParseError& error);
  // Writes the first `bytes` of the output (all of it by default). False: client gone.
  boost::asio::awaitable<bool> Flush(size_t bytes = std::string::npos);
  // Waits `delay` while watching the socket. False: the client went away meanwhile.
  boost::asio::awaitable<bool> Wait(std::chrono::microseconds delay);
  // Runs the planned stream. False when the connection must end (reset, client gone).
  boost::asio::awaitable<bool> RunStream();
  boost::asio::awaitable<void> CloseGracefully();
  void ResetConnection();

  void Reserve(size_t min_free);
  std::string_view Buffered() const {
    return std::string_view(in_.get() + in_begin_, in_end_ - in_begin_);
  }
  void ConsumeRequest();

  void ArmWatch();
  void StopWatch();
  void OnReadable(const boost::system::error_code& ec, uint64_t generation);

  MockService& service_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  uint64_t max_body_;
  HeadLimits limits_;
  HeadScanner scanner_;
  HttpRequest request_;
  ChunkedDecoder chunked_;
  std::string chunked_body_;
  std::unique_ptr<char[]> in_;
  size_t in_capacity_ = 0;
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  size_t consumed_ = 0;  // bytes of the current request in the input
  bool moved_ = false;   // the input moved since the head was parsed
  std::string out_;      // responses not yet written
  ResponsePlan plan_;
  StreamEmitter emitter_;
  bool client_gone_ = false;
  bool watching_ = false;
  bool peer_sent_more_ = false;  // pipelined bytes wait: EOF cannot be seen behind them
  uint64_t watch_generation_ = 0;
};

}  // namespace sluice
