// A Clock that moves only when told to: the routing tests drive circuit breakers, outlier
// ejections and time-decayed statistics with it instead of sleeping. Test-only helper (no
// production code includes it). Thread-safe: the time is one atomic.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "core/clock.h"

namespace sluice::routing {

class ManualClock final : public Clock {
 public:
  // Starts an hour after the steady epoch so that "long ago" is representable.
  explicit ManualClock(Duration start = std::chrono::hours(1)) : ns_(ToNs(start)) {}

  SteadyTime Now() const override {
    return SteadyTime(std::chrono::duration_cast<Duration>(
        std::chrono::nanoseconds(ns_.load(std::memory_order_relaxed))));
  }
  WallTime WallNow() const override {
    return WallTime(std::chrono::duration_cast<WallTime::duration>(
        std::chrono::nanoseconds(wall_base_ns_ + ns_.load(std::memory_order_relaxed))));
  }
  void Advance(Duration d) { ns_.fetch_add(ToNs(d), std::memory_order_relaxed); }

 private:
  static int64_t ToNs(Duration d) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  }
  // 2026-01-01T00:00:00Z, so wall-clock dates in tests are fixed.
  static constexpr int64_t wall_base_ns_ = int64_t{1'767'225'600} * 1'000'000'000;
  std::atomic<int64_t> ns_;
};

}  // namespace sluice::routing
