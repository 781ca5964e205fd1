// UpstreamConnection: connect (+TLS), write, and incremental response reading.
#include "http/upstream_connection.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

namespace sluice {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr size_t kInitialBuffer = 16 * 1024;
constexpr size_t kMaxBuffer = 1024 * 1024;

bool IsIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

UpstreamConnection::UpstreamConnection(asio::io_context& io, const BackendConfig& backend)
    : backend_(&backend), plain_(io) {
  if (backend.tls) tls_.emplace(io, *backend.tls_context);
}

UpstreamConnection::~UpstreamConnection() = default;

tcp::socket& UpstreamConnection::socket() { return tls_ ? tls_->next_layer() : plain_; }

UpstreamFailure UpstreamConnection::ClassifyError(const boost::system::error_code& ec) const {
  if (aborted_) return UpstreamFailure::kAborted;
  if (timed_out_) return UpstreamFailure::kTimeout;
  (void)ec;
  return UpstreamFailure::kReset;
}

void UpstreamConnection::OnTimeout() {
  timed_out_ = true;
  reusable_ = false;
  boost::system::error_code ec;
  socket().close(ec);
}

void UpstreamConnection::Abort() {
  aborted_ = true;
  reusable_ = false;
  boost::system::error_code ec;
  socket().close(ec);
}

bool UpstreamConnection::LooksAlive() {
  if (!socket().is_open()) return false;
  char byte;
  ssize_t n = ::recv(socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return false;                        // peer closed
  if (n > 0) return tls_.has_value();              // TLS may hold session tickets
  return errno == EAGAIN || errno == EWOULDBLOCK;  // nothing to read: alive
}

asio::awaitable<UpstreamFailure> UpstreamConnection::Connect(
    const std::vector<tcp::endpoint>& endpoints) {
  auto [ec, endpoint] = co_await asio::async_connect(socket(), endpoints, kAwait);
  if (ec) co_return timed_out_ ? UpstreamFailure::kTimeout : UpstreamFailure::kConnect;
  socket().set_option(tcp::no_delay(true), ec);
  if (tls_) {
    const std::string& name = backend_->server_name;
    if (!IsIpLiteral(name)) SSL_set_tlsext_host_name(tls_->native_handle(), name.c_str());
    if (backend_->tls_verify) tls_->set_verify_callback(asio::ssl::host_name_verification(name));
    auto [hec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, kAwait);
    if (hec) co_return timed_out_ ? UpstreamFailure::kTimeout : UpstreamFailure::kConnect;
  }
  buffer_.resize(kInitialBuffer);
  co_return UpstreamFailure::kNone;
}

asio::awaitable<UpstreamFailure> UpstreamConnection::Write(
    std::span<const asio::const_buffer> buffers) {
  ++requests_;
  received_bytes_ = false;
  reusable_ = false;
  boost::system::error_code ec;
  if (tls_) {
    std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, buffers, kAwait);
  } else {
    std::tie(ec, std::ignore) = co_await asio::async_write(plain_, buffers, kAwait);
  }
  co_return ec ? ClassifyError(ec) : UpstreamFailure::kNone;
}

asio::awaitable<UpstreamFailure> UpstreamConnection::Fill() {
  if (aborted_) co_return UpstreamFailure::kAborted;
  eof_ = false;
  if (begin_ == end_) begin_ = end_ = 0;
  if (end_ == buffer_.size()) {
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    } else if (buffer_.size() >= kMaxBuffer) {
      co_return UpstreamFailure::kTooLarge;
    } else {
      buffer_.resize(std::max(kInitialBuffer, buffer_.size() * 2));
    }
  }
  asio::mutable_buffer space(buffer_.data() + end_, buffer_.size() - end_);
  boost::system::error_code ec;
  size_t n = 0;
  if (tls_) {
    std::tie(ec, n) = co_await tls_->async_read_some(space, kAwait);
  } else {
    std::tie(ec, n) = co_await plain_.async_read_some(space, kAwait);
  }
  end_ += n;
  if (n > 0) received_bytes_ = true;
  if (ec) {
    if (aborted_) co_return UpstreamFailure::kAborted;
    if (timed_out_) co_return UpstreamFailure::kTimeout;
    eof_ = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
    co_return UpstreamFailure::kReset;
  }
  co_return UpstreamFailure::kNone;
}

