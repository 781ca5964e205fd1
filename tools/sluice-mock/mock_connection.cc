// The connection loop of sluice-mock: request reading, plan execution, stream pacing,
// resets and the disconnect watch (see mock_connection.h). One worker thread per instance.
#include "mock_connection.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "core/local_reply.h"
#include "http/response_writer.h"

namespace sluice {
namespace asio = boost::asio;
using std::chrono::microseconds;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr size_t kInitialInput = 4096;
constexpr size_t kShrinkAbove = 256 * 1024;
// Pipelined responses and zero-delay streams are written in pieces of at most about this
// size, so a huge stream does not buffer in memory.
constexpr size_t kFlushBytes = 256 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr size_t kLingerMaxBytes = 1 << 20;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
}  // namespace

MockConnection::MockConnection(MockService& service, asio::ip::tcp::socket socket,
                               uint64_t max_body)
    : service_(service),
      socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      max_body_(max_body) {
  boost::system::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  Bump(service_.stats().connections_opened);
}

MockConnection::~MockConnection() { Bump(service_.stats().connections_closed); }

asio::awaitable<void> MockConnection::Run() {
  auto self = shared_from_this();
  for (;;) {
    ReadResult read = co_await ReadRequest();
    if (read == ReadResult::kClosed) break;
    if (read == ReadResult::kRejected) {
      if (co_await Flush()) co_await CloseGracefully();
      break;
    }
    size_t earlier = out_.size();  // responses to earlier pipelined requests
    peer_sent_more_ = false;
    service_.Handle(request_, out_, plan_, emitter_);
    bool open = true;
    switch (plan_.kind) {
      case ResponsePlan::Kind::kWrite:
        if (plan_.delay.count() > 0) {
          open = co_await Flush(earlier) && co_await Wait(plan_.delay);
        }
        break;
      case ResponsePlan::Kind::kStream:
        open = co_await RunStream();
        break;
      case ResponsePlan::Kind::kReset:
        open = co_await Flush(earlier) && co_await Wait(plan_.delay);
        if (open) ResetConnection();
        open = false;
        break;
    }
    StopWatch();
    if (!open) break;
    ConsumeRequest();
    if (!plan_.keep_alive) {
      if (co_await Flush()) co_await CloseGracefully();
      break;
    }
    if (out_.size() >= kFlushBytes && !co_await Flush()) break;
  }
  boost::system::error_code ec;
  timer_.cancel();
  socket_.close(ec);
}

asio::awaitable<MockConnection::ReadResult> MockConnection::ReadRequest() {
  scanner_.Reset();
  request_.Reset();
  size_t head_size = 0;
  for (;;) {
    ParseError error;
    ParseStatus status = scanner_.Scan(Buffered(), limits_, /*is_request=*/true, head_size, error);
    if (status == ParseStatus::kDone) break;
    if (status == ParseStatus::kError) {
      Reject(error);
      co_return ReadResult::kRejected;
    }
    // About to block on the client: first write what earlier requests produced.
    if (!out_.empty() && !co_await Flush()) co_return ReadResult::kClosed;
    Reserve(1024);
    if (!co_await ReadMore()) co_return ReadResult::kClosed;
  }
  ParseError error;
  if (!ParseRequestHead(Buffered().substr(0, head_size), limits_, request_, error)) {
    Reject(error);
    co_return ReadResult::kRejected;
  }
  moved_ = false;
  ReadResult result = co_await ReadBody(head_size);
  if (result == ReadResult::kRequest && moved_) {
    // The buffer moved while the body arrived: point the head's views at the new place.
    std::string_view body = request_.body;
    ParseRequestHead(Buffered().substr(0, head_size), limits_, request_, error);
    request_.body = request_.chunked ? std::string_view(chunked_body_)
                                     : Buffered().substr(head_size, body.size());
  }
  co_return result;
}

