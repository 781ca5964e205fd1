// Session: the connection loop, strict request reading and the client-disconnect watch.
#include "http/session.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "core/request_id.h"
#include "http/dispatch.h"
#include "http/request_metrics.h"
#include "http/response_writer.h"
#include "observability/request_trace.h"
#include "routing/model_resolver.h"
#include "usage/usage_recorder.h"

namespace sluice {
namespace asio = boost::asio;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr size_t kWatchSlack = 1024;  // free space kept for pipelined bytes while proxying
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerMaxBytes = 1024 * 1024;
// How long the upstream may keep a request waiting before the client socket is watched
// for a disconnect (plus up to one sweep interval).
constexpr auto kWatchDelay = std::chrono::milliseconds(5);
}  // namespace

Session::Session(Worker& worker, asio::ip::tcp::socket socket)
    : worker_(worker), socket_(std::move(socket)) {
  boost::system::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
  auto endpoint = socket_.remote_endpoint(ec);
  if (!ec) peer_ip_ = endpoint.address().to_string();
  const ServerConfig& server = worker_.server_config();
  limits_.max_head_bytes = server.max_head_bytes;
  limits_.max_header_fields = server.max_header_fields;
  limits_.max_uri_bytes = server.max_uri_bytes;
  worker_.sweeper().Add(*this);
  worker_.AddSession(*this);
}

Session::~Session() = default;

void Session::CloseIfIdle() {
  if (state_ == State::kIdle && in_begin_ == in_end_) {
    closing_ = true;
    boost::system::error_code ec;
    socket_.cancel(ec);
  }
}

void Session::ForceClose() {
  closing_ = true;
  if (abort_target_ != nullptr) abort_target_->Abort();
  boost::system::error_code ec;
  socket_.close(ec);
}

void Session::Arm(Duration timeout, DeadlineAction action) {
  deadline_action_ = action;
  SetTimeout(timeout);
}

void Session::Disarm() {
  deadline_action_ = DeadlineAction::kTimeout;
  ClearDeadline();
}

void Session::OnTimeout() {
  DeadlineAction action = deadline_action_;
  deadline_action_ = DeadlineAction::kTimeout;
  if (action == DeadlineAction::kArmWatch) {  // not a timeout: the upstream is slow
    ArmWatch();
    return;
  }
  if (action == DeadlineAction::kPark) {  // an idle keep-alive connection: drop its buffer
    park_requested_ = true;
    boost::system::error_code ec;
    socket_.cancel(ec);
    return;
  }
  timed_out_ = true;
  boost::system::error_code ec;
  socket_.cancel(ec);
}

asio::awaitable<void> Session::Run() {
  auto self = shared_from_this();
  while (!closing_) {
    state_ = State::kIdle;
    if (!co_await ReadRequest()) break;
    state_ = State::kProcessing;
    keep_alive_ = request_.keep_alive && !worker_.draining();
    const Snapshot& snapshot = PinGeneration();
    ctx_.Begin(request_, &snapshot, &ModelTableResolver::Instance(),
               std::chrono::steady_clock::now(), std::chrono::system_clock::now());
    ctx_.routing_table = generation_->routing.get();
    ctx_.config_version = generation_->version;
    ctx_.client_ip = peer_ip_;
    ctx_.route = route_.kind;
    ctx_.route_param = route_.param;
    std::string_view incoming_id = request_.headers.Get("x-request-id");
    if (IsValidRequestId(incoming_id)) {
      ctx_.request_id.assign(incoming_id);
    } else {
      GenerateRequestId(ctx_.request_id);
    }
    Tracer* tracer = worker_.services().tracer;
    if (tracer != nullptr) {
      tracer->Begin(ctx_);
    } else {
      ContinueIncomingTrace(ctx_);
    }
    ExchangeBuffers& buffers = this->buffers();
    ctx_.SetJsonScratch(buffers.json_scratch.get(), ExchangeBuffers::kJsonScratchBytes);
    WorkerMetrics* metrics = worker_.metrics();
    // A scrape does not count itself, so an idle gateway reads 0 requests in flight.
    const bool in_flight = metrics != nullptr && route_.kind != RouteKind::kMetrics;
    if (in_flight) metrics->in_flight.Add(1);
    chain_run_.Start(snapshot.chain, ctx_);
    co_await Dispatch(worker_, *this, ctx_, chain_run_, route_);
    ctx_.end = std::chrono::steady_clock::now();
    chain_run_.Complete();
    if (metrics != nullptr) {
      RecordRequestMetrics(*metrics, ctx_);
      if (in_flight) metrics->in_flight.Add(-1);
    }
    if (tracer != nullptr) tracer->Finish(ctx_);
    // Requests whose response did not reach its end (errors, local replies, disconnects)
    // are recorded now, without waiting for the journal.
    if (UsageRecorder* usage = worker_.services().usage) usage->RecordLate(ctx_);
    ReturnBuffers();
    if (!keep_alive_ || client_gone_ || worker_.draining()) break;
    Consume();
  }
  state_ = State::kClosed;
  if (!client_gone_ && !closing_) co_await LingerAndClose();
  Disarm();
  boost::system::error_code ec;
  socket_.close(ec);
  ReturnBuffers();
  ReleaseInput();
  worker_.SessionEnded();
}

