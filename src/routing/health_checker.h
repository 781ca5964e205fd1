// Active health checks: one background thread with its own io_context checks every backend
// of the current routing table that has a health_check (a GET or HEAD of its path, never a
// completion call) every `interval` (±10 % jitter; the first check within the first tenth
// of an interval), and records each outcome in the backend's BackendHealth, whose thresholds
// decide the state ModelGroup::Begin reads. Logs a line on each change of state. The request
// itself is a HealthProber's (http/health_probe in the server; a fake in tests). Created and
// started by the server (OpenRuntime); a reload hands it the new table with Update().
// Thread-safe: Update/Start/Stop from any thread; the targets live on the checker's thread.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "routing/backend_health.h"
#include "routing/routing_runtime.h"

namespace sluice::routing {

struct ProbeResult {
  bool ok = false;
  std::string error;  // why it failed (a status, a timeout, a connect failure); no secrets
};

// Sends one health check. Implementations: UpstreamHealthProber (http/health_probe.h).
class HealthProber {
 public:
  virtual ~HealthProber() = default;
  // Checks `backend` as its health_check says, on `io` (the checker's loop, which keeps
  // `backend` alive until this completes). Must complete within health_check.timeout.
  virtual boost::asio::awaitable<ProbeResult> Probe(boost::asio::io_context& io,
                                                    const BackendConfig& backend) = 0;
};

struct HealthCheckerOptions {
  const Clock* clock = nullptr;  // null: SystemClock
  uint64_t seed = 0;             // of the jitter; 0: from the clock
  double jitter = 0.1;           // intervals are scaled by uniform(1 - jitter, 1 + jitter)
};

// The log line of a change of state (`reason`: the last check's error, if it failed).
std::string HealthTransitionMessage(std::string_view backend_name, const HealthCheckConfig& config,
                                    HealthTransition transition, std::string_view reason);

class HealthChecker {
 public:
  explicit HealthChecker(std::unique_ptr<HealthProber> prober, HealthCheckerOptions options = {});
  ~HealthChecker();  // Stop()
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Checks the backends of `table` from now on: a backend whose health object is already
  // checked keeps its schedule; new ones get their first check soon; the others stop.
  // Null: no table, nothing checked.
  void Update(std::shared_ptr<const RoutingTable> table);
  // Starts the thread. REQUIRES: called at most once.
  void Start();
  // Stops and joins the thread; checks in progress are abandoned (their results dropped).
  // Final: the checker cannot be started again. Idempotent.
  void Stop();

  // Tests: runs on the calling thread every check due at the clock's now (after applying
  // the last Update) and returns once they all completed; the number of checks run.
  // REQUIRES: not started; a prober that completes without waiting on time.
  size_t RunDueChecks();
  // The number of backends checked (as of the last applied Update).
  size_t target_count() const { return target_count_.load(std::memory_order_relaxed); }
  // When the next check of `health` is due; nullopt when it is not checked or is running.
  // REQUIRES: not started (tests).
  std::optional<SteadyTime> NextCheck(const BackendHealth& health) const;

 private:
  struct Target {
    std::shared_ptr<const RoutingTable> table;  // keeps `backend` and `health` alive
    const BackendConfig* backend = nullptr;
    BackendHealth* health = nullptr;
    SteadyTime next_due{};
    bool in_flight = false;
    bool removed = false;  // no longer in the current table: a running check is dropped
  };

  boost::asio::awaitable<void> Loop();
  boost::asio::awaitable<void> RunCheck(std::shared_ptr<Target> target);
  void ApplyPendingTable();
  // Starts the checks that are due; returns when the next idle target is due.
  SteadyTime LaunchDueChecks();
  Duration Jittered(Duration interval, double low, double high);

  std::unique_ptr<HealthProber> prober_;
  const Clock* clock_;
  double jitter_;
  Xoshiro256 random_;
  std::vector<std::shared_ptr<Target>> targets_;  // the checker's thread only
  std::atomic<size_t> target_count_{0};
  size_t completed_ = 0;
  std::mutex pending_mu_;
  std::shared_ptr<const RoutingTable> pending_;  // guarded by pending_mu_
  bool has_pending_ = false;                     // guarded by pending_mu_
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  // Destroyed first (reverse order): wake_, then io_ (its pending coroutine frames refer
  // to the members above).
  boost::asio::io_context io_{1};
  boost::asio::steady_timer wake_{io_};
};

}  // namespace sluice::routing
