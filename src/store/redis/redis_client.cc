// RedisClient: connection loop (connect, AUTH, SELECT, PING; backoff and jitter between
// attempts), pipelined writes, the read loop that completes commands in FIFO order, and the
// lazily moved timer that expires commands and detects a stalled server.
#include "store/redis/redis_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <random>

namespace sluice::redis {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr size_t kReadChunk = 16 * 1024;

}  // namespace

std::shared_ptr<RedisClient> RedisClient::Create(Executor executor, RedisOptions options) {
  return std::shared_ptr<RedisClient>(new RedisClient(std::move(executor), std::move(options)));
}

RedisClient::RedisClient(Executor executor, RedisOptions options)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      socket_(executor_),
      timeout_timer_(executor_),
      wake_timer_(executor_),
      read_buf_(kReadChunk),
      ring_(64),
      rng_(std::random_device{}()) {}

RedisClient::~RedisClient() = default;

void RedisClient::Start() {
  if (state_ != State::kIdle) return;
  state_ = State::kConnecting;
  asio::co_spawn(executor_, Run(), asio::detached);
}

void RedisClient::Close() {
  if (state_ == State::kClosed) return;
  Disconnect(RedisFailure::kClosed, "");
  state_ = State::kClosed;
  timeout_timer_.cancel();
  wake_timer_.cancel();
}

asio::awaitable<RedisReply> RedisClient::Command(std::span<const RedisArg> args,
                                                 std::chrono::milliseconds timeout) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(RedisReply)>(
      [this, args, timeout](ReplyHandler handler) {
        Initiate(std::move(handler), args, timeout, false);
      },
      asio::use_awaitable);
}

asio::awaitable<RedisReply> RedisClient::InternalCommand(std::span<const RedisArg> args) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(RedisReply)>(
      [this, args](ReplyHandler handler) {
        Initiate(std::move(handler), args, options_.connect_timeout, true);
      },
      asio::use_awaitable);
}

void RedisClient::Initiate(ReplyHandler handler, std::span<const RedisArg> args,
                           std::chrono::milliseconds timeout, bool internal) {
  RedisFailure refused = RedisFailure::kNone;
  if (state_ == State::kClosed) {
    refused = RedisFailure::kClosed;
  } else if (!(state_ == State::kConnected || (internal && state_ == State::kHandshaking))) {
    refused = RedisFailure::kNotConnected;
  } else if (pending_size_ >= options_.max_in_flight) {
    refused = RedisFailure::kOverloaded;
  }
  if (refused != RedisFailure::kNone) {
    // Never complete inside the initiating call: post, as Asio's own operations do.
    asio::post(executor_, [h = std::move(handler), refused]() mutable {
      std::move(h)(RedisReply::NoReply(refused));
    });
    return;
  }
  AppendCommand(write_buf_, args);
  auto now = SteadyClock::now();
  Enqueue(std::move(handler), now, now + timeout);
  Flush();
}

bool RedisClient::Send(std::span<const RedisArg> args) {
  if (state_ != State::kConnected || pending_size_ >= options_.max_in_flight) return false;
  AppendCommand(write_buf_, args);
  auto now = SteadyClock::now();
  Enqueue(std::nullopt, now, SteadyClock::time_point::max());
  Flush();
  return true;
}

void RedisClient::Enqueue(std::optional<ReplyHandler> handler, SteadyClock::time_point now,
                          SteadyClock::time_point deadline) {
  Pending p{std::move(handler), deadline, now + options_.stall_timeout};
  ArmTimer(std::min(p.deadline, p.stall_at));
  PushPending(std::move(p));
}

// Asio's handlers can be moved but not assigned: slots are re-emplaced.
void RedisClient::MoveInto(Pending& to, Pending& from) {
  to.handler.reset();
  if (from.handler) to.handler.emplace(std::move(*from.handler));
  from.handler.reset();
  to.deadline = from.deadline;
  to.stall_at = from.stall_at;
}

void RedisClient::PushPending(Pending p) {
  if (pending_size_ == ring_.size()) {  // grow (power of two), keeping FIFO order
    std::vector<Pending> bigger(ring_.size() * 2);
    for (size_t i = 0; i < pending_size_; ++i) MoveInto(bigger[i], PendingAt(i));
    ring_ = std::move(bigger);
    ring_head_ = 0;
  }
  MoveInto(PendingAt(pending_size_), p);
  ++pending_size_;
}

RedisClient::Pending RedisClient::PopPending() {
  Pending p = std::move(ring_[ring_head_]);
  ring_[ring_head_].handler.reset();
  ring_head_ = (ring_head_ + 1) & (ring_.size() - 1);
  --pending_size_;
  return p;
}