asio::awaitable<void> Session::LingerAndClose() {
  // Half-close, then read and discard what the client still sends (for a bounded time and
  // size) before closing. Closing with unread bytes would make the kernel send a reset that
  // can destroy the response the client has not read yet (e.g. a 413 for a body in flight).
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  Arm(kLingerTime);
  char sink[4096];
  size_t discarded = 0;
  while (discarded < kLingerMaxBytes) {
    auto [rec, n] = co_await socket_.async_read_some(asio::buffer(sink), kAwait);
    if (rec) break;
    discarded += n;
  }
}

void Session::Consume() {
  in_begin_ += consumed_;
  consumed_ = 0;
  if (in_begin_ == in_end_) {
    in_begin_ = in_end_ = 0;
    // A buffer grown for a large body is not worth keeping; a standard one stays for the
    // next request until the connection goes idle (ReadWhileIdle).
    if (in_capacity_ != BufferPool::kInputBytes) ReleaseInput();
  }
}

void Session::Reserve(size_t min_free, size_t head_size) {
  if (in_capacity_ - in_end_ >= min_free) return;
  size_t used = in_end_ - in_begin_;
  if (in_begin_ > 0 && in_capacity_ - used >= min_free && head_size == 0) {
    std::memmove(in_.get(), in_.get() + in_begin_, used);
  } else {
    size_t capacity = std::max({BufferPool::kInputBytes, in_capacity_ * 2, used + min_free});
    std::unique_ptr<char[]> bigger = capacity == BufferPool::kInputBytes
                                         ? worker_.buffer_pool().TakeInput()
                                         : std::make_unique<char[]>(capacity);
    if (used > 0) std::memcpy(bigger.get(), in_.get() + in_begin_, used);
    worker_.buffer_pool().GiveInput(std::move(in_), in_capacity_);
    in_ = std::move(bigger);
    in_capacity_ = capacity;
  }
  in_begin_ = 0;
  in_end_ = used;
  if (head_size > 0) {  // the head moved: rebuild its views
    ParseError error;
    ParseRequestHead(Buffered().substr(0, head_size), limits_, request_, error);
  }
}

asio::awaitable<bool> Session::ReadWhileIdle() {
  // A keep-alive client usually sends its next request soon, so first read with a buffer
  // as usual. If nothing comes for idle_release_after, give the buffer back to the pool
  // and wait for readiness without one: an idle connection then costs no buffer memory
  // (the wait costs an epoll_ctl, paid only by connections that really went idle).
  const ServerConfig& server = worker_.server_config();
  SteadyTime idle_deadline = std::chrono::steady_clock::now() + server.keepalive_timeout;
  park_requested_ = false;
  if (server.keepalive_timeout > server.idle_release_after) {
    Arm(server.idle_release_after, DeadlineAction::kPark);
  } else {
    Arm(server.keepalive_timeout);
  }
  Reserve(1024, 0);
  auto [ec, n] = co_await socket_.async_read_some(
      asio::buffer(in_.get() + in_end_, in_capacity_ - in_end_), kAwait);
  in_end_ += n;
  if (n > 0) co_return true;
  if (!park_requested_ || closing_ || (ec && ec != asio::error::operation_aborted)) {
    co_return false;
  }
  park_requested_ = false;
  ReleaseInput();
  SetDeadline(idle_deadline);
  auto [wait_ec] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, kAwait);
  if (wait_ec || closing_) co_return false;
  Arm(server.keepalive_timeout);
  Reserve(1024, 0);
  co_return co_await ReadMore();
}

void Session::ReleaseInput() {
  if (in_begin_ != in_end_) return;  // holds pipelined bytes
  worker_.buffer_pool().GiveInput(std::move(in_), in_capacity_);
  in_.reset();
  in_capacity_ = 0;
  in_begin_ = in_end_ = 0;
}

