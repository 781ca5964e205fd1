// Builds and walks the consistent-hash ring (see the header).
#include "routing/ring_hash_balancer.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "routing/balancer_support.h"
#include "routing/stable_hash.h"

namespace sluice::routing {

RingHashBalancer::RingHashBalancer(std::span<const BalancerTarget> targets, uint32_t virtual_nodes)
    : weights_(WeightsOf(targets)) {
  uint64_t total = 0;
  size_t weighted = 0;
  for (uint32_t w : weights_) {
    total += w;
    weighted += w > 0 ? 1 : 0;
  }
  if (weighted == 0) return;
  const double mean = static_cast<double>(total) / static_cast<double>(weighted);
  std::vector<std::pair<uint64_t, uint16_t>> ring;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (weights_[i] == 0) continue;
    const auto replicas = std::max<uint64_t>(
        1, std::llround(virtual_nodes * static_cast<double>(weights_[i]) / mean));
    const uint64_t name_hash = StableHash64(targets[i].name);
    for (uint64_t r = 0; r < replicas; ++r) {
      ring.emplace_back(MixHash64(name_hash, r), static_cast<uint16_t>(i));
    }
  }
  std::sort(ring.begin(), ring.end());  // equal points (improbable) ordered by index
  points_.reserve(ring.size());
  owners_.reserve(ring.size());
  for (const auto& [point, owner] : ring) {
    points_.push_back(point);
    owners_.push_back(owner);
  }
}

std::optional<size_t> RingHashBalancer::Pick(const PickInput& in) const {
  if (points_.empty()) return std::nullopt;
  const size_t start = static_cast<size_t>(
      std::lower_bound(points_.begin(), points_.end(), in.key_hash) - points_.begin());
  const size_t len = points_.size();
  if (in.excluded.None()) return owners_[start == len ? 0 : start];
  bool any = false;  // stop at once when nobody is eligible instead of walking the ring
  for (size_t i = 0; i < weights_.size() && !any; ++i) any = IsEligible(weights_, in.excluded, i);
  if (!any) return std::nullopt;
  for (size_t k = 0; k < len; ++k) {
    const size_t owner = owners_[(start + k) % len];
    if (!in.excluded.Test(owner)) return owner;
  }
  return std::nullopt;
}

}  // namespace sluice::routing