asio::awaitable<MockConnection::ReadResult> MockConnection::ReadBody(size_t head_size) {
  if (!request_.chunked && request_.content_length > max_body_) {
    Reject({ErrorClass::kBodyTooLarge, "The request body is too large."});
    co_return ReadResult::kRejected;
  }
  bool has_body = request_.chunked || request_.content_length > 0;
  if (has_body && request_.expect_continue && Buffered().size() == head_size) {
    out_.append(kContinue);
    if (!co_await Flush()) co_return ReadResult::kClosed;
  }
  if (!request_.chunked) {
    size_t need = head_size + static_cast<size_t>(request_.content_length);
    if (Buffered().size() < need) Reserve(need - Buffered().size());
    while (Buffered().size() < need) {
      if (!co_await ReadMore()) co_return ReadResult::kClosed;
    }
    request_.body = Buffered().substr(head_size, static_cast<size_t>(request_.content_length));
    consumed_ = need;
    co_return ReadResult::kRequest;
  }
  // Chunked: decode into chunked_body_ and drop the raw chunk bytes as they are used, so
  // the input holds only the head and whatever follows the body.
  chunked_.Reset();
  chunked_body_.clear();
  for (;;) {
    size_t raw_size = in_end_ - in_begin_ - head_size;
    ParseError error;
    ParseStatus status =
        chunked_.DecodeInPlace(in_.get() + in_begin_ + head_size, raw_size, chunked_body_, error);
    in_end_ = in_begin_ + head_size + raw_size;
    if (status == ParseStatus::kError) {
      Reject(error);
      co_return ReadResult::kRejected;
    }
    if (chunked_body_.size() > max_body_) {
      Reject({ErrorClass::kBodyTooLarge, "The request body is too large."});
      co_return ReadResult::kRejected;
    }
    if (status == ParseStatus::kDone) break;
    Reserve(4096);
    if (!co_await ReadMore()) co_return ReadResult::kClosed;
  }
  request_.body = chunked_body_;
  consumed_ = head_size;
  co_return ReadResult::kRequest;
}

asio::awaitable<bool> MockConnection::ReadMore() {
  auto [ec, n] = co_await socket_.async_read_some(
      asio::buffer(in_.get() + in_end_, in_capacity_ - in_end_), kAwait);
  in_end_ += n;
  co_return !ec && n > 0;
}

void MockConnection::Reserve(size_t min_free) {
  if (in_capacity_ - in_end_ >= min_free) return;
  size_t used = in_end_ - in_begin_;
  if (in_begin_ > 0 && in_capacity_ - used >= min_free) {
    std::memmove(in_.get(), in_.get() + in_begin_, used);
  } else {
    size_t capacity = std::max({kInitialInput, in_capacity_ * 2, used + min_free});
    auto bigger = std::make_unique<char[]>(capacity);
    if (used > 0) std::memcpy(bigger.get(), in_.get() + in_begin_, used);
    in_ = std::move(bigger);
    in_capacity_ = capacity;
  }
  in_begin_ = 0;
  in_end_ = used;
  moved_ = true;
}

void MockConnection::ConsumeRequest() {
  in_begin_ += consumed_;
  consumed_ = 0;
  if (in_begin_ < in_end_) return;
  in_begin_ = in_end_ = 0;
  if (in_capacity_ > kShrinkAbove) {  // one huge body should not pin memory for good
    in_.reset();
    in_capacity_ = 0;
  }
}

void MockConnection::Reject(const ParseError& error) {
  Bump(service_.stats().requests);
  LocalReply reply = ErrorReply(error.error, error.message);
  HeadFraming framing;
  framing.content_length = reply.body.size();
  framing.keep_alive = false;  // the byte stream is out of sync: always close
  AppendResponseHead(out_, reply.status, reply.content_type, reply.headers, {}, framing);
  out_.append(reply.body);
}

asio::awaitable<bool> MockConnection::Flush(size_t bytes) {
  bytes = std::min(bytes, out_.size());
  if (bytes == 0) co_return !client_gone_;
  if (client_gone_) co_return false;
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out_.data(), bytes), kAwait);
  if (ec) {
    client_gone_ = true;
    co_return false;
  }
  out_.erase(0, bytes);
  if (out_.empty() && out_.capacity() > kShrinkAbove) std::string().swap(out_);
  co_return true;
}

