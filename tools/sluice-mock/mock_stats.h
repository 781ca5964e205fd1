// sluice-mock's counters, served by GET /mock/stats. Each worker owns one cache-line
// aligned cell and is its only writer (plain load+store, no locked instructions on the
// request path); readers on any thread sum the cells with relaxed loads.
// Thread-safe: single writer per cell, any number of readers.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sluice {

struct alignas(64) StatsCell {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> connections_opened{0};
  std::atomic<uint64_t> connections_closed{0};
  std::atomic<uint64_t> streams_started{0};
  std::atomic<uint64_t> streams_completed{0};
  std::atomic<uint64_t> streams_client_aborted{0};
  std::atomic<uint64_t> resets_injected{0};
  std::atomic<uint64_t> errors_injected{0};
  std::atomic<uint64_t> health_checks{0};  // GET /health
};

// REQUIRES: called only by the cell's owning worker thread.
inline void Bump(std::atomic<uint64_t>& counter) {
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

struct StatsTotals {
  uint64_t requests = 0;
  uint64_t connections_opened = 0;
  uint64_t connections_active = 0;
  uint64_t streams_started = 0;
  uint64_t streams_completed = 0;
  uint64_t streams_client_aborted = 0;
  uint64_t resets_injected = 0;
  uint64_t errors_injected = 0;
  uint64_t health_checks = 0;
};

class StatsRegistry {
 public:
  explicit StatsRegistry(size_t workers);
  StatsCell& cell(size_t worker) { return *cells_[worker]; }
  StatsTotals Sum() const;
  // Appends the totals as a JSON object.
  void AppendJson(std::string& out) const;

 private:
  std::vector<std::unique_ptr<StatsCell>> cells_;
};

}  // namespace sluice
