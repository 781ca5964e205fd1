// Weighted random by binary search on prefix sums (see the header).
#include "routing/weighted_random_balancer.h"

#include <algorithm>

#include "routing/balancer_support.h"

namespace sluice::routing {

WeightedRandomBalancer::WeightedRandomBalancer(std::span<const BalancerTarget> targets)
    : weights_(WeightsOf(targets)) {
  uint64_t sum = 0;
  for (uint32_t w : weights_) prefix_.push_back(sum += w);
}

std::optional<size_t> WeightedRandomBalancer::Pick(const PickInput& in) const {
  if (in.random == nullptr || prefix_.empty() || prefix_.back() == 0) return std::nullopt;
  if (!in.excluded.None()) return PickWeightedEligible(weights_, in.excluded, in.random);
  const uint64_t point = UniformBelow(*in.random, prefix_.back());
  // The first prefix above the point; zero weights share their predecessor's prefix and
  // are never the first above it.
  return static_cast<size_t>(std::upper_bound(prefix_.begin(), prefix_.end(), point) -
                             prefix_.begin());
}

}  // namespace sluice::routing
