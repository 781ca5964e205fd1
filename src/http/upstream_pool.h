// Keep-alive connection pool for one backend on one worker: reuses idle connections
// (most recent first, checked for a peer close), opens new ones with DNS results cached
// briefly, and closes idle ones past pool_idle_timeout. The pool keeps its own copy of the
// backend's settings, so it (and its idle connections) can serve every configuration
// generation in which the backend's connection settings are the same (PoolIdentity).
// Worker-local; not thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <vector>

#include "http/deadline.h"
#include "http/upstream_connection.h"

namespace sluice {

class UpstreamPool {
 public:
  UpstreamPool(boost::asio::io_context& io, DeadlineSweeper& sweeper, const BackendConfig& backend);

  // What a connection to `backend` depends on (name, address, TLS, pool settings): two
  // backends with the same identity can share one pool.
  static std::string PoolIdentity(const BackendConfig& backend);
  const std::string& identity() const { return identity_; }
  const BackendConfig& backend() const { return backend_; }

  struct Lease {
    std::unique_ptr<UpstreamConnection> connection;
    UpstreamFailure failure = UpstreamFailure::kNone;
    bool reused = false;
  };
  // An idle connection, or a new one connected within the backend's connect timeout.
  // `fresh_only` skips idle connections (used to retry after a stale reuse).
  boost::asio::awaitable<Lease> Acquire(bool fresh_only = false);
  // Returns a connection; it is kept only if reusable and the pool has room.
  void Release(std::unique_ptr<UpstreamConnection> connection);
  // Closes connections idle for longer than the pool idle timeout.
  void Trim(SteadyTime now);
  void Clear() { idle_.clear(); }

  size_t idle_count() const { return idle_.size(); }
  uint64_t connections_opened() const { return opened_; }

 private:
  boost::asio::awaitable<bool> Resolve(std::vector<boost::asio::ip::tcp::endpoint>& out);

  boost::asio::io_context& io_;
  DeadlineSweeper& sweeper_;
  const BackendConfig backend_;  // a copy: generations come and go, the pool stays
  const std::string identity_;
  boost::asio::ip::tcp::resolver resolver_;
  std::vector<std::unique_ptr<UpstreamConnection>> idle_;  // oldest first
  std::vector<boost::asio::ip::tcp::endpoint> endpoints_;
  SteadyTime endpoints_expiry_{};
  uint64_t opened_ = 0;
};

}  // namespace sluice
