// Least outstanding requests by one scan (see the header).
#include "routing/least_outstanding_balancer.h"

#include <algorithm>

#include "routing/balancer_support.h"
#include "routing/deployment_stats.h"

namespace sluice::routing {

LeastOutstandingBalancer::LeastOutstandingBalancer(std::span<const BalancerTarget> targets)
    : weights_(WeightsOf(targets)) {
  for (const BalancerTarget& t : targets) stats_.push_back(t.stats);
}

std::optional<size_t> LeastOutstandingBalancer::Pick(const PickInput& in) const {
  const size_t n = weights_.size();
  const size_t start = in.random != nullptr ? static_cast<size_t>(UniformBelow(*in.random, n)) : 0;
  std::optional<size_t> best;
  uint64_t best_load = 0;  // in_flight + 1 of the best so far
  uint64_t best_weight = 1;
  const auto consider = [&](size_t i) {
    if (!IsEligible(weights_, in.excluded, i)) return;
    const auto load = static_cast<uint64_t>(std::max<int64_t>(0, stats_[i]->InFlight())) + 1;
    // load / weights_[i] < best_load / best_weight, without division.
    if (!best || load * best_weight < best_load * weights_[i]) {
      best = i;
      best_load = load;
      best_weight = weights_[i];
    }
  };
  // From a random start to the end, then from 0: ties go to the first met.
  for (size_t i = start; i < n; ++i) consider(i);
  for (size_t i = 0; i < start; ++i) consider(i);
  return best;
}

}  // namespace sluice::routing
