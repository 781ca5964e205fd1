// Live state of one deployment, shared by all worker threads: requests in flight, a peak
// EWMA of latency and the recent error rate. Written once per attempt (start and end) and
// read by the balancers (P2C, least outstanding) and /admin/status. Thread-safe and
// lock-free: each quantity is one atomic word, relaxed ordering (they are independent
// estimates; no reader needs one to be ordered with another).
//
// Peak EWMA (Finagle's PeakEwma), on a cost c in milliseconds and its time stamp t0:
//   observe(rtt at t):  w = exp(-(t - t0) / tau)
//                       c = rtt            if rtt > c   (a slow response counts at once)
//                       c = c*w + rtt*(1-w) otherwise   (a fast one pulls c down over tau)
//                       t0 = t
//   cost at t:          c * exp(-(t - t0) / tau)        (decays towards 0 while idle, so a
//                                                        slow deployment is probed again)
// A failed attempt is observed as max(latency, failure_latency): a deployment that fails
// fast must not look fast. Load (what P2C compares) = cost * (in_flight + 1); a deployment
// never measured (cost 0) with requests in flight scores kUnmeasuredPenalty + in_flight so
// that new deployments are tried without being flooded.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/clock.h"
#include "routing/windowed_counts.h"

namespace sluice::routing {

struct DeploymentStatsOptions {
  Duration ewma_decay = std::chrono::seconds(10);      // tau
  Duration failure_latency = std::chrono::seconds(1);  // floor for failed attempts
  Duration error_window = std::chrono::seconds(10);
  uint32_t error_buckets = 10;
};

class DeploymentStats {
 public:
  static constexpr double kUnmeasuredPenalty = 1e12;

  explicit DeploymentStats(const DeploymentStatsOptions& options = {});

  void OnAttemptStart() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  // REQUIRES: one call per OnAttemptStart. `latency` is what the balancer should learn
  // from (time to the response head or first token, as the caller decides).
  void OnAttemptEnd(SteadyTime now, Duration latency, bool failed);

  int64_t InFlight() const { return in_flight_.load(std::memory_order_relaxed); }
  double CostMillis(SteadyTime now) const;
  double Load(SteadyTime now) const;
  WindowTotals RecentOutcomes(SteadyTime now) const { return outcomes_.Totals(now); }

  // Feeds the EWMA alone (OnAttemptEnd calls it); public for tests and warm starts.
  void ObserveLatency(SteadyTime now, Duration latency);

 private:
  double tau_ms_;
  Duration failure_latency_;
  std::atomic<int64_t> in_flight_{0};
  // {cost as float bits : 32, stamp in ms modulo 2^32 : 32}. Stamps differ by a signed
  // 32-bit amount, valid for gaps below 24 days (an older gap only skips one decay step).
  std::atomic<uint64_t> ewma_{0};
  WindowedCounts outcomes_;
};

}  // namespace sluice::routing