void RedisClient::Flush() {
  if (writing_ || write_buf_.empty()) return;
  if (state_ != State::kConnected && state_ != State::kHandshaking) return;
  std::swap(write_buf_, out_buf_);
  writing_ = true;
  asio::async_write(
      socket_, asio::buffer(out_buf_),
      [self = shared_from_this(), gen = generation_](boost::system::error_code ec, size_t) {
        // A stale write (the connection was replaced) owns nothing any more.
        if (gen != self->generation_) return;
        self->writing_ = false;
        self->out_buf_.clear();
        if (ec) {
          self->Disconnect(RedisFailure::kDisconnected, "write: " + ec.message());
          return;
        }
        self->Flush();
      });
}

// One timer serves every command in flight: it is armed for the earliest deadline known and
// only moved earlier (rarely: timeouts are usually equal), so a command costs no timer
// operation. When it fires it expires what is due and re-arms for the next deadline.
void RedisClient::ArmTimer(SteadyClock::time_point at) {
  if (at >= timer_at_) return;
  timer_at_ = at;
  timeout_timer_.expires_at(at);
  timeout_timer_.async_wait([self = shared_from_this(), at](boost::system::error_code ec) {
    if (ec || self->timer_at_ != at) return;  // moved or cancelled
    self->OnTimer();
  });
}

void RedisClient::OnTimer() {
  timer_at_ = SteadyClock::time_point::max();
  if (pending_size_ == 0) return;
  auto now = SteadyClock::now();
  if (PendingAt(0).stall_at <= now) {
    Disconnect(RedisFailure::kDisconnected,
               "no reply for " + std::to_string(options_.stall_timeout.count()) + " ms");
    return;
  }
  auto next = SteadyClock::time_point::max();
  for (size_t i = 0; i < pending_size_; ++i) {
    Pending& p = PendingAt(i);
    next = std::min(next, p.stall_at);
    if (!p.handler) continue;
    if (p.deadline <= now) {
      expired_.push_back(std::move(*p.handler));
      p.handler.reset();  // the reply, when it comes, is discarded
    } else {
      next = std::min(next, p.deadline);
    }
  }
  ArmTimer(next);
  // Completing resumes the waiters inline, and they may send commands (which only append to
  // the ring), so they are completed after the scan. OnTimer itself is never re-entered.
  for (ReplyHandler& h : expired_) std::move(h)(RedisReply::NoReply(RedisFailure::kTimeout));
  expired_.clear();
}

void RedisClient::Deliver(RedisReply reply) {
  if (pending_size_ == 0) {
    Disconnect(RedisFailure::kDisconnected, "a reply nobody asked for");
    return;
  }
  Pending p = PopPending();
  // Dispatch semantics: the waiter runs now, on this thread, until it suspends again.
  if (p.handler) std::move (*p.handler)(std::move(reply));
}

void RedisClient::Disconnect(RedisFailure failure, const std::string& why) {
  if (state_ == State::kClosed) return;
  bool was_up = state_ == State::kConnected;
  ++generation_;
  boost::system::error_code ignored;
  socket_.close(ignored);
  write_buf_.clear();
  if (state_ != State::kIdle) state_ = State::kConnecting;
  if (was_up && !why.empty()) {
    spdlog::warn("redis {}:{}: connection lost: {}", options_.host, options_.port, why);
    logged_down_ = true;
  }
  wake_timer_.cancel();  // Run: reconnect
  FailAll(failure);
}

void RedisClient::FailAll(RedisFailure failure) {
  std::vector<ReplyHandler> handlers;
  while (pending_size_ > 0) {
    Pending p = PopPending();
    if (p.handler) handlers.push_back(std::move(*p.handler));
  }
  ring_head_ = 0;
  for (ReplyHandler& h : handlers) std::move(h)(RedisReply::NoReply(failure));
}

