// The contract between the traffic-control filter and the places counters live: the
// in-process store (limits/local_limiter_store) and Redis (limits/redis_limiter_store).
// A decision checks a request against several counters at once (requests per minute of
// the key, tokens per minute of the team, a monthly money budget, in-flight requests...)
// and is all-or-nothing: either every counter is charged or none is, so a rejected request
// consumes no quota. Charges are later adjusted (token settlement, concurrency release).
// Units are integers: requests, tokens, micro-dollars (1e-6 USD). Times are Unix
// microseconds. Implementations are thread-safe.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace sluice::limits {

enum class CounterKind : uint8_t {
  kRate,         // GCRA: `limit` units per `period_us`, at most `burst` units at once
  kConcurrency,  // in flight: at most `limit`; released by an Adjust of -amount
  kBudget,       // fixed (calendar) window: at most `limit` units until `window_end_us`
};

// What a decision does when the shared store (Redis) cannot be reached in time.
enum class OnStoreFailure : uint8_t {
  kLocalFallback,  // decide in process against ceil(limit / instances) (default for rates)
  kFailOpen,       // admit without counting
  kFailClosed,     // refuse (default for budgets)
};

// One counter and what this request charges it.
struct Check {
  // The counter's full name, unique per policy, subject and window. The part in braces is
  // a Redis Cluster hash tag naming the subject, e.g. "sl:{key:key_ab12}:p3:rpm" or, for
  // a budget, "sl:{team:team_9f}:p5:2026-11" (the window's start is part of the name).
  std::string key;
  CounterKind kind = CounterKind::kRate;
  int64_t limit = 0;          // units per period (rate), max in flight, max per window
  int64_t period_us = 0;      // kRate only
  int64_t burst = 0;          // kRate only: capacity in units (>= 1; usually = limit)
  int64_t window_end_us = 0;  // kBudget only: when the window's counter resets (and expires)
  int64_t amount = 0;         // what this request charges (>= 0; may exceed burst: refused)
  OnStoreFailure on_store_failure = OnStoreFailure::kLocalFallback;
};

// A counter's state after a decision, for the x-ratelimit-* headers.
struct CounterState {
  int64_t limit = 0;
  int64_t remaining = 0;  // units still admissible now (never negative)
  int64_t reset_us = 0;   // until the counter is back to full (rate) / the window ends (budget)
};

inline constexpr size_t kMaxChecks = 16;  // counters per decision

struct Decision {
  bool allowed = false;
  int denied = -1;             // index of the first check that refused, when !allowed
  int64_t retry_after_us = 0;  // when !allowed: wait at least this long before retrying
                               // (kNeverUs in limits/gcra.h: this request can never pass)
  size_t count = 0;            // counters[0, count) correspond to the checks, in order
  std::array<CounterState, kMaxChecks> counters{};
  // Set when the decision was not made by the configured store (Redis unreachable) but by
  // a failure policy: "local_fallback", "fail_open" or "fail_closed".
  const char* fallback = nullptr;
};

class LimiterStore {
 public:
  virtual ~LimiterStore() = default;

  // Decides without suspending when the store can (the in-process one always can);
  // std::nullopt means "await Acquire instead" (a remote store).
  // REQUIRES: checks.size() <= kMaxChecks.
  virtual std::optional<Decision> AcquireNow(std::span<const Check> checks, int64_t now_us) {
    (void)checks;
    (void)now_us;
    return std::nullopt;
  }

  // All-or-nothing check-and-charge. Never throws; a store failure is turned into a
  // decision by the store's failure policy.
  virtual boost::asio::awaitable<Decision> Acquire(std::span<const Check> checks,
                                                   int64_t now_us) = 0;

  // Changes charges made earlier: each check's `amount` is a delta (negative: refund or
  // release; positive: an extra charge, which may take a counter past its limit, making
  // later requests wait). Fire and forget; applied in call order per caller.
  virtual void Adjust(std::span<const Check> deltas, int64_t now_us) = 0;

  // Called once the worker loops have stopped (Server::Join) and before they are
  // destroyed: a store with per-worker connections closes them while their io_contexts
  // still exist. No call may follow.
  virtual void CloseConnections() {}
};

}  // namespace sluice::limits
