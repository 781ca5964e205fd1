// RedisTestServer: picks a free loopback port, runs redis-server in a temporary directory,
// polls it with PING until it answers, and talks RESP over a blocking socket for checks.
#include "store/redis/redis_test_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "store/redis/resp.h"
#include "tests/testing/child_process.h"

namespace sluice::redis {
namespace {

uint16_t FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Connects to 127.0.0.1:port; -1 on failure.
int ConnectLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

RedisReply BlockingCall(uint16_t port, std::span<const RedisArg> args) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return RedisReply::NoReply(RedisFailure::kNotConnected);
  std::string out;
  AppendCommand(out, args);
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return RedisReply::NoReply(RedisFailure::kDisconnected);
    }
    sent += static_cast<size_t>(n);
  }
  RespReader reader;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  RedisReply reply = RedisReply::NoReply(RedisFailure::kTimeout);
  while (std::chrono::steady_clock::now() < deadline) {
    RedisReply r;
    auto status = reader.Next(r);
    if (status == RespReader::Status::kReply) {
      reply = std::move(r);
      break;
    }
    if (status == RespReader::Status::kProtocolError) break;
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      reply = RedisReply::NoReply(RedisFailure::kDisconnected);
      break;
    }
    reader.Feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  ::close(fd);
  return reply;
}

}  // namespace

std::string FindRedisServer() {
  for (const char* path :
       {"/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "";
}

RedisTestServer::RedisTestServer(std::vector<std::string> extra_args)
    : extra_args_(std::move(extra_args)) {}

RedisTestServer::~RedisTestServer() {
  Kill();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

bool RedisTestServer::Start() {
  std::string binary = FindRedisServer();
  if (binary.empty()) {
    ADD_FAILURE() << "redis-server is not installed; these tests need a real Redis 7 "
                     "(run scripts/install-deps test, or apt-get install redis-server)";
    return false;
  }
  if (dir_.empty()) {
    char tmpl[] = "/tmp/sluice-redis-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return false;
    }
    dir_ = tmpl;
  }
  // A restart keeps the port (clients reconnect to it); the first start picks one. Another
  // process could take a freed port before redis binds it: retried with a new one.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (port_ == 0 || attempt > 0) port_ = FreeLoopbackPort();
    std::vector<std::string> argv{binary,   "--port",       std::to_string(port_),
                                  "--bind", "127.0.0.1",    "--save",
                                  "",       "--appendonly", "no",
                                  "--dir",  dir_,           "--daemonize",
                                  "no"};
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    child_ = std::make_unique<testing::ChildProcess>(argv);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      if (child_->Wait(std::chrono::milliseconds(10)).has_value()) break;  // exited
      int fd = ConnectLoopback(port_);
      if (fd < 0) continue;
      ::close(fd);
      std::array<RedisArg, 1> ping{"PING"};
      RedisReply r = BlockingCall(port_, ping);
      // With --requirepass, PING answers NOAUTH: the server is up all the same.
      if (r.kind == RedisReplyKind::kStatus || r.is_error()) return true;
    }
    child_.reset();
  }
  ADD_FAILURE() << "redis-server did not start on 127.0.0.1 (3 attempts)";
  return false;
}

void RedisTestServer::Kill() {
  if (!child_) return;
  child_->Signal(SIGCONT);  // a paused server must be able to die
  child_->Signal(SIGKILL);
  child_->Wait(std::chrono::seconds(5));
  child_.reset();
}

void RedisTestServer::Pause() {
  if (child_) child_->Signal(SIGSTOP);
}

void RedisTestServer::Resume() {
  if (child_) child_->Signal(SIGCONT);
}

RedisOptions RedisTestServer::Options() const {
  RedisOptions o;
  o.host = "127.0.0.1";
  o.port = port_;
  o.connect_timeout = std::chrono::milliseconds(500);
  o.backoff_initial = std::chrono::milliseconds(20);
  o.backoff_max = std::chrono::milliseconds(200);
  o.stall_timeout = std::chrono::milliseconds(300);
  return o;
}

bool RunCoroutine(boost::asio::io_context& io, boost::asio::awaitable<void> body,
                  std::chrono::milliseconds limit) {
  bool done = false;
  boost::asio::co_spawn(io, std::move(body), [&](std::exception_ptr e) {
    done = true;
    if (e) ADD_FAILURE() << "the test coroutine threw";
  });
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(std::chrono::milliseconds(50));
  }
  if (!done) ADD_FAILURE() << "the test coroutine did not finish within " << limit.count() << " ms";
  return done;
}

boost::asio::awaitable<bool> AwaitConnected(RedisClient& client, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  while (!client.connected()) {
    if (std::chrono::steady_clock::now() > deadline) co_return false;
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  co_return true;
}

RedisReply RedisTestServer::Call(std::initializer_list<std::string_view> args) const {
  std::vector<RedisArg> list(args.begin(), args.end());
  return BlockingCall(port_, list);
}

}  // namespace sluice::redis