asio::awaitable<bool> Session::ReadMore() {
  auto [ec, n] = co_await socket_.async_read_some(
      asio::buffer(in_.get() + in_end_, in_capacity_ - in_end_), kAwait);
  in_end_ += n;
  co_return !ec && n > 0;
}

asio::awaitable<void> Session::RejectRequest(ErrorClass error, std::string_view message) {
  const Snapshot& snapshot = PinGeneration();
  ctx_.Begin(request_, &snapshot, nullptr, std::chrono::steady_clock::now(),
             std::chrono::system_clock::now());
  ctx_.routing_table = generation_->routing.get();
  ctx_.config_version = generation_->version;
  ctx_.client_ip = peer_ip_;
  GenerateRequestId(ctx_.request_id);
  keep_alive_ = false;  // always close after a framing error: the stream is out of sync
  state_ = State::kProcessing;
  LocalReply reply = ErrorReply(error, message);
  // Filters that observe rejected requests (the access log) see this one; none runs
  // OnRequest, since the request was never accepted.
  chain_run_.StartRejected(snapshot.chain, ctx_);
  co_await SendLocalReply(*this, ctx_, chain_run_, reply);
  ctx_.end = std::chrono::steady_clock::now();
  chain_run_.Complete();
  if (WorkerMetrics* metrics = worker_.metrics()) RecordRequestMetrics(*metrics, ctx_);
  ReturnBuffers();
}

const Snapshot& Session::PinGeneration() {
  const std::shared_ptr<const ConfigGeneration>& current = worker_.generation();
  if (generation_ != current) generation_ = current;
  return *generation_->snapshot;
}

ExchangeBuffers& Session::buffers() {
  if (!buffers_) buffers_ = worker_.buffer_pool().TakeExchange();
  return *buffers_;
}

void Session::ReturnBuffers() {
  ctx_.ReleaseJson();  // the JSON arena lives in buffers_->json_scratch
  if (buffers_) worker_.buffer_pool().GiveExchange(std::move(buffers_));
}

asio::awaitable<bool> Session::ReadRequest() {
  const ServerConfig& server = worker_.server_config();
  scanner_.Reset();
  request_.Reset();
  route_ = RouteMatch();
  timed_out_ = false;
  bool started = in_end_ > in_begin_;
  if (started) Arm(server.header_timeout);
  size_t head_size = 0;
  for (;;) {
    ParseError error;
    ParseStatus status = scanner_.Scan(Buffered(), limits_, /*is_request=*/true, head_size, error);
    if (status == ParseStatus::kDone) break;
    if (status == ParseStatus::kError) {
      co_await RejectRequest(error.error, error.message);
      co_return false;
    }
    bool ok;
    if (started) {
      Reserve(1024, 0);
      ok = co_await ReadMore();
    } else {
      ok = co_await ReadWhileIdle();
    }
    if (!ok) {
      if (timed_out_ && started && !closing_) {
        co_await RejectRequest(ErrorClass::kClientTimeout, "Timed out reading the request.");
      }
      co_return false;
    }
    if (!started) {
      started = true;
      state_ = State::kReading;
      Arm(server.header_timeout);
    }
  }
  state_ = State::kReading;
  ParseError error;
  if (!ParseRequestHead(Buffered().substr(0, head_size), limits_, request_, error)) {
    co_await RejectRequest(error.error, error.message);
    co_return false;
  }
  route_ = worker_.admin() ? MatchAdminRoute(request_.method, request_.path)
                           : MatchRoute(request_.method, request_.path);
  bool ok = co_await ReadBody(head_size);
  Disarm();
  co_return ok;
}

