// Round robin: each deployment in turn, ignoring weights (except 0 = drained); an excluded
// one passes its turn to the next. For identical deployments with uniform requests. One
// atomic cursor shared by all workers (on its own cache line), so the rotation is global.
// Thread-safe.
#pragma once

#include <atomic>
#include <vector>

#include "routing/balancer.h"

namespace sluice::routing {

class RoundRobinBalancer final : public Balancer {
 public:
  explicit RoundRobinBalancer(std::span<const BalancerTarget> targets);
  std::optional<size_t> Pick(const PickInput& in) const override;
  BalancerKind kind() const override { return BalancerKind::kRoundRobin; }
  size_t size() const override { return weights_.size(); }

 private:
  std::vector<uint32_t> weights_;
  alignas(64) mutable std::atomic<uint64_t> cursor_{0};
};

}  // namespace sluice::routing
