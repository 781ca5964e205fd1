// Helpers shared by the balancer implementations: who may be picked, and a weighted random
// choice among those left (weighted random's slow path and SWRR's fallback). Internal to
// src/routing. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/random.h"
#include "routing/balancer.h"
#include "routing/deployment_mask.h"

namespace sluice::routing {

inline bool IsEligible(std::span<const uint32_t> weights, const DeploymentMask& excluded,
                       size_t i) {
  return weights[i] > 0 && !excluded.Test(i);
}

// Uniform in [0, bound) by multiply-shift (bias below 2^-64 * bound). REQUIRES: bound > 0.
__extension__ typedef unsigned __int128 Uint128;  // GCC/Clang builtin; __extension__: -Wpedantic
inline uint64_t UniformBelow(Xoshiro256& random, uint64_t bound) {
  return static_cast<uint64_t>((static_cast<Uint128>(random.Next()) * bound) >> 64);
}

// One eligible index drawn with probability proportional to its weight; nullopt if none.
// Without a generator, the first eligible index (deterministic fallback). O(n).
std::optional<size_t> PickWeightedEligible(std::span<const uint32_t> weights,
                                           const DeploymentMask& excluded, Xoshiro256* random);

std::vector<uint32_t> WeightsOf(std::span<const BalancerTarget> targets);

}  // namespace sluice::routing
