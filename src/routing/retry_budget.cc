// The retry budget's admission (see the header).
#include "routing/retry_budget.h"

#include <algorithm>
#include <cmath>

namespace sluice::routing {

int64_t RetryBudget::Allowed() const {
  const auto by_ratio = static_cast<int64_t>(
      std::floor(options_.ratio * static_cast<double>(std::max<int64_t>(0, RequestsInFlight()))));
  return std::max<int64_t>(options_.min_concurrent, by_ratio);
}

RetryBudget::RetryPermit RetryBudget::TryAcquireRetry() {
  const int64_t allowed = Allowed();
  int64_t current = retries_.load(std::memory_order_relaxed);
  while (current < allowed) {
    if (retries_.compare_exchange_weak(current, current + 1, std::memory_order_relaxed)) {
      return RetryPermit(this);
    }
  }
  refused_.fetch_add(1, std::memory_order_relaxed);
  return RetryPermit();
}

}  // namespace sluice::routing
