// The GCRA arithmetic (generic cell rate algorithm) with quantities, on a theoretical arrival
// time (TAT) in Unix microseconds. Pure functions: the in-process store applies them in a
// CAS loop, and the Redis Lua script (limits/redis_limiter_store) must implement exactly the
// same formulas, so they are few and specified here once. Stateless; thread-safe.
//
// Definitions (all int64, microseconds, units = requests or tokens):
//   T   = EmissionIntervalUs(limit, period_us) = ceil(period_us / limit), at least 1.
//         Rounding up means the long-run rate never exceeds `limit` per `period_us`; it is
//         exact when limit divides period_us (1000/s, 100/min, 1M/min...), otherwise the
//         effective rate is period_us / T (e.g. 7/min: T = 8571429 µs, 6.99999994/min).
//         Rates above one unit per µs are clamped to one unit per µs.
//   tau = T * burst                       (the tolerance: `burst` units may pass at once)
//   A counter is "full" (idle) when tat <= now; a missing counter is a counter with tat = 0.
//
// Charge(tat, now, amount):                                       amount >= 0
//   amount > burst                     -> refused, never_passes, retry_after = kNeverUs
//   new_tat = max(tat, now) + amount * T
//   new_tat - now <= tau               -> allowed: store new_tat;
//                                         remaining = floor((tau - (new_tat - now)) / T),
//                                         reset_us  = new_tat - now
//   otherwise                          -> refused, tat unchanged:
//                                         retry_after_us = (new_tat - tau) - now,
//                                         remaining = floor(max(0, tau - (max(tat, now) - now)) /
//                                         T), reset_us  = max(tat, now) - now
// Peek(tat, now) = the state after a charge of 0 (never stores anything).
// Adjust(tat, now, delta):   delta > 0 (extra charge): max(tat, now) + delta * T (no check);
//                            delta < 0 (refund): tat > now ? max(tat + delta * T, now) : tat
//   (a refund never moves the TAT below now: an idle counter has nothing left to refund).
// Time going backwards (now smaller than in an earlier call) is tolerated: max(tat, now)
// keeps the state, decisions are just stricter until time catches up.
// Products saturate at INT64_MAX instead of overflowing (Lua: keep values below 2^53).
#pragma once

#include <cstdint>
#include <limits>

namespace sluice::limits {

// retry_after_us for a request that can never pass (amount larger than the capacity).
inline constexpr int64_t kNeverUs = std::numeric_limits<int64_t>::max();

struct GcraParams {
  int64_t emission_us = 1;  // T
  int64_t burst = 1;        // capacity in units (>= 1)
};

// T = ceil(period_us / limit), at least 1. REQUIRES: limit >= 1, period_us >= 1.
int64_t EmissionIntervalUs(int64_t limit, int64_t period_us);
GcraParams MakeGcraParams(int64_t limit, int64_t period_us, int64_t burst);

struct GcraResult {
  bool allowed = false;
  bool never_passes = false;   // amount > burst: refused whatever the state
  int64_t new_tat = 0;         // what to store when allowed (== tat when refused)
  int64_t remaining = 0;       // units still admissible at `now` after this decision
  int64_t reset_us = 0;        // until the counter is full again
  int64_t retry_after_us = 0;  // when refused: earliest wait after which it would pass
};

GcraResult GcraCharge(int64_t tat, int64_t now_us, int64_t amount, const GcraParams& p);
GcraResult GcraPeek(int64_t tat, int64_t now_us, const GcraParams& p);
int64_t GcraAdjust(int64_t tat, int64_t now_us, int64_t delta, const GcraParams& p);

}  // namespace sluice::limits
