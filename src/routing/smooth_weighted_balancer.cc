// Precomputes nginx's smooth weighted round robin cycle (see the header).
#include "routing/smooth_weighted_balancer.h"

#include <numeric>

#include "routing/balancer_support.h"

namespace sluice::routing {
namespace {

// The weights the cycle is built from: divided by their gcd, then scaled down (keeping every
// positive weight at least 1) when the cycle would exceed kMaxCycle slots.
std::vector<uint64_t> CycleWeights(const std::vector<uint32_t>& weights) {
  uint64_t g = 0;
  for (uint32_t w : weights) g = std::gcd(g, uint64_t{w});
  std::vector<uint64_t> reduced;
  uint64_t sum = 0;
  for (uint32_t w : weights) {
    reduced.push_back(g == 0 ? 0 : w / g);
    sum += reduced.back();
  }
  if (sum > SmoothWeightedBalancer::kMaxCycle) {
    for (uint64_t& w : reduced) {
      if (w > 0) w = std::max<uint64_t>(1, w * SmoothWeightedBalancer::kMaxCycle / sum);
    }
  }
  return reduced;
}

}  // namespace

SmoothWeightedBalancer::SmoothWeightedBalancer(std::span<const BalancerTarget> targets)
    : weights_(WeightsOf(targets)) {
  const std::vector<uint64_t> w = CycleWeights(weights_);
  const auto total = static_cast<int64_t>(std::accumulate(w.begin(), w.end(), uint64_t{0}));
  std::vector<int64_t> current(w.size(), 0);
  cycle_.reserve(static_cast<size_t>(total));
  for (int64_t pick = 0; pick < total; ++pick) {
    size_t best = w.size();
    for (size_t i = 0; i < w.size(); ++i) {
      if (w[i] == 0) continue;
      current[i] += static_cast<int64_t>(w[i]);
      if (best == w.size() || current[i] > current[best]) best = i;  // first maximum wins
    }
    current[best] -= total;
    cycle_.push_back(static_cast<uint16_t>(best));
  }
}

std::optional<size_t> SmoothWeightedBalancer::Pick(const PickInput& in) const {
  if (cycle_.empty()) return std::nullopt;
  const uint64_t start = cursor_.fetch_add(1, std::memory_order_relaxed);
  const size_t len = cycle_.size();
  const size_t walk = std::min(len, 2 * weights_.size());
  for (size_t k = 0; k < walk; ++k) {
    const size_t i = cycle_[static_cast<size_t>((start + k) % len)];
    if (!in.excluded.Test(i)) return i;
  }
  return PickWeightedEligible(weights_, in.excluded, in.random);
}

}  // namespace sluice::routing
