// An asynchronous, pipelined Redis client on one Asio TCP socket: commands are RESP-encoded
// into a write buffer, many are in flight at once, and replies (parsed by hiredis's reader)
// complete them in FIFO order. Connects (with AUTH and SELECT) and reconnects by itself with
// bounded exponential backoff and jitter; while it is not connected, commands fail at once.
// Used by the Redis limiter store (one client per worker thread).
// Thread safety: none; a client belongs to ONE io_context, run by one thread (a worker's,
// there are no strands), and every call must be made from that thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/random.h"
#include "store/redis/redis_reply.h"
#include "store/redis/resp.h"

namespace sluice::redis {

struct RedisOptions {
  std::string host = "127.0.0.1";  // an IP address or a name (resolved on each connect)
  uint16_t port = 6379;
  std::string username;  // ACL user for AUTH (empty: AUTH <password> only)
  std::string password;  // AUTH when not empty. Never logged.
  int db = 0;            // SELECT when not 0
  std::chrono::milliseconds connect_timeout{1000};  // TCP connect + AUTH/SELECT/PING
  std::chrono::milliseconds backoff_initial{50};    // first reconnect delay
  std::chrono::milliseconds backoff_max{2000};      // the delay doubles up to this
  // The oldest command in flight unanswered for this long means the server (or the path to
  // it) is stuck: the connection is dropped, its commands fail and the client reconnects.
  std::chrono::milliseconds stall_timeout{1000};
  size_t max_in_flight = 65536;  // more commands in flight fail with kOverloaded
};

class RedisClient : public std::enable_shared_from_this<RedisClient> {
 public:
  using Executor = boost::asio::any_io_executor;

  static std::shared_ptr<RedisClient> Create(Executor executor, RedisOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Starts connecting (in the background). Idempotent.
  void Start();
  // Drops the connection for good; commands in flight complete with kClosed.
  void Close();

  // Sends a command and awaits its reply. A reply is a RedisReply; a command that got no
  // reply (timeout, not connected, connection lost, closed) completes with kind kNoReply.
  // The server may still execute a command that timed out. The args are encoded when the
  // returned awaitable starts, so they must stay valid until then: co_await it in the same
  // expression.
  boost::asio::awaitable<RedisReply> Command(std::span<const RedisArg> args,
                                             std::chrono::milliseconds timeout);
  // Fire and forget: queued behind the commands already sent (FIFO), reply discarded.
  // Returns false (and sends nothing) when not connected.
  bool Send(std::span<const RedisArg> args);

  bool connected() const { return state_ == State::kConnected; }
  // Increases on every established connection: per-connection state (loaded scripts) is
  // keyed by it.
  uint64_t connection_id() const { return connection_id_; }
  size_t in_flight() const { return pending_size_; }
  uint64_t connects() const { return connects_; }
  const Executor& executor() const { return executor_; }

 private:
  using ReplyHandler =
      boost::asio::async_result<boost::asio::use_awaitable_t<>, void(RedisReply)>::handler_type;
  enum class State : uint8_t { kIdle, kConnecting, kHandshaking, kConnected, kClosed };
  struct Pending {
    std::optional<ReplyHandler> handler;             // empty: fire and forget, or timed out
    std::chrono::steady_clock::time_point deadline;  // reply timeout (max for sends)
    std::chrono::steady_clock::time_point stall_at;  // sent + stall_timeout
  };

  RedisClient(Executor executor, RedisOptions options);

  void Initiate(ReplyHandler handler, std::span<const RedisArg> args,
                std::chrono::milliseconds timeout, bool internal);
  void Enqueue(std::optional<ReplyHandler> handler, std::chrono::steady_clock::time_point now,
               std::chrono::steady_clock::time_point deadline);
  void Flush();
  void ArmTimer(std::chrono::steady_clock::time_point at);
  void OnTimer();
  void Deliver(RedisReply reply);
  // Drops the connection: every command in flight completes with `failure`.
  void Disconnect(RedisFailure failure, const std::string& why);
  void FailAll(RedisFailure failure);

  boost::asio::awaitable<void> Run();
  boost::asio::awaitable<bool> ConnectOnce();
  boost::asio::awaitable<void> ReadLoop(uint64_t generation);
  boost::asio::awaitable<RedisReply> InternalCommand(std::span<const RedisArg> args);

  // Ring buffer of commands in flight (FIFO): reused slots, no allocation per command.
  Pending& PendingAt(size_t i) { return ring_[(ring_head_ + i) & (ring_.size() - 1)]; }
  static void MoveInto(Pending& to, Pending& from);
  void PushPending(Pending p);
  Pending PopPending();

  Executor executor_;
  RedisOptions options_;
  State state_ = State::kIdle;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timeout_timer_;  // the earliest deadline in flight (lazily moved)
  boost::asio::steady_timer wake_timer_;     // Run's sleeps: backoff, wait for a disconnect
  std::chrono::steady_clock::time_point timer_at_ = std::chrono::steady_clock::time_point::max();
  uint64_t generation_ = 0;  // bumped on every connect and disconnect; stale I/O checks it
  uint64_t connection_id_ = 0;
  uint64_t connects_ = 0;
  bool writing_ = false;
  bool logged_down_ = false;  // log a failure once per outage, not once per attempt
  std::string write_buf_;     // commands waiting for the current write to finish
  std::string out_buf_;       // the bytes being written
  std::vector<char> read_buf_;
  RespReader reader_;
  std::vector<Pending> ring_;
  size_t ring_head_ = 0;
  size_t pending_size_ = 0;
  std::vector<ReplyHandler> expired_;  // scratch for OnTimer
  Xoshiro256 rng_;
};

}  // namespace sluice::redis
