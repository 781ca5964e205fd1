// Smooth weighted round robin (nginx's algorithm): over a cycle of sum(weights) picks each
// deployment gets exactly its weight, interleaved (5:1:1 gives a a b a c a a). The cycle is
// computed once when the balancer is built (weights divided by their gcd; scaled to at most
// ~65,536 slots when larger) and walked by one atomic cursor shared by all workers, so the
// global sequence is nginx's exactly. An excluded deployment's slot goes to the next
// eligible slot of the cycle; if none within 2n slots, a weighted random choice among the
// eligible. For canary splits and unequal capacities. Thread-safe.
#pragma once

#include <atomic>
#include <vector>

#include "routing/balancer.h"

namespace sluice::routing {

class SmoothWeightedBalancer final : public Balancer {
 public:
  static constexpr size_t kMaxCycle = 65536;

  explicit SmoothWeightedBalancer(std::span<const BalancerTarget> targets);
  std::optional<size_t> Pick(const PickInput& in) const override;
  BalancerKind kind() const override { return BalancerKind::kWeightedRoundRobin; }
  size_t size() const override { return weights_.size(); }
  size_t cycle_length() const { return cycle_.size(); }

 private:
  std::vector<uint32_t> weights_;
  std::vector<uint16_t> cycle_;
  alignas(64) mutable std::atomic<uint64_t> cursor_{0};
};

}  // namespace sluice::routing
