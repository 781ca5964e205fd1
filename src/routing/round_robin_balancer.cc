// Round robin over one shared cursor (see the header).
#include "routing/round_robin_balancer.h"

#include "routing/balancer_support.h"

namespace sluice::routing {

RoundRobinBalancer::RoundRobinBalancer(std::span<const BalancerTarget> targets)
    : weights_(WeightsOf(targets)) {}

std::optional<size_t> RoundRobinBalancer::Pick(const PickInput& in) const {
  const size_t n = weights_.size();
  const uint64_t start = cursor_.fetch_add(1, std::memory_order_relaxed);
  for (size_t k = 0; k < n; ++k) {
    const size_t i = static_cast<size_t>((start + k) % n);
    if (IsEligible(weights_, in.excluded, i)) return i;
  }
  return std::nullopt;
}

}  // namespace sluice::routing
