// The shared LimiterStore on Redis 7, for several gateway instances: each decision is ONE
// EVALSHA of a Lua script carrying every check (all-or-nothing inside Redis), settlement is
// a pipelined EVALSHA that is not awaited. Used by the traffic-control filter when
// `limits.store: redis`; the scripts are in redis_limiter_scripts.cc.
// Thread-safe: shared by all workers; each worker thread gets its own pipelined connection.
//
// Connections. A RedisClient belongs to one io_context, so the store keeps one client per
// (thread, io_context), found through a thread_local slot list and created lazily on the
// calling coroutine's executor at the first Acquire of that thread; Adjust uses the calling
// thread's client (a request's admission and settlement run on the same worker).
// Scripts are loaded once per connection (SCRIPT LOAD pipelined ahead of the first
// EVALSHA; the SHA-1 is computed locally); NOSCRIPT (SCRIPT FLUSH, a failover) reloads and
// retries once.
//
// Keys and expiry. Keys carry their Redis Cluster hash tag already ("sl:{key:ab}:p3:rpm").
// Every write sets a TTL: rate counters expire when their TAT passes (an expired counter
// and a missing one are the same: full); budget counters at the window's end plus
// `budget_slack`; concurrency counters after `concurrency_lease` without any acquire or
// release, so slots held by a crashed instance are freed at the latest one lease after the
// key goes quiet (choose it above the longest stream; a busy key keeps leaked slots until
// it is quiet for one lease: the contract's Adjust has no lease id to do better).
//
// Redis Cluster: a script may only touch keys of one slot. On a single Redis every decision
// is one script. With Cluster, the checks of one decision must share a hash tag (e.g. all
// per key) or the decision would have to be split by tag with compensation on refusal:
// that split is NOT implemented (a cross-slot decision fails with CROSSSLOT and is decided
// by the failure policy).
//
// Failure (Redis unreachable, no reply within `timeout`, a script error), per the checks'
// OnStoreFailure: any kFailClosed check refuses the decision (fallback "fail_closed");
// otherwise kLocalFallback checks are decided by the in-process store passed in, against
// ceil(limit / instances) and ceil(burst / instances) ("local_fallback"), and kFailOpen
// checks are skipped ("fail_open" when every check is). Every such decision is counted.
// A decision that timed out may still be applied by Redis later (it over-counts; it never
// under-counts). While Redis is down, Adjust applies to the in-process store instead.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "limits/limiter_store.h"
#include "store/redis/redis_client.h"

namespace sluice::limits {

struct RedisLimiterStoreOptions {
  redis::RedisOptions redis;
  std::chrono::milliseconds timeout{50};  // per decision; then the failure policy decides
  int instances = 1;                      // gateways sharing Redis (local fallback share)
  std::chrono::milliseconds concurrency_lease{std::chrono::minutes(15)};
  std::chrono::milliseconds budget_slack{std::chrono::hours(1)};
  // retry_after_us of a fail_closed refusal (Redis down: no counter to compute it from).
  std::chrono::milliseconds fail_closed_retry_after{1000};
};

// Fallback decisions by policy, for the metrics.
struct FallbackCounts {
  uint64_t local_fallback = 0;
  uint64_t fail_open = 0;
  uint64_t fail_closed = 0;
  uint64_t total() const { return local_fallback + fail_open + fail_closed; }
};

class RedisLimiterStore final : public LimiterStore {
 public:
  // `fallback` (the in-process store) must outlive this store.
  RedisLimiterStore(RedisLimiterStoreOptions options, LimiterStore& fallback);
  // Closes every connection on its own thread (posted). REQUIRES: no Acquire in flight, and
  // the io_contexts that called Acquire not yet destroyed (stopped is fine).
  ~RedisLimiterStore() override;
  RedisLimiterStore(const RedisLimiterStore&) = delete;
  RedisLimiterStore& operator=(const RedisLimiterStore&) = delete;

  boost::asio::awaitable<Decision> Acquire(std::span<const Check> checks, int64_t now_us) override;
  void Adjust(std::span<const Check> deltas, int64_t now_us) override;

  FallbackCounts fallback_decisions() const;
  // Wall-clock microseconds of the latest fallback decision; 0 if none yet.
  int64_t last_fallback_us() const { return fallback_clock_us_.load(std::memory_order_relaxed); }
  // Adjusts that could not be sent (no connection on the calling thread) and went to the
  // in-process store instead.
  uint64_t local_adjusts() const { return local_adjusts_.load(std::memory_order_relaxed); }
  // The SHA-1 of the decide script (for tests and operators: SCRIPT EXISTS).
  const std::string& decide_sha() const { return decide_sha_; }

  // Closes every worker's connection directly (their loops have stopped; see LimiterStore).
  void CloseConnections() override;

  struct PerThread;  // one client and its script state; defined in the .cc

 private:
  PerThread& ForExecutor(const redis::RedisClient::Executor& executor);
  PerThread* ForThisThread();
  void LoadScripts(PerThread& slot);
  boost::asio::awaitable<Decision> Fallback(std::span<const Check> checks, int64_t now_us);
  void AdjustLocally(std::span<const Check> deltas, int64_t now_us);

  const uint64_t serial_;  // never reused: tells this store's thread_local slots apart
  RedisLimiterStoreOptions options_;
  LimiterStore& fallback_;
  std::string decide_sha_;
  std::string adjust_sha_;
  std::mutex mutex_;  // guards threads_ (taken once per thread, at its first decision)
  std::vector<std::unique_ptr<PerThread>> threads_;
  std::atomic<uint64_t> local_fallback_{0};
  std::atomic<uint64_t> fail_open_{0};
  std::atomic<uint64_t> fail_closed_{0};
  std::atomic<uint64_t> local_adjusts_{0};
  std::atomic<int64_t> fallback_clock_us_{0};  // the latest time a fallback decided at
  std::atomic<bool> logged_error_{false};
};

}  // namespace sluice::limits