asio::awaitable<bool> Session::ReadBody(size_t head_size) {
  // The request's generation from here on (route limits may change on a reload; the
  // snapshot must outlive this coroutine's waits).
  const Snapshot& snapshot = PinGeneration();
  const ServerConfig& server = worker_.server_config();
  uint64_t limit = snapshot.MaxBodyBytes(route_.kind);
  auto too_large = [&]() -> std::string {
    return "The request body is larger than the limit of " + std::to_string(limit) + " bytes.";
  };
  if (!request_.chunked && request_.content_length > limit) {
    co_await RejectRequest(ErrorClass::kBodyTooLarge, too_large());
    co_return false;
  }
  bool has_body = request_.chunked || request_.content_length > 0;
  if (has_body && request_.expect_continue && Buffered().size() == head_size) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    Arm(server.write_timeout);
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(kContinue), kAwait);
    if (ec) co_return false;
  }
  Arm(server.body_timeout);
  if (!request_.chunked) {
    size_t need = head_size + static_cast<size_t>(request_.content_length);
    Reserve(need + kWatchSlack - std::min(need, Buffered().size()), head_size);
    while (Buffered().size() < need) {
      if (!co_await ReadMore()) {
        if (timed_out_ && !closing_) {
          co_await RejectRequest(ErrorClass::kClientTimeout, "Timed out reading the request body.");
        }
        co_return false;
      }
      Arm(server.body_timeout);
    }
    request_.body = Buffered().substr(head_size, static_cast<size_t>(request_.content_length));
    consumed_ = need;
    co_return true;
  }
  // Chunked: decode into chunked_body_, compacting the raw chunk bytes as they are used so
  // the input buffer stays small however the body is split.
  chunked_.Reset();
  chunked_body_.clear();
  for (;;) {
    size_t raw_size = in_end_ - in_begin_ - head_size;
    ParseError error;
    ParseStatus status =
        chunked_.DecodeInPlace(in_.get() + in_begin_ + head_size, raw_size, chunked_body_, error);
    in_end_ = in_begin_ + head_size + raw_size;
    if (status == ParseStatus::kError) {
      co_await RejectRequest(error.error, error.message);
      co_return false;
    }
    if (chunked_body_.size() > limit) {
      co_await RejectRequest(ErrorClass::kBodyTooLarge, too_large());
      co_return false;
    }
    if (status == ParseStatus::kDone) break;
    Reserve(4096, head_size);
    if (!co_await ReadMore()) {
      if (timed_out_ && !closing_) {
        co_await RejectRequest(ErrorClass::kClientTimeout, "Timed out reading the request body.");
      }
      co_return false;
    }
    Arm(server.body_timeout);
  }
  request_.body = chunked_body_;
  consumed_ = head_size;
  Reserve(kWatchSlack, head_size);
  co_return true;
}

asio::awaitable<bool> Session::Write(std::span<const asio::const_buffer> buffers) {
  if (client_gone_ || closing_) co_return false;
  Arm(worker_.server_config().write_timeout);
  auto [ec, n] = co_await asio::async_write(socket_, buffers, kAwait);
  ScheduleWatch();
  if (ec) {
    MarkClientGone();
    co_return false;
  }
  co_return true;
}

void Session::MarkClientGone() {
  client_gone_ = true;
  keep_alive_ = false;
  if (abort_target_ != nullptr) abort_target_->Abort();
}

bool Session::PollClient() {
  for (;;) {
    if (in_end_ == in_capacity_) return false;  // no room: stop watching (pipelined flood)
    boost::system::error_code ec;
    size_t n = socket_.read_some(asio::buffer(in_.get() + in_end_, in_capacity_ - in_end_), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return true;
    if (ec) {
      MarkClientGone();
      return false;
    }
    in_end_ += n;
  }
}

void Session::WatchForDisconnect(Abortable* target) {
  abort_target_ = target;
  if (client_gone_) {
    if (target != nullptr) target->Abort();
    return;
  }
  watch_wanted_ = true;
  ScheduleWatch();
}

void Session::ScheduleWatch() {
  // Arming a readiness wait costs an epoll_ctl; most exchanges are over before it could
  // matter, so the watch starts only once the upstream has kept us waiting a little.
  if (watch_wanted_ && !watching_ && !client_gone_) {
    Arm(kWatchDelay, DeadlineAction::kArmWatch);
  } else {
    Disarm();
  }
}

void Session::ArmWatch() {
  if (watching_ || !watch_wanted_ || client_gone_) return;
  // The socket was drained when the request was read, so the next readiness is either
  // pipelined bytes or the client's FIN, both handled in OnClientReadable.
  watching_ = true;
  socket_.async_wait(
      asio::ip::tcp::socket::wait_read,
      [self = shared_from_this(), generation = watch_generation_](
          const boost::system::error_code& ec) { self->OnClientReadable(ec, generation); });
}

void Session::OnClientReadable(const boost::system::error_code& ec, uint64_t generation) {
  if (generation != watch_generation_ || !watching_) return;
  watching_ = false;
  if (ec == asio::error::operation_aborted) return;
  if (ec) {
    MarkClientGone();
    return;
  }
  // Pipelined bytes are kept for the next request; EOF or an error means the client left.
  if (PollClient()) ArmWatch();
}

void Session::StopWatching() {
  abort_target_ = nullptr;
  watch_wanted_ = false;
  if (deadline_action_ == DeadlineAction::kArmWatch) Disarm();
  if (watching_) {
    watching_ = false;
    ++watch_generation_;
    boost::system::error_code ec;
    socket_.cancel(ec);
  }
}

}  // namespace sluice
