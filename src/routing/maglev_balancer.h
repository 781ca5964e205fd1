// Maglev consistent hashing (Eisenbud et al., NSDI 2016): a lookup table of prime size M
// (default 65,537) filled by letting each deployment, in turn, claim the next free slot of
// its own permutation (offset + j x skip mod M, both from the hash of its name); weighted
// by giving a deployment turns in proportion to weight / max_weight. A key maps to slot
// key_hash mod M: O(1) per pick, better balance than a ring of the same memory, and adding
// a deployment to n moves about 1/(n+1) of the keys. An excluded owner sends the key along
// the key's own probe sequence (slot + k x step mod M, step from the key: a permutation of
// the table since M is prime), so only its keys move, spread over the others by their
// share. The table (2 bytes a slot) is built with the balancer. Thread-safe (immutable).
#pragma once

#include <vector>

#include "routing/balancer.h"

namespace sluice::routing {

class MaglevBalancer final : public Balancer {
 public:
  // REQUIRES: table_size prime and >= targets.size() (MakeBalancer checks).
  MaglevBalancer(std::span<const BalancerTarget> targets, uint32_t table_size);
  std::optional<size_t> Pick(const PickInput& in) const override;
  BalancerKind kind() const override { return BalancerKind::kMaglev; }
  size_t size() const override { return weights_.size(); }
  // Slots owned by deployment i (for tests and /admin/status).
  size_t SlotsOf(size_t i) const;

 private:
  std::vector<uint32_t> weights_;
  std::vector<uint16_t> table_;
};

}  // namespace sluice::routing
