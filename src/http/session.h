// One client connection: reads requests strictly (limits, timeouts, 100-continue,
// chunked bodies), hands each to the Dispatcher, and keeps the connection alive for the
// next one (pipelined requests are answered in order). Implements ClientSink for the
// handlers. Lives on one worker; single-threaded. Owned by a shared_ptr held by its own
// coroutine and by pending socket callbacks.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "core/filter_chain.h"
#include "core/request_context.h"
#include "http/client_sink.h"
#include "http/deadline.h"
#include "http/http_parser.h"
#include "http/worker.h"
#include "routing/router.h"

namespace sluice {

class Session final : public std::enable_shared_from_this<Session>,
                      public SessionLink,
                      public TimeoutTarget,
                      public ClientSink {
 public:
  Session(Worker& worker, boost::asio::ip::tcp::socket socket);
  ~Session() override;

  boost::asio::awaitable<void> Run();

  // SessionLink
  void CloseIfIdle() override;
  void ForceClose() override;
  // TimeoutTarget
  void OnTimeout() override;
  // ClientSink
  boost::asio::awaitable<bool> Write(std::span<const boost::asio::const_buffer> buffers) override;
  void WatchForDisconnect(Abortable* target) override;
  void StopWatching() override;
  bool client_gone() const override { return client_gone_; }
  int minor_version() const override { return request_.minor_version; }
  bool keep_alive() const override { return keep_alive_; }
  void DisableKeepAlive() override { keep_alive_ = false; }
  // Lent from the worker's pool for the current request.
  ExchangeBuffers& buffers() override;

 private:
  enum class State : uint8_t { kIdle, kReading, kProcessing, kClosed };
  // What reaching the current deadline means: a real timeout, the moment to start the
  // disconnect watch, or the moment an idle connection gives its input buffer back.
  enum class DeadlineAction : uint8_t { kTimeout, kArmWatch, kPark };

  // Reads one complete request (head and body). Returns false when the connection must
  // end; any error response has then been written already.
  boost::asio::awaitable<bool> ReadRequest();
  boost::asio::awaitable<bool> ReadBody(size_t head_size);
  // Reads more bytes into the input buffer; false on EOF, error or timeout.
  boost::asio::awaitable<bool> ReadMore();
  // Waits for the first bytes of the next request, parking the input buffer if the
  // connection stays idle.
  boost::asio::awaitable<bool> ReadWhileIdle();
  void ReleaseInput();
  void ReturnBuffers();
  // Makes room for `min_free` bytes after the buffered input; may move the buffer, in which
  // case the parsed head is re-parsed so its views point into the new buffer.
  void Reserve(size_t min_free, size_t head_size);
  // Takes the worker's current configuration generation for a new request and returns its
  // snapshot (the caller sets ctx_.routing_table after ctx_.Begin).
  const Snapshot& PinGeneration();
  // Answers a request that failed before dispatch and closes the connection.
  boost::asio::awaitable<void> RejectRequest(ErrorClass error, std::string_view message);
  void Consume();
  boost::asio::awaitable<void> LingerAndClose();
  std::string_view Buffered() const { return {in_.get() + in_begin_, in_end_ - in_begin_}; }
  // Non-blocking read of whatever the client sent while we wait upstream.
  bool PollClient();
  void OnClientReadable(const boost::system::error_code& ec, uint64_t generation);
  // Sets the deadline that arms the disconnect watch, or clears it when not wanted.
  void ScheduleWatch();
  void Arm(Duration timeout, DeadlineAction action = DeadlineAction::kTimeout);
  void Disarm();
  void ArmWatch();
  void MarkClientGone();

  Worker& worker_;
  boost::asio::ip::tcp::socket socket_;
  std::string peer_ip_;
  State state_ = State::kIdle;
  HeadLimits limits_;

  std::unique_ptr<char[]> in_;
  size_t in_capacity_ = 0;
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  size_t consumed_ = 0;  // bytes of the current request in the input buffer

  // The configuration generation of the current request (the worker's current one when the
  // request began). Declared before ctx_ and chain_run_, which refer into it, so it outlives
  // them; replaced only when the worker has a newer one (no reference-count traffic per
  // request otherwise).
  std::shared_ptr<const ConfigGeneration> generation_;
  // Declared before ctx_ and chain_run_ so it outlives them: the JSON arena of ctx_ lives
  // in buffers_->json_scratch, and an abandoned request completes in ChainRun's destructor.
  std::unique_ptr<ExchangeBuffers> buffers_;
  HttpRequest request_;
  HeadScanner scanner_;
  ChunkedDecoder chunked_;
  std::string chunked_body_;
  RouteMatch route_;
  RequestContext ctx_;
  ChainRun chain_run_;

  bool keep_alive_ = true;
  bool timed_out_ = false;
  bool closing_ = false;
  bool client_gone_ = false;
  bool watching_ = false;      // a readiness wait is pending on the client socket
  bool watch_wanted_ = false;  // the upstream is working: a disconnect must abort it
  DeadlineAction deadline_action_ = DeadlineAction::kTimeout;
  bool park_requested_ = false;
  uint64_t watch_generation_ = 0;
  Abortable* abort_target_ = nullptr;
};

}  // namespace sluice
