// The balancer contract: picks one deployment of a model group for one attempt. Built once
// per deployment list (config load or reload; consistent-hash tables are computed then,
// never per request) and shared by all workers; Pick is const, allocation-free and
// thread-safe (round robin and SWRR advance one shared atomic cursor).
//
// Candidates are the indexes 0..n-1 of the list given to MakeBalancer, each with a weight
// (0 = drained, never picked); a pick names the ones to skip for this attempt (already
// tried, breaker open, ejected, over own limits) and, for consistent hashing, the 64-bit
// hash of the caller's key (StableHash64 of a user, API key, header, session id or client
// IP). Used by the proxy before each attempt (issue 5); not wired yet.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/random.h"
#include "routing/deployment_mask.h"

namespace sluice::routing {

class DeploymentStats;

enum class BalancerKind : uint8_t {
  kRoundRobin,          // "round_robin"
  kWeightedRoundRobin,  // "weighted_round_robin": nginx's smooth weighted round robin
  kRandom,              // "random": weighted random
  kLeastOutstanding,    // "least_outstanding"
  kP2cEwma,             // "p2c_ewma" (the default)
  kRingHash,            // "ring_hash"
  kMaglev,              // "maglev"
};

std::optional<BalancerKind> ParseBalancerKind(std::string_view name);
std::string_view BalancerKindName(BalancerKind kind);

struct BalancerTarget {
  // Stable identity of the deployment: ring hash and Maglev place it by this name, so adding
  // or removing one deployment leaves the others where they were.
  std::string_view name;
  uint32_t weight = 1;
  // Live state read by least_outstanding and p2c_ewma (required by them, unused by others).
  // REQUIRES: outlives the balancer.
  const DeploymentStats* stats = nullptr;
};

struct BalancerOptions {
  uint32_t ring_virtual_nodes = 160;   // ring points per deployment of average weight
  uint32_t maglev_table_size = 65537;  // must be prime and >= the number of deployments
};

struct PickInput {
  DeploymentMask excluded;       // never picked this time
  uint64_t key_hash = 0;         // consistent hashing only
  Xoshiro256* random = nullptr;  // this worker's generator (random, least_outstanding, p2c)
  SteadyTime now{};              // p2c_ewma: decays the latency estimates to now
};

class Balancer {
 public:
  virtual ~Balancer() = default;
  // The chosen index, or nullopt when every candidate is excluded or drained.
  virtual std::optional<size_t> Pick(const PickInput& in) const = 0;
  virtual BalancerKind kind() const = 0;
  virtual size_t size() const = 0;
};

struct BalancerBuild {
  std::unique_ptr<Balancer> balancer;  // null on error
  std::string error;                   // why the list was refused (for config diagnostics)
};

// Validates the list (1..kMaxDeployments targets, a positive total weight, unique names for
// the hashing kinds, stats for the kinds that read them, a prime Maglev size) and builds.
BalancerBuild MakeBalancer(BalancerKind kind, std::span<const BalancerTarget> targets,
                           const BalancerOptions& options = {});

}  // namespace sluice::routing
