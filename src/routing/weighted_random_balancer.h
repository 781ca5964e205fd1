// Weighted random: each pick independent, with probability weight / total. Statistically
// the same split as SWRR without a shared cursor (no cache line bouncing between workers);
// exact over large numbers only. Thread-safe (immutable; the generator is the caller's).
#pragma once

#include <vector>

#include "routing/balancer.h"

namespace sluice::routing {

class WeightedRandomBalancer final : public Balancer {
 public:
  explicit WeightedRandomBalancer(std::span<const BalancerTarget> targets);
  // REQUIRES: in.random != nullptr.
  std::optional<size_t> Pick(const PickInput& in) const override;
  BalancerKind kind() const override { return BalancerKind::kRandom; }
  size_t size() const override { return weights_.size(); }

 private:
  std::vector<uint32_t> weights_;
  std::vector<uint64_t> prefix_;  // prefix_[i] = weights_[0] + ... + weights_[i]
};

}  // namespace sluice::routing
