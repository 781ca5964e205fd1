// Requests and failures over a sliding time window, in `buckets` slices of window/buckets:
// the "recent error rate" of a deployment and the failure ratio a circuit breaker can trip
// on. Each slice is one 64-bit atomic word {epoch:32, requests:16, failures:16}, so
// recording is a CAS on one word and reading sums the slices still inside the window;
// counts saturate at 65,535 per slice (the ratio stays right). Thread-safe, lock-free.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "core/clock.h"

namespace sluice::routing {

struct WindowTotals {
  uint64_t requests = 0;
  uint64_t failures = 0;
  double FailureRatio() const {
    return requests == 0 ? 0.0 : static_cast<double>(failures) / static_cast<double>(requests);
  }
};

class WindowedCounts {
 public:
  // REQUIRES: window > 0, 1 <= buckets <= 3600.
  WindowedCounts(Duration window, uint32_t buckets);

  void Record(SteadyTime now, bool failure);
  WindowTotals Totals(SteadyTime now) const;
  // Forgets everything (a breaker closing starts a fresh window). A Record racing with it
  // may survive; that is one sample.
  void Reset();

 private:
  int64_t Tick(SteadyTime now) const;

  uint32_t buckets_;
  Duration slice_;
  std::unique_ptr<std::atomic<uint64_t>[]> slices_;
};

}  // namespace sluice::routing
