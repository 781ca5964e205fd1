// One HTTP/1.1 connection to a backend (plain TCP or TLS with verification and SNI): connect,
// write a request, read a response head, then read the body piece by piece, decoding
// Content-Length, chunked or close-delimited framing. Owned by one worker's UpstreamPool
// while idle and by one request while leased; single-threaded.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <optional>
#include <span>
#include <string>

#include "config/snapshot.h"
#include "http/deadline.h"
#include "http/http_parser.h"

namespace sluice {

// Something a client disconnect must stop at once (the leased upstream connection).
class Abortable {
 public:
  virtual ~Abortable() = default;
  virtual void Abort() = 0;
};

// How an upstream operation ended, beyond success.
enum class UpstreamFailure : uint8_t {
  kNone,
  kConnect,      // refused, unreachable, DNS, TLS handshake or verification
  kTimeout,      // the deadline passed
  kReset,        // EOF or reset before the response was complete
  kBadResponse,  // malformed head or body framing
  kTooLarge,     // response head or body over its limit
  kAborted,      // Abort() was called (client went away)
};

class UpstreamConnection final : public TimeoutTarget, public Abortable {
 public:
  UpstreamConnection(boost::asio::io_context& io, const BackendConfig& backend);
  ~UpstreamConnection() override;

  boost::asio::awaitable<UpstreamFailure> Connect(
      const std::vector<boost::asio::ip::tcp::endpoint>& endpoints);
  boost::asio::awaitable<UpstreamFailure> Write(std::span<const boost::asio::const_buffer> buffers);
  // Reads and parses the next response head (skipping 1xx interim responses).
  boost::asio::awaitable<UpstreamFailure> ReadHead(const HeadLimits& limits,
                                                   HttpResponseHead& head);
  // Prepares body decoding for the head just read.
  void BeginBody(const HttpResponseHead& head, bool request_was_head);
  // Appends decoded body bytes to `out` (at least one byte unless the body is complete).
  // Sets `done` once the whole body has been read.
  boost::asio::awaitable<UpstreamFailure> ReadBody(std::string& out, bool& done);

  void OnTimeout() override;
  void Abort() override;

  // True when the connection can carry another request (complete response, keep-alive).
  bool reusable() const { return reusable_; }
  void MarkNotReusable() { reusable_ = false; }
  // True if at least one response byte arrived for the current request.
  bool received_bytes() const { return received_bytes_; }
  bool fresh() const { return requests_ == 0; }
  bool timed_out() const { return timed_out_; }
  // Non-blocking check that an idle connection was not closed by the peer.
  bool LooksAlive();
  SteadyTime idle_since{};
  const BackendConfig* backend() const { return backend_; }

 private:
  boost::asio::awaitable<UpstreamFailure> Fill();  // reads more bytes into the buffer
  UpstreamFailure ClassifyError(const boost::system::error_code& ec) const;
  boost::asio::ip::tcp::socket& socket();

  const BackendConfig* backend_;
  boost::asio::ip::tcp::socket plain_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> tls_;
  std::string buffer_;
  size_t begin_ = 0;  // unconsumed bytes are [begin_, end_)
  size_t end_ = 0;
  HeadScanner scanner_;
  enum class BodyMode : uint8_t { kNone, kLength, kChunked, kClose } body_mode_ = BodyMode::kNone;
  uint64_t body_remaining_ = 0;
  ChunkedDecoder chunked_;
  bool reusable_ = false;
  bool timed_out_ = false;
  bool aborted_ = false;
  bool eof_ = false;  // the last Fill() ended with a clean EOF
  bool received_bytes_ = false;
  uint64_t requests_ = 0;
};

}  // namespace sluice
