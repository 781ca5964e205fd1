// AuditLog: batching, the failure token bucket, and the suppression summary row.
#include "auth/audit_log.h"

#include <spdlog/spdlog.h>

#include "auth/api_key.h"

namespace sluice {

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t NowSeconds() { return NowMillis() / 1000; }

AuditLog::AuditLog(Store& store, BlockingPool& store_pool)
    : store_(store), store_pool_(store_pool) {}

void AuditLog::Record(AuditRecord record) {
  if (record.id.empty()) record.id = NewId("aud");
  if (record.time_ms == 0) record.time_ms = NowMillis();
  bool flush = false;
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(record));
    flush = pending_.size() >= kFlushAt;
  }
  if (flush) Flush();
}

void AuditLog::RecordAuthFailure(AuditRecord record, SteadyTime now) {
  {
    std::lock_guard lock(mutex_);
    if (refilled_ == SteadyTime{}) refilled_ = now;
    double elapsed = std::chrono::duration<double>(now - refilled_).count();
    tokens_ = std::min(kFailureBurst, tokens_ + elapsed * kFailuresPerSecond);
    refilled_ = now;
    if (tokens_ < 1) {
      ++suppressed_since_flush_;
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    tokens_ -= 1;
  }
  Record(std::move(record));
}

void AuditLog::Flush() {
  std::vector<AuditRecord> batch;
  {
    std::lock_guard lock(mutex_);
    if (suppressed_since_flush_ > 0) {
      AuditRecord summary;
      summary.id = NewId("aud");
      summary.time_ms = NowMillis();
      summary.principal = "gateway";
      summary.action = "auth.failure.suppressed";
      summary.result = "suppressed";
      summary.details_json = "{\"count\":" + std::to_string(suppressed_since_flush_) + "}";
      pending_.push_back(std::move(summary));
      suppressed_since_flush_ = 0;
    }
    batch.swap(pending_);
  }
  if (batch.empty()) return;
  store_pool_.Post([this, batch = std::move(batch)] {
    StoreResult<void> result = store_.AppendAudit(batch);
    if (!result.ok()) {
      spdlog::error("audit: could not write {} rows: {}", batch.size(), result.error().message);
    }
  });
}

}  // namespace sluice
