// The storage of a metric on one thread: counters, gauges and histograms that only their
// owning thread writes (a relaxed load and store, no read-modify-write, so no lock prefix and
// no cache line shared with another writer) and a scrape reads from any thread (relaxed
// loads). Used by WorkerMetrics; summed over threads at scrape time by MetricsRegistry.
// Thread-safe for one writer and any number of readers.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>

namespace sluice {

class LocalCounter {
 public:
  void Add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class LocalGauge {
 public:
  void Add(int64_t n) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  int64_t Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// A histogram's bucket bounds in integer units (nanoseconds, tokens), and the factor that
// turns those units into the metric's base unit at scrape (1e-9 for seconds).
struct HistogramSpec {
  std::span<const int64_t> bounds;  // ascending
  double scale = 1.0;
};

inline constexpr size_t kMaxHistogramBuckets = 20;  // bounds + the +Inf bucket

class HistogramCell {
 public:
  // REQUIRES: spec.bounds.size() < kMaxHistogramBuckets.
  void Observe(const HistogramSpec& spec, int64_t value) {
    size_t i = 0;
    while (i < spec.bounds.size() && value > spec.bounds[i]) ++i;
    buckets_[i].Add();
    sum_.Add(static_cast<uint64_t>(value < 0 ? 0 : value));
  }
  uint64_t bucket(size_t i) const { return buckets_[i].Get(); }
  uint64_t sum() const { return sum_.Get(); }  // in the spec's integer units

 private:
  std::array<LocalCounter, kMaxHistogramBuckets> buckets_{};
  LocalCounter sum_;
};

}  // namespace sluice
