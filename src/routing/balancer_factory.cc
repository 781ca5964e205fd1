// MakeBalancer: validates a deployment list and builds the balancer of the chosen kind;
// and the balancer kinds' configuration names.
#include <array>
#include <unordered_set>
#include <utility>

#include "routing/balancer.h"
#include "routing/least_outstanding_balancer.h"
#include "routing/maglev_balancer.h"
#include "routing/p2c_ewma_balancer.h"
#include "routing/ring_hash_balancer.h"
#include "routing/round_robin_balancer.h"
#include "routing/smooth_weighted_balancer.h"
#include "routing/weighted_random_balancer.h"

namespace sluice::routing {
namespace {

constexpr std::array<std::pair<BalancerKind, std::string_view>, 7> kNames{{
    {BalancerKind::kRoundRobin, "round_robin"},
    {BalancerKind::kWeightedRoundRobin, "weighted_round_robin"},
    {BalancerKind::kRandom, "random"},
    {BalancerKind::kLeastOutstanding, "least_outstanding"},
    {BalancerKind::kP2cEwma, "p2c_ewma"},
    {BalancerKind::kRingHash, "ring_hash"},
    {BalancerKind::kMaglev, "maglev"},
}};

bool IsPrime(uint32_t n) {
  if (n < 2) return false;
  for (uint64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}

bool ReadsStats(BalancerKind kind) {
  return kind == BalancerKind::kLeastOutstanding || kind == BalancerKind::kP2cEwma;
}
bool Hashes(BalancerKind kind) {
  return kind == BalancerKind::kRingHash || kind == BalancerKind::kMaglev;
}

std::string Validate(BalancerKind kind, std::span<const BalancerTarget> targets,
                     const BalancerOptions& options) {
  if (targets.empty()) return "a balancer needs at least one deployment";
  if (targets.size() > kMaxDeployments) {
    return "at most " + std::to_string(kMaxDeployments) + " deployments per group";
  }
  uint64_t total = 0;
  for (const BalancerTarget& t : targets) {
    total += t.weight;
    if (ReadsStats(kind) && t.stats == nullptr) {
      return std::string(BalancerKindName(kind)) + " needs live statistics for every deployment";
    }
  }
  if (total == 0) return "the weights of a group must not all be 0";
  if (Hashes(kind)) {
    std::unordered_set<std::string_view> names;
    for (const BalancerTarget& t : targets) {
      if (t.name.empty()) return "consistent hashing needs a name for every deployment";
      if (!names.insert(t.name).second) {
        return "duplicate deployment name '" + std::string(t.name) + "'";
      }
    }
  }
  if (kind == BalancerKind::kRingHash && options.ring_virtual_nodes == 0) {
    return "ring_virtual_nodes must be at least 1";
  }
  if (kind == BalancerKind::kMaglev) {
    if (!IsPrime(options.maglev_table_size) || options.maglev_table_size > (1u << 24)) {
      return "maglev_table_size must be a prime number below 2^24 (e.g. 65537)";
    }
    if (options.maglev_table_size < targets.size()) {
      return "maglev_table_size must be at least the number of deployments";
    }
  }
  return {};
}

}  // namespace

std::optional<BalancerKind> ParseBalancerKind(std::string_view name) {
  for (const auto& [kind, text] : kNames) {
    if (text == name) return kind;
  }
  return std::nullopt;
}

std::string_view BalancerKindName(BalancerKind kind) {
  for (const auto& [k, text] : kNames) {
    if (k == kind) return text;
  }
  return "unknown";
}

BalancerBuild MakeBalancer(BalancerKind kind, std::span<const BalancerTarget> targets,
                           const BalancerOptions& options) {
  BalancerBuild build;
  build.error = Validate(kind, targets, options);
  if (!build.error.empty()) return build;
  switch (kind) {
    case BalancerKind::kRoundRobin:
      build.balancer = std::make_unique<RoundRobinBalancer>(targets);
      break;
    case BalancerKind::kWeightedRoundRobin:
      build.balancer = std::make_unique<SmoothWeightedBalancer>(targets);
      break;
    case BalancerKind::kRandom:
      build.balancer = std::make_unique<WeightedRandomBalancer>(targets);
      break;
    case BalancerKind::kLeastOutstanding:
      build.balancer = std::make_unique<LeastOutstandingBalancer>(targets);
      break;
    case BalancerKind::kP2cEwma:
      build.balancer = std::make_unique<P2cEwmaBalancer>(targets);
      break;
    case BalancerKind::kRingHash:
      build.balancer = std::make_unique<RingHashBalancer>(targets, options.ring_virtual_nodes);
      break;
    case BalancerKind::kMaglev:
      build.balancer = std::make_unique<MaglevBalancer>(targets, options.maglev_table_size);
      break;
  }
  if (build.balancer == nullptr) build.error = "unknown balancer kind";
  return build;
}

}  // namespace sluice::routing
