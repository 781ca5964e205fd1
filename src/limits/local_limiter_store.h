// The in-process LimiterStore: counters keyed by Check::key in a sharded open-addressing
// table, decided with atomics. Default store; also the `local_fallback` of the Redis store.
// On the request path (the traffic-control filter's admission and settlement).
// Thread-safe: any number of threads decide concurrently; Sweep may run at the same time.
//
// Hot path (existing counters): one hash of the key, a lock-free probe of the shard's table
// (heterogeneous: no allocation), one CAS loop per counter; readers are protected by an
// EpochGuard (epoch_reclaim.h), not by a lock. A shard's mutex is taken only to create a
// counter, to grow a table, and by Sweep: creating is rare (a new key or a new window) and
// must allocate anyway, so a lock there costs nothing the hot path pays.
//
// Counters: kRate holds the GCRA TAT (gcra.h); kConcurrency the number in flight
// (admitted while in_flight + amount <= limit, released by Adjust with a negative amount,
// never below 0); kBudget the units spent in the window named by the key (admitted while
// spent + amount <= limit; remaining = limit - spent; reset = window_end_us - now).
// Decision::retry_after_us: rate → the GCRA value; budget → until the window ends;
// concurrency → 0 (unknown: when a request finishes); an amount that can never pass
// (more than the burst or the limit) → kNeverUs (gcra.h). A refused decision still reports
// every counter's state (after the undo) in Decision::counters.
//
// All-or-nothing: checks are charged in order; when one refuses, the ones already charged
// are undone. Between a charge and its undo (nanoseconds) a concurrent decision can see
// the transient charge and be refused although it would have passed: the store never
// admits more than a limit, but may refuse spuriously inside that window. A rate undo
// restores max(old TAT, now), which decides identically for every time >= now.
//
// The owner calls Sweep(now) periodically (e.g. every 10 s): it frees idle counters (rate:
// TAT <= now; concurrency: 0 in flight; budget: window ended), whose memory is reclaimed
// once no reader can still see it (at the same or a later Sweep).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "limits/limiter_store.h"

namespace sluice::limits {

class LocalLimiterStore final : public LimiterStore {
 public:
  LocalLimiterStore();
  ~LocalLimiterStore() override;  // REQUIRES: no concurrent callers left
  LocalLimiterStore(const LocalLimiterStore&) = delete;
  LocalLimiterStore& operator=(const LocalLimiterStore&) = delete;

  // Always answers. REQUIRES: checks.size() <= kMaxChecks (extra checks are refused).
  std::optional<Decision> AcquireNow(std::span<const Check> checks, int64_t now_us) override;
  boost::asio::awaitable<Decision> Acquire(std::span<const Check> checks, int64_t now_us) override;
  void Adjust(std::span<const Check> deltas, int64_t now_us) override;

  // Decides without charging: the state each counter would report now (for /v1/usage).
  Decision Peek(std::span<const Check> checks, int64_t now_us) const;

  // Frees idle counters; returns how many were unlinked.
  size_t Sweep(int64_t now_us);
  size_t size() const;  // live counters, for tests

  struct Counter;  // defined in the .cc
  struct Table;

 private:
  static constexpr size_t kShards = 64;
  struct alignas(64) Shard {
    mutable std::mutex mutex;  // creation, growth, sweep; never taken by a decision on a known key
    std::atomic<Table*> table{nullptr};
    size_t live = 0;  // under mutex
  };
  struct Retired {
    uint64_t tag = 0;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Table> table;
  };

  Shard& ShardFor(uint64_t hash) { return shards_[hash >> 58]; }
  const Shard& ShardFor(uint64_t hash) const { return shards_[hash >> 58]; }
  Counter* Find(const Shard& shard, uint64_t hash, std::string_view key) const;
  Counter* FindOrCreate(Shard& shard, uint64_t hash, const Check& check);
  void GrowLocked(Shard& shard, std::vector<Retired>& retired);
  void FreeRetired();

  std::array<Shard, kShards> shards_;
  std::mutex retired_mutex_;
  std::vector<Retired> retired_;  // under retired_mutex_
};

}  // namespace sluice::limits