asio::awaitable<UpstreamFailure> UpstreamConnection::ReadHead(const HeadLimits& limits,
                                                              HttpResponseHead& head) {
  for (;;) {
    scanner_.Reset();
    for (;;) {
      size_t head_size = 0;
      ParseError error;
      std::string_view data(buffer_.data() + begin_, end_ - begin_);
      ParseStatus status = scanner_.Scan(data, limits, /*is_request=*/false, head_size, error);
      if (status == ParseStatus::kError) {
        co_return error.error == ErrorClass::kHeaderTooLarge ? UpstreamFailure::kTooLarge
                                                             : UpstreamFailure::kBadResponse;
      }
      if (status == ParseStatus::kDone) {
        if (!ParseResponseHead(data.substr(0, head_size), limits, head, error)) {
          co_return UpstreamFailure::kBadResponse;
        }
        begin_ += head_size;
        break;
      }
      if (UpstreamFailure f = co_await Fill(); f != UpstreamFailure::kNone) co_return f;
    }
    // Interim responses (100 Continue, 103 Early Hints) precede the real one.
    if (head.status >= 200 || head.status == 101) break;
  }
  co_return UpstreamFailure::kNone;
}

void UpstreamConnection::BeginBody(const HttpResponseHead& head, bool request_was_head) {
  chunked_.Reset();
  body_remaining_ = 0;
  if (head.BodyForbidden(request_was_head)) {
    body_mode_ = BodyMode::kNone;
  } else if (head.chunked) {
    body_mode_ = BodyMode::kChunked;
  } else if (head.has_content_length) {
    body_mode_ = BodyMode::kLength;
    body_remaining_ = head.content_length;
  } else {
    body_mode_ = BodyMode::kClose;
  }
  reusable_ = head.keep_alive && body_mode_ != BodyMode::kClose;
}

asio::awaitable<UpstreamFailure> UpstreamConnection::ReadBody(std::string& out, bool& done) {
  done = false;
  bool keep_alive = reusable_;
  reusable_ = false;  // only a completely read body makes the connection reusable again
  for (;;) {
    size_t available = end_ - begin_;
    switch (body_mode_) {
      case BodyMode::kNone:
        done = true;
        break;
      case BodyMode::kLength:
        if (body_remaining_ == 0) {
          done = true;
          break;
        }
        if (available > 0) {
          size_t n = static_cast<size_t>(std::min<uint64_t>(available, body_remaining_));
          out.append(buffer_.data() + begin_, n);
          begin_ += n;
          body_remaining_ -= n;
          done = body_remaining_ == 0;
          break;
        }
        [[fallthrough]];
      case BodyMode::kChunked:
        if (body_mode_ == BodyMode::kChunked && available > 0) {
          size_t consumed = 0;
          ParseError error;
          size_t before = out.size();
          ParseStatus s = chunked_.Decode(std::string_view(buffer_.data() + begin_, available), out,
                                          consumed, error);
          begin_ += consumed;
          if (s == ParseStatus::kError) co_return UpstreamFailure::kBadResponse;
          done = s == ParseStatus::kDone;
          if (done || out.size() > before) break;
        }
        if (UpstreamFailure f = co_await Fill(); f != UpstreamFailure::kNone) co_return f;
        continue;
      case BodyMode::kClose:
        if (available > 0) {
          out.append(buffer_.data() + begin_, available);
          begin_ = end_;
          break;
        }
        if (UpstreamFailure f = co_await Fill(); f != UpstreamFailure::kNone) {
          if (f == UpstreamFailure::kReset && eof_) {  // EOF ends a close-delimited body
            done = true;
            break;
          }
          co_return f;
        }
        continue;
    }
    break;
  }
  if (done)
    reusable_ = keep_alive && begin_ == end_ && !timed_out_ && !aborted_;
  else
    reusable_ = keep_alive;
  co_return UpstreamFailure::kNone;
}

}  // namespace sluice
