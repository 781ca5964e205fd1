// sluice-mock's server: N worker threads, each with its own io_context, MockService and
// SO_REUSEPORT listener on the same address, so connections spread over the threads and
// a connection never changes thread. Used by main.cc and by the in-process tests.
// Listen/Start/Stop are called from one controlling thread; Stats() is thread-safe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mock_config.h"
#include "mock_handler.h"
#include "mock_stats.h"

namespace sluice {

class MockWorker;

class MockServer {
 public:
  explicit MockServer(MockConfig config);
  ~MockServer();
  MockServer(const MockServer&) = delete;
  MockServer& operator=(const MockServer&) = delete;

  // Binds every worker's listener to config.listen (port 0 picks a free port, shared by
  // all workers). False with a message on failure.
  bool Listen(std::string& error);
  // Starts the worker threads. REQUIRES: Listen succeeded.
  void Start();
  // Stops the workers and joins their threads; idempotent.
  void Stop();

  // "host:port" with the bound port; IPv6 hosts in brackets.
  std::string address() const;
  uint16_t port() const { return port_; }
  StatsTotals Stats() const { return stats_.Sum(); }
  // The status GET /health answers from now on (what POST /mock/health does). Any thread.
  void SetHealthStatus(int status) { catalog_.set_health_status(status); }
  const MockConfig& config() const { return config_; }

 private:
  MockConfig config_;
  MockCatalog catalog_;
  StatsRegistry stats_;
  std::string host_;
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<MockWorker>> workers_;
  std::vector<std::thread> threads_;
};

}  // namespace sluice
