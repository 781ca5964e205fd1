// Shared balancer helpers (see the header).
#include "routing/balancer_support.h"

namespace sluice::routing {

std::optional<size_t> PickWeightedEligible(std::span<const uint32_t> weights,
                                           const DeploymentMask& excluded, Xoshiro256* random) {
  uint64_t total = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (IsEligible(weights, excluded, i)) total += weights[i];
  }
  if (total == 0) return std::nullopt;
  uint64_t point = random != nullptr ? UniformBelow(*random, total) : 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (!IsEligible(weights, excluded, i)) continue;
    if (point < weights[i]) return i;
    point -= weights[i];
  }
  return std::nullopt;  // unreachable: point < total
}

std::vector<uint32_t> WeightsOf(std::span<const BalancerTarget> targets) {
  std::vector<uint32_t> weights;
  weights.reserve(targets.size());
  for (const BalancerTarget& t : targets) weights.push_back(t.weight);
  return weights;
}

}  // namespace sluice::routing
