// Test support: a REAL redis-server child process on a free 127.0.0.1 port, with its own
// temporary directory, no persistence, stopped (SIGKILL) and cleaned up by the destructor;
// plus a blocking Call() for checks that must not go through the client under test.
// When redis-server is not installed, Start() fails the test with a clear message.
// Not thread-safe; one per test.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/redis/redis_client.h"
#include "store/redis/redis_reply.h"

namespace sluice::testing {
class ChildProcess;
}

namespace sluice::redis {

class RedisTestServer {
 public:
  // `extra_args` are appended to the command line (e.g. {"--requirepass", "s3cret"}).
  explicit RedisTestServer(std::vector<std::string> extra_args = {});
  ~RedisTestServer();
  RedisTestServer(const RedisTestServer&) = delete;
  RedisTestServer& operator=(const RedisTestServer&) = delete;

  // Starts (or restarts, on the same port) and waits until it answers PING (bounded).
  // Returns false after adding a test failure that says why.
  bool Start();
  void Kill();    // SIGKILL and reap
  void Pause();   // SIGSTOP: the socket stays open, nothing is answered
  void Resume();  // SIGCONT
  bool running() const { return child_ != nullptr; }

  uint16_t port() const { return port_; }
  RedisOptions Options() const;  // host/port of this server, short timeouts for tests

  // A blocking command on a fresh connection (2 s bound); kNoReply on failure.
  RedisReply Call(std::initializer_list<std::string_view> args) const;

 private:
  std::vector<std::string> extra_args_;
  std::string dir_;
  uint16_t port_ = 0;
  std::unique_ptr<testing::ChildProcess> child_;
};

// The path of the redis-server binary, or "" when it is not installed.
std::string FindRedisServer();

// Runs `body` on `io` until it completes; false (and a test failure) after `limit`.
bool RunCoroutine(boost::asio::io_context& io, boost::asio::awaitable<void> body,
                  std::chrono::milliseconds limit = std::chrono::seconds(20));

// Awaits until client.connected() (polling every 5 ms: real Redis, real time), at most `limit`.
boost::asio::awaitable<bool> AwaitConnected(RedisClient& client, std::chrono::milliseconds limit);

}  // namespace sluice::redis