asio::awaitable<void> RedisClient::Run() {
  auto self = shared_from_this();  // the loop keeps the client alive until Close
  auto backoff = options_.backoff_initial;
  while (state_ != State::kClosed) {
    bool up = co_await ConnectOnce();
    if (state_ == State::kClosed) break;
    if (up) {
      backoff = options_.backoff_initial;
      wake_timer_.expires_at(SteadyClock::time_point::max());
      co_await wake_timer_.async_wait(kAwait);  // until Disconnect or Close cancels it
      if (state_ == State::kClosed) break;
    }
    // Equal jitter: a delay uniform in [backoff/2, backoff], so instances that lost Redis
    // together do not reconnect in lockstep.
    auto half = std::max<int64_t>(1, backoff.count() / 2);
    auto delay = std::chrono::milliseconds(half + static_cast<int64_t>(rng_.Next() % (half + 1)));
    wake_timer_.expires_after(delay);
    co_await wake_timer_.async_wait(kAwait);
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

asio::awaitable<bool> RedisClient::ConnectOnce() {
  state_ = State::kConnecting;
  ++generation_;
  const uint64_t gen = generation_;
  auto fail = [this](const std::string& why) {
    if (!logged_down_ && state_ != State::kClosed) {
      spdlog::warn("redis {}:{}: cannot connect: {}", options_.host, options_.port, why);
      logged_down_ = true;
    }
    boost::system::error_code ignored;
    socket_.close(ignored);
    return false;
  };
  // Resolve and connect under one deadline that closes the socket.
  tcp::resolver resolver(executor_);
  asio::steady_timer deadline(executor_, options_.connect_timeout);
  bool timed_out = false;
  deadline.async_wait([&](boost::system::error_code ec) {
    if (ec) return;
    timed_out = true;
    resolver.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
  });
  std::string port = std::to_string(options_.port);
  auto [rec, endpoints] = co_await resolver.async_resolve(options_.host, port, kAwait);
  if (rec || state_ == State::kClosed) {
    deadline.cancel();
    co_return fail(timed_out ? "timed out resolving" : "cannot resolve: " + rec.message());
  }
  socket_ = tcp::socket(executor_);
  auto [cec, endpoint] = co_await asio::async_connect(socket_, endpoints, kAwait);
  deadline.cancel();
  if (cec || timed_out || state_ == State::kClosed || gen != generation_) {
    co_return fail(timed_out ? "timed out" : cec.message());
  }
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  reader_.Reset();
  writing_ = false;
  out_buf_.clear();
  state_ = State::kHandshaking;
  asio::co_spawn(executor_, ReadLoop(gen), asio::detached);

  // AUTH, SELECT and a PING, pipelined; each must answer within connect_timeout.
  if (!options_.password.empty()) {
    RedisReply auth;
    if (options_.username.empty()) {
      std::array<RedisArg, 2> args{"AUTH", options_.password};
      auth = co_await InternalCommand(args);
    } else {
      std::array<RedisArg, 3> args{"AUTH", options_.username, options_.password};
      auth = co_await InternalCommand(args);
    }
    if (!auth.ok()) {
      // The server's message ("WRONGPASS ...") never contains the password.
      std::string why = auth.is_error() ? "AUTH refused: " + auth.str
                                        : std::string("AUTH: ") + RedisFailureName(auth.failure);
      Disconnect(RedisFailure::kDisconnected, "");
      co_return fail(why);
    }
  }
  if (options_.db != 0) {
    std::array<RedisArg, 2> args{"SELECT", options_.db};
    RedisReply sel = co_await InternalCommand(args);
    if (!sel.ok()) {
      std::string why = sel.is_error() ? "SELECT refused: " + sel.str
                                       : std::string("SELECT: ") + RedisFailureName(sel.failure);
      Disconnect(RedisFailure::kDisconnected, "");
      co_return fail(why);
    }
  }
  std::array<RedisArg, 1> ping{"PING"};
  RedisReply pong = co_await InternalCommand(ping);
  if (!pong.ok() || gen != generation_) {
    std::string why = pong.is_error() ? "PING refused: " + pong.str
                                      : std::string("PING: ") + RedisFailureName(pong.failure);
    Disconnect(RedisFailure::kDisconnected, "");
    co_return fail(why);
  }
  state_ = State::kConnected;
  ++connection_id_;
  ++connects_;
  if (logged_down_) {
    spdlog::info("redis {}:{}: connected", options_.host, options_.port);
    logged_down_ = false;
  }
  co_return true;
}

asio::awaitable<void> RedisClient::ReadLoop(uint64_t generation) {
  auto self = shared_from_this();
  for (;;) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(read_buf_), kAwait);
    if (generation != generation_) co_return;  // a newer connection owns the socket now
    if (ec || n == 0) {
      Disconnect(RedisFailure::kDisconnected, ec ? "read: " + ec.message() : "closed by server");
      co_return;
    }
    if (!reader_.Feed(std::string_view(read_buf_.data(), n))) {
      Disconnect(RedisFailure::kDisconnected, "protocol error");
      co_return;
    }
    for (;;) {
      RedisReply reply;
      RespReader::Status status = reader_.Next(reply);
      if (status == RespReader::Status::kNeedMore) break;
      if (status == RespReader::Status::kProtocolError) {
        Disconnect(RedisFailure::kDisconnected, "protocol error: " + std::string(reader_.error()));
        co_return;
      }
      Deliver(std::move(reply));
      if (generation != generation_) co_return;  // a waiter closed or broke the connection
    }
  }
}

}  // namespace sluice::redis
