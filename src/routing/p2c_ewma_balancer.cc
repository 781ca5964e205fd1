// Power of two choices on peak EWMA (see the header).
#include "routing/p2c_ewma_balancer.h"

#include <array>

#include "routing/balancer_support.h"
#include "routing/deployment_stats.h"

namespace sluice::routing {

P2cEwmaBalancer::P2cEwmaBalancer(std::span<const BalancerTarget> targets)
    : weights_(WeightsOf(targets)) {
  for (const BalancerTarget& t : targets) {
    stats_.push_back(t.stats);
    all_weighted_ = all_weighted_ && t.weight > 0;
  }
}

size_t P2cEwmaBalancer::Better(size_t a, size_t b, SteadyTime now) const {
  return stats_[b]->Load(now) < stats_[a]->Load(now) ? b : a;
}

std::optional<size_t> P2cEwmaBalancer::Pick(const PickInput& in) const {
  const size_t n = weights_.size();
  if (all_weighted_ && in.excluded.None()) {  // the common case: everyone is a candidate
    if (n == 1) return 0;
    if (in.random == nullptr) return std::nullopt;
    const auto a = static_cast<size_t>(UniformBelow(*in.random, n));
    auto b = static_cast<size_t>(UniformBelow(*in.random, n - 1));
    if (b >= a) ++b;
    return Better(a, b, in.now);
  }
  // Retries and drained deployments: draw among the eligible ones (at most 256, on the stack).
  std::array<uint16_t, kMaxDeployments> eligible;
  size_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    if (IsEligible(weights_, in.excluded, i)) eligible[m++] = static_cast<uint16_t>(i);
  }
  if (m == 0) return std::nullopt;
  if (m == 1) return eligible[0];
  if (in.random == nullptr) return std::nullopt;
  const auto a = static_cast<size_t>(UniformBelow(*in.random, m));
  auto b = static_cast<size_t>(UniformBelow(*in.random, m - 1));
  if (b >= a) ++b;
  return Better(eligible[a], eligible[b], in.now);
}

}  // namespace sluice::routing
