// Power of two choices on peak EWMA (the default balancer): draw two distinct eligible
// deployments uniformly, keep the one with the lower load = EWMA latency x (in_flight + 1)
// (DeploymentStats::Load). Adapts to slow or overloaded deployments in O(1) per pick
// without the herding of "always the least loaded". Weights only drain (0); use
// weighted_round_robin or random for proportional splits. Thread-safe.
#pragma once

#include <vector>

#include "routing/balancer.h"

namespace sluice::routing {

class P2cEwmaBalancer final : public Balancer {
 public:
  // REQUIRES: every target has stats.
  explicit P2cEwmaBalancer(std::span<const BalancerTarget> targets);
  // REQUIRES: in.random != nullptr when more than one deployment is eligible.
  std::optional<size_t> Pick(const PickInput& in) const override;
  BalancerKind kind() const override { return BalancerKind::kP2cEwma; }
  size_t size() const override { return weights_.size(); }

 private:
  size_t Better(size_t a, size_t b, SteadyTime now) const;

  std::vector<uint32_t> weights_;
  std::vector<const DeploymentStats*> stats_;
  bool all_weighted_ = true;  // no drained deployment: the fast path needs no scan
};

}  // namespace sluice::routing
