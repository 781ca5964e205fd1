// The peak EWMA and counters of DeploymentStats (formulas in the header).
#include "routing/deployment_stats.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sluice::routing {
namespace {

uint32_t StampMs(SteadyTime now) {
  return static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
}
float CostOf(uint64_t word) { return std::bit_cast<float>(static_cast<uint32_t>(word >> 32)); }
uint32_t StampOf(uint64_t word) { return static_cast<uint32_t>(word); }
uint64_t Pack(float cost, uint32_t stamp) {
  return (uint64_t{std::bit_cast<uint32_t>(cost)} << 32) | stamp;
}
// Milliseconds from `stamp` to `now`; a stamp from the future (another thread's slightly
// later clock reading) counts as no time at all.
double ElapsedMs(uint32_t now, uint32_t stamp) {
  return std::max<double>(0, static_cast<int32_t>(now - stamp));
}

}  // namespace

DeploymentStats::DeploymentStats(const DeploymentStatsOptions& options)
    : tau_ms_(std::max(1.0, ToMillis(options.ewma_decay))),
      failure_latency_(options.failure_latency),
      outcomes_(options.error_window, options.error_buckets) {}

void DeploymentStats::OnAttemptEnd(SteadyTime now, Duration latency, bool failed) {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  ObserveLatency(now, failed ? std::max(latency, failure_latency_) : latency);
  outcomes_.Record(now, failed);
}

void DeploymentStats::ObserveLatency(SteadyTime now, Duration latency) {
  const double rtt = std::max(0.0, ToMillis(latency));
  const uint32_t stamp = StampMs(now);
  uint64_t old = ewma_.load(std::memory_order_relaxed);
  for (;;) {
    const double cost = CostOf(old);
    double next = rtt;
    if (rtt <= cost) {
      const double w = std::exp(-ElapsedMs(stamp, StampOf(old)) / tau_ms_);
      next = cost * w + rtt * (1 - w);
    }
    if (ewma_.compare_exchange_weak(old, Pack(static_cast<float>(next), stamp),
                                    std::memory_order_relaxed)) {
      return;
    }
  }
}

double DeploymentStats::CostMillis(SteadyTime now) const {
  const uint64_t word = ewma_.load(std::memory_order_relaxed);
  const double cost = CostOf(word);
  if (cost <= 0) return 0;
  return cost * std::exp(-ElapsedMs(StampMs(now), StampOf(word)) / tau_ms_);
}

double DeploymentStats::Load(SteadyTime now) const {
  const double cost = CostMillis(now);
  const auto in_flight = static_cast<double>(std::max<int64_t>(0, InFlight()));
  if (cost <= 0) return in_flight > 0 ? kUnmeasuredPenalty + in_flight : 0;
  return cost * (in_flight + 1);
}

}  // namespace sluice::routing
