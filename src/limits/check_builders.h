// Builders for the three kinds of limiter checks (limiter_store.h), for code that makes
// checks by hand: tests of the counter stores and the micro-benchmarks. Header only;
// stateless.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "limits/limiter_store.h"

namespace sluice::limits {

// `limit` units per `period_us` (GCRA), burst = limit.
inline Check RateCheck(std::string key, int64_t limit, int64_t period_us, int64_t amount = 1,
                       OnStoreFailure on_failure = OnStoreFailure::kLocalFallback) {
  Check c;
  c.key = std::move(key);
  c.kind = CounterKind::kRate;
  c.limit = limit;
  c.period_us = period_us;
  c.burst = limit;
  c.amount = amount;
  c.on_store_failure = on_failure;
  return c;
}

inline Check ConcurrencyCheck(std::string key, int64_t limit, int64_t amount = 1,
                              OnStoreFailure on_failure = OnStoreFailure::kLocalFallback) {
  Check c;
  c.key = std::move(key);
  c.kind = CounterKind::kConcurrency;
  c.limit = limit;
  c.amount = amount;
  c.on_store_failure = on_failure;
  return c;
}

inline Check BudgetCheck(std::string key, int64_t limit, int64_t window_end_us, int64_t amount,
                         OnStoreFailure on_failure = OnStoreFailure::kFailClosed) {
  Check c;
  c.key = std::move(key);
  c.kind = CounterKind::kBudget;
  c.limit = limit;
  c.window_end_us = window_end_us;
  c.amount = amount;
  c.on_store_failure = on_failure;
  return c;
}

}  // namespace sluice::limits
