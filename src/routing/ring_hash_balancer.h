// Consistent hashing on a ring (Karger; ketama-style virtual nodes): each deployment owns
// ring_virtual_nodes x weight / mean_weight points placed by the hash of its name and
// replica number; a key goes to the owner of the first point at or after its hash. Adding a
// deployment to n moves about 1/(n+1) of the keys, all of them to the newcomer. An excluded
// owner passes the key on clockwise to the next eligible point's owner, so every other key
// stays where it was. For stickiness (sessions, prompt-cache affinity). The ring is built
// with the balancer; Pick is a binary search. Thread-safe (immutable).
#pragma once

#include <vector>

#include "routing/balancer.h"

namespace sluice::routing {

class RingHashBalancer final : public Balancer {
 public:
  RingHashBalancer(std::span<const BalancerTarget> targets, uint32_t virtual_nodes);
  std::optional<size_t> Pick(const PickInput& in) const override;
  BalancerKind kind() const override { return BalancerKind::kRingHash; }
  size_t size() const override { return weights_.size(); }
  size_t ring_size() const { return points_.size(); }

 private:
  std::vector<uint32_t> weights_;
  std::vector<uint64_t> points_;  // sorted
  std::vector<uint16_t> owners_;  // owners_[k] owns points_[k]
};

}  // namespace sluice::routing