asio::awaitable<bool> MockConnection::Wait(microseconds delay) {
  if (client_gone_) co_return false;
  timer_.expires_after(delay);
  ArmWatch();
  co_await timer_.async_wait(kAwait);
  co_return !client_gone_;
}

asio::awaitable<bool> MockConnection::RunStream() {
  StatsCell& stats = service_.stats();
  const int64_t tokens = plan_.tokens;
  // Every early exit ends the connection; only a vanished client counts as an abort.
  auto fail = [&stats, this]() {
    if (client_gone_) Bump(stats.streams_client_aborted);
    return false;
  };
  if (plan_.reset_after == 0) {
    if (co_await Flush()) ResetConnection();
    co_return fail();
  }
  for (int64_t i = 0; i < tokens; ++i) {
    microseconds delay = service_.Jittered(i == 0 ? plan_.ttft : plan_.itl, plan_.jitter_us);
    if (delay.count() > 0 && !(co_await Flush() && co_await Wait(delay))) co_return fail();
    if (i == 0) emitter_.AppendStart(out_);
    emitter_.AppendToken(out_, i);
    if (plan_.reset_after == i + 1) {
      if (co_await Flush()) ResetConnection();
      co_return fail();
    }
    if (out_.size() >= kFlushBytes && !co_await Flush()) co_return fail();
  }
  if (tokens == 0) {
    microseconds delay = service_.Jittered(plan_.ttft, plan_.jitter_us);
    if (delay.count() > 0 && !(co_await Flush() && co_await Wait(delay))) co_return fail();
    emitter_.AppendStart(out_);
  }
  if (plan_.reset_after > tokens) {  // asked to cut after more tokens than there are
    if (co_await Flush()) ResetConnection();
    co_return fail();
  }
  emitter_.AppendEnd(out_);
  if (!co_await Flush()) co_return fail();
  Bump(stats.streams_completed);
  co_return true;
}

void MockConnection::ResetConnection() {
  // SO_LINGER {on, 0}: close() sends RST instead of FIN, as a crashed upstream would.
  boost::system::error_code ec;
  socket_.set_option(asio::socket_base::linger(true, 0), ec);
  socket_.close(ec);
  Bump(service_.stats().resets_injected);
}

asio::awaitable<void> MockConnection::CloseGracefully() {
  // Half-close, then drain what the client still sends for a short time before closing:
  // closing with unread input would make the kernel send a RST that can destroy the reply.
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  timer_.expires_after(kLingerTime);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& wait_ec) {
    boost::system::error_code ignored;
    if (!wait_ec) self->socket_.cancel(ignored);
  });
  char sink[4096];
  size_t discarded = 0;
  while (discarded < kLingerMaxBytes) {
    auto [read_ec, n] = co_await socket_.async_read_some(asio::buffer(sink), kAwait);
    if (read_ec) break;
    discarded += n;
  }
  timer_.cancel();
}

void MockConnection::ArmWatch() {
  if (watching_ || client_gone_ || peer_sent_more_) return;
  watching_ = true;
  socket_.async_wait(
      asio::ip::tcp::socket::wait_read,
      [self = shared_from_this(), generation = watch_generation_](
          const boost::system::error_code& ec) { self->OnReadable(ec, generation); });
}

void MockConnection::StopWatch() {
  if (!watching_) return;
  watching_ = false;
  ++watch_generation_;
  boost::system::error_code ec;
  socket_.cancel(ec);  // only the watch is pending here: reads and writes are not in flight
}

void MockConnection::OnReadable(const boost::system::error_code& ec, uint64_t generation) {
  if (generation != watch_generation_) return;
  watching_ = false;
  if (ec == asio::error::operation_aborted) return;
  if (!ec) {
    char byte;
    ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) {  // a pipelined request: the client is still there
      peer_sent_more_ = true;
      return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      ArmWatch();
      return;
    }
  }
  // EOF or a socket error: the client went away. Stop waiting at once.
  client_gone_ = true;
  timer_.cancel();
}

}  // namespace sluice
