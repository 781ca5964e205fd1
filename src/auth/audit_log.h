// The audit trail: admin actions, logins, failed authentications and permission denials,
// queued in memory and written to the store in batches on the store's thread, so recording
// never blocks a worker. Failed authentications are rate limited (a token bucket) so a flood
// of bad keys cannot flood the table; the ones not written are counted and summarised.
// Records never hold secrets (callers pass key prefixes, never keys). Thread-safe.
#pragma once

#include <atomic>
#include <mutex>
#include <vector>

#include "core/blocking_pool.h"
#include "core/clock.h"
#include "store/store.h"

namespace sluice {

class AuditLog {
 public:
  AuditLog(Store& store, BlockingPool& store_pool);

  void Record(AuditRecord record);
  void RecordAuthFailure(AuditRecord record, SteadyTime now);
  // Hands queued rows to the store thread (a timer calls it; also at shutdown).
  void Flush();
  uint64_t suppressed() const { return suppressed_.load(std::memory_order_relaxed); }

  static constexpr double kFailuresPerSecond = 20;
  static constexpr double kFailureBurst = 100;
  static constexpr size_t kFlushAt = 256;

 private:
  Store& store_;
  BlockingPool& store_pool_;
  std::mutex mutex_;
  std::vector<AuditRecord> pending_;
  double tokens_ = kFailureBurst;        // guarded by mutex_
  SteadyTime refilled_{};                // guarded by mutex_
  uint64_t suppressed_since_flush_ = 0;  // guarded by mutex_
  std::atomic<uint64_t> suppressed_{0};
};

// Current wall time in Unix milliseconds / seconds.
int64_t NowMillis();
int64_t NowSeconds();

}  // namespace sluice
