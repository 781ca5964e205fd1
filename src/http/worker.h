// One worker thread's world: its io_context, listener, deadline sweeper, upstream pools
// and the sessions it serves. A connection lives on one worker for its whole life and a
// request never changes threads, so nothing here needs a lock. The only cross-thread
// entry points are Post*() (they post into the io_context), the shared ServerState and
// PoolStats() (a copy published once a second under its own mutex).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/intrusive/list.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/generation.h"
#include "config/snapshot.h"
#include "core/services.h"
#include "http/buffer_pool.h"
#include "http/deadline.h"
#include "http/upstream_pool.h"

namespace sluice {

// Process-wide flags every worker reads (atomics; thread-safe).
struct ServerState {
  std::atomic<bool> started{false};  // set once start-up finished; never cleared
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
};

class Session;
class WorkerMetrics;

// Base for sessions so the worker can find idle ones when draining.
class SessionLink : public boost::intrusive::list_base_hook<
                        boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  virtual ~SessionLink() = default;
  // Close the connection now if it is waiting for a new request.
  virtual void CloseIfIdle() = 0;
  // Close the connection now, whatever it is doing.
  virtual void ForceClose() = 0;
};

// kData serves the model API; kAdmin the admin API listener (admin/admin_api.h).
enum class WorkerRole : uint8_t { kData, kAdmin };

class Worker {
 public:
  Worker(int index, std::shared_ptr<const ConfigGeneration> generation, ServerState& state,
         const Services* services, WorkerRole role = WorkerRole::kData);
  ~Worker();

  // Binds this worker's listener (SO_REUSEPORT, so every worker binds the same port).
  // Returns the bound port (useful when the configured port is 0).
  uint16_t Listen(const ListenAddress& address, boost::system::error_code& ec);
  // Thread body: serves until drained or stopped.
  void Run();
  // Cross-thread: stop accepting, close idle connections, finish in-flight ones.
  void PostDrain();
  // Cross-thread: close every connection now.
  void PostForceClose();
  // Cross-thread: new requests use `generation` from now on (hot reload); requests in
  // flight keep theirs. Upstream pools of backends whose connection settings did not
  // change keep their idle connections. `applied` (optional) runs on the worker's thread
  // once the swap is done.
  void PostGeneration(std::shared_ptr<const ConfigGeneration> generation,
                      std::function<void()> applied = {});
  // Cross-thread: the upstream pools' counters as of the last second.
  struct PoolStat {
    std::string backend;
    size_t idle = 0;
    uint64_t opened = 0;
  };
  std::vector<PoolStat> PoolStats() const;
  bool stopped() const { return stopped_.load(); }

  // --- Worker-thread API used by sessions.
  boost::asio::io_context& io() { return io_; }
  // The current generation's snapshot. Never hold it across a co_await: a reload may free
  // it. A request uses the generation its session pinned (RequestContext::snapshot()).
  const Snapshot& snapshot() const { return *generation_->snapshot; }
  // The server: section, which a reload never changes: valid for the worker's life, so a
  // session may hold it across co_await (a snapshot reference may not: a reload frees it).
  const ServerConfig& server_config() const { return first_snapshot_->server; }
  const std::shared_ptr<const ConfigGeneration>& generation() const { return generation_; }
  // Runtime components (auth); never null, its members may be.
  const Services& services() const { return *services_; }
  DeadlineSweeper& sweeper() { return sweeper_; }
  // The pool of `backend` (of any generation still in use): one per distinct connection
  // identity (see PoolIdentity), created on first use, kept for the worker's life.
  UpstreamPool& Pool(const BackendConfig& backend);
  BufferPool& buffer_pool() { return buffer_pool_; }
  bool draining() const { return draining_; }
  bool started() const { return state_.started.load(std::memory_order_relaxed); }
  bool ready() const { return state_.ready.load(std::memory_order_relaxed) && !draining_; }
  void AddSession(SessionLink& session) { sessions_.push_back(session); }
  // Called by a session when it ends.
  void SessionEnded();
  int index() const { return index_; }
  bool admin() const { return role_ == WorkerRole::kAdmin; }
  size_t active_sessions() const { return active_sessions_; }
  // This worker's metric cells (observability/worker_metrics.h); null without a registry.
  WorkerMetrics* metrics() const { return metrics_; }

 private:
  boost::asio::awaitable<void> AcceptLoop();
  void StopIfDrained();
  UpstreamPool& FindOrCreatePool(const BackendConfig& backend);
  void PublishPoolStats();

  int index_;
  WorkerRole role_;
  boost::asio::io_context io_;
  std::shared_ptr<const ConfigGeneration> generation_;
  std::shared_ptr<const Snapshot> first_snapshot_;  // the server: section's owner
  ServerState& state_;
  const Services* services_;
  WorkerMetrics* metrics_ = nullptr;  // owned by services_->metrics
  DeadlineSweeper sweeper_;
  boost::asio::ip::tcp::acceptor acceptor_;
  // Every pool this worker opened, and a cache from a backend (by address and index, of the
  // current generation mostly) to its pool; the cache is cleared when the generation
  // changes, so an address reused by a newer snapshot never finds a stale entry.
  std::vector<std::unique_ptr<UpstreamPool>> pools_;
  std::vector<std::pair<const BackendConfig*, UpstreamPool*>> pool_cache_;
  mutable std::mutex pool_stats_mutex_;
  std::vector<PoolStat> pool_stats_;
  BufferPool buffer_pool_;
  boost::intrusive::list<SessionLink, boost::intrusive::constant_time_size<false>> sessions_;
  size_t active_sessions_ = 0;
  bool draining_ = false;
  std::atomic<bool> stopped_{false};
  SteadyTime last_trim_{};
};

}  // namespace sluice
