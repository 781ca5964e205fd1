// Workers, SO_REUSEPORT listeners, accept loops and threads of sluice-mock (see
// mock_server.h). Each MockWorker is driven by its own thread only.
#include "mock_server.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>

#include "mock_connection.h"

namespace sluice {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// One thread's share of the server. Member order matters: the io_context is destroyed
// before the service, because destroying it destroys suspended connections, which
// touch the service's counters.
class MockWorker {
 public:
  MockWorker(const MockCatalog& catalog, StatsRegistry& stats, size_t index)
      : service_(catalog, stats, index), io_(1), acceptor_(io_) {}

  ~MockWorker() {
    boost::system::error_code ec;
    acceptor_.close(ec);
  }

  bool Listen(const tcp::endpoint& endpoint, boost::system::error_code& ec) {
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) return false;
    acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    int one = 1;
    if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
      ec = boost::system::error_code(errno, boost::system::system_category());
      return false;
    }
    acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    return !ec;
  }

  uint16_t port() const {
    boost::system::error_code ec;
    return acceptor_.local_endpoint(ec).port();
  }

  void Run(uint64_t max_body) {
    asio::co_spawn(io_, AcceptLoop(max_body), asio::detached);
    io_.run();
  }

  void Stop() { io_.stop(); }

 private:
  asio::awaitable<void> AcceptLoop(uint64_t max_body) {
    asio::steady_timer backoff(io_);
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
        // Out of descriptors or memory: back off instead of spinning on the error.
        backoff.expires_after(std::chrono::milliseconds(50));
        co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      auto connection = std::make_shared<MockConnection>(service_, std::move(socket), max_body);
      asio::co_spawn(io_, connection->Run(), asio::detached);
    }
  }

  MockService service_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
};

MockServer::MockServer(MockConfig config)
    : config_(std::move(config)),
      catalog_(config_),
      stats_(static_cast<size_t>(std::max(1, config_.workers))) {}

MockServer::~MockServer() { Stop(); }

bool MockServer::Listen(std::string& error) {
  uint16_t port = 0;
  if (!SplitHostPort(config_.listen, host_, port)) {
    error = "invalid --listen address '" + config_.listen + "' (want HOST:PORT)";
    return false;
  }
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  asio::ip::address address = asio::ip::make_address(host_, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, port);
  } else {
    asio::io_context resolver_io;
    tcp::resolver resolver(resolver_io);
    auto results = resolver.resolve(host_, std::to_string(port), ec);
    if (ec || results.empty()) {
      error = "cannot resolve '" + host_ + "': " + ec.message();
      return false;
    }
    endpoint = results.begin()->endpoint();
  }
  size_t count = static_cast<size_t>(std::max(1, config_.workers));
  for (size_t i = 0; i < count; ++i) {
    auto worker = std::make_unique<MockWorker>(catalog_, stats_, i);
    if (!worker->Listen(endpoint, ec)) {
      error = "cannot listen on " + config_.listen + ": " + ec.message();
      workers_.clear();
      return false;
    }
    // Port 0: the first bind picks the port, the other workers join it.
    if (i == 0) endpoint.port(worker->port());
    workers_.push_back(std::move(worker));
  }
  port_ = endpoint.port();
  return true;
}

void MockServer::Start() {
  for (auto& worker : workers_) {
    threads_.emplace_back(
        [w = worker.get(), max_body = config_.max_body_bytes] { w->Run(max_body); });
  }
}

void MockServer::Stop() {
  for (auto& worker : workers_) worker->Stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  workers_.clear();
}

std::string MockServer::address() const {
  bool v6 = host_.find(':') != std::string::npos;
  return (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_);
}

}  // namespace sluice
