// Least outstanding requests: the eligible deployment with the fewest requests in flight
// relative to its weight ((in_flight + 1) / weight; plain "fewest" for equal weights),
// ties broken by starting the scan at a random index. For long, uneven requests (LLM
// completions) when latency history says little. O(n) per pick: for large groups prefer
// p2c_ewma. Thread-safe (reads the shared DeploymentStats atomically).
#pragma once

#include <vector>

#include "routing/balancer.h"

namespace sluice::routing {

class LeastOutstandingBalancer final : public Balancer {
 public:
  // REQUIRES: every target has stats.
  explicit LeastOutstandingBalancer(std::span<const BalancerTarget> targets);
  std::optional<size_t> Pick(const PickInput& in) const override;
  BalancerKind kind() const override { return BalancerKind::kLeastOutstanding; }
  size_t size() const override { return weights_.size(); }

 private:
  std::vector<uint32_t> weights_;
  std::vector<const DeploymentStats*> stats_;
};

}  // namespace sluice::routing
