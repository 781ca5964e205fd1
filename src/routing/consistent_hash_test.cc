// Tests of the consistent-hashing balancers (ring hash, Maglev): the same key always maps to
// the same deployment, adding or removing a deployment moves about 1/N of 10,000 keys,
// exclusions move only the excluded deployment's keys, weights shape the shares.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "routing/balancer.h"
#include "routing/maglev_balancer.h"
#include "routing/ring_hash_balancer.h"
#include "routing/stable_hash.h"

namespace sluice::routing {
namespace {

constexpr int kKeys = 10'000;

struct Names {
  explicit Names(size_t n, std::vector<uint32_t> weights = {}) {
    for (size_t i = 0; i < n; ++i) names.push_back("deployment-" + std::to_string(i));
    for (size_t i = 0; i < n; ++i) {
      targets.push_back({names[i], weights.empty() ? 1u : weights[i], nullptr});
    }
  }
  std::deque<std::string> names;
  std::vector<BalancerTarget> targets;
};

std::unique_ptr<Balancer> Build(BalancerKind kind, std::span<const BalancerTarget> targets) {
  BalancerBuild build = MakeBalancer(kind, targets);
  EXPECT_EQ(build.error, "");
  return std::move(build.balancer);
}

uint64_t KeyHash(int i) { return StableHash64("user-" + std::to_string(i)); }

// The deployment NAME each key lands on, so lists of different lengths compare.
std::vector<std::string_view> Assign(const Balancer& balancer, const Names& n,
                                     const DeploymentMask& excluded = {}) {
  std::vector<std::string_view> out;
  for (int k = 0; k < kKeys; ++k) {
    out.push_back(n.names[*balancer.Pick({.excluded = excluded, .key_hash = KeyHash(k)})]);
  }
  return out;
}

class ConsistentHash : public ::testing::TestWithParam<BalancerKind> {};

TEST_P(ConsistentHash, SameKeySameDeployment) {
  Names n(5);
  auto a = Build(GetParam(), n.targets);
  auto b = Build(GetParam(), n.targets);  // another instance (a reload, another gateway)
  for (int k = 0; k < 1000; ++k) {
    const auto first = a->Pick({.key_hash = KeyHash(k)});
    EXPECT_EQ(a->Pick({.key_hash = KeyHash(k)}), first);
    EXPECT_EQ(b->Pick({.key_hash = KeyHash(k)}), first);
  }
}

TEST_P(ConsistentHash, AddingADeploymentMovesAboutOneNth) {
  for (size_t n : {3u, 4u, 5u, 10u}) {
    Names before(n), after(n + 1);
    const auto old_assign = Assign(*Build(GetParam(), before.targets), before);
    const auto new_assign = Assign(*Build(GetParam(), after.targets), after);
    int moved = 0, moved_elsewhere = 0;
    for (int k = 0; k < kKeys; ++k) {
      if (old_assign[k] == new_assign[k]) continue;
      ++moved;
      if (new_assign[k] != after.names[n]) ++moved_elsewhere;
    }
    const double share = static_cast<double>(moved) / kKeys;
    SCOPED_TRACE("n=" + std::to_string(n) + " moved=" + std::to_string(share));
    EXPECT_LE(share, 1.0 / static_cast<double>(n) + 0.02);
    EXPECT_GE(share, 1.0 / static_cast<double>(n + 1) * 0.5);  // the newcomer gets keys
    // Keys move to the newcomer, not between the old deployments (Maglev: nearly so).
    EXPECT_LE(moved_elsewhere, kKeys / 100);
  }
}

TEST_P(ConsistentHash, RemovingADeploymentMovesOnlyItsKeysMostly) {
  Names before(6);
  std::vector<BalancerTarget> fewer(before.targets.begin(), before.targets.end() - 1);
  const auto old_assign = Assign(*Build(GetParam(), before.targets), before);
  const auto new_assign = Assign(*Build(GetParam(), fewer), before);
  int moved_others = 0;
  for (int k = 0; k < kKeys; ++k) {
    if (old_assign[k] != before.names[5] && old_assign[k] != new_assign[k]) ++moved_others;
  }
  EXPECT_LE(moved_others, kKeys / 100);
}

TEST_P(ConsistentHash, ExclusionMovesOnlyTheExcludedKeysAndSpreadsThem) {
  Names n(4);
  auto balancer = Build(GetParam(), n.targets);
  DeploymentMask excluded;
  excluded.Set(2);
  const auto normal = Assign(*balancer, n);
  const auto retried = Assign(*balancer, n, excluded);
  std::map<std::string_view, int> moved_to;
  for (int k = 0; k < kKeys; ++k) {
    if (normal[k] != n.names[2]) {
      EXPECT_EQ(retried[k], normal[k]) << "key " << k << " should have stayed";
    } else {
      EXPECT_NE(retried[k], n.names[2]);
      ++moved_to[retried[k]];
    }
  }
  // The excluded deployment's keys are shared out, not all dumped on one neighbour.
  EXPECT_EQ(moved_to.size(), 3u);
  for (const auto& [name, count] : moved_to) EXPECT_GT(count, 100) << name;
  // And the fallback itself is sticky.
  EXPECT_EQ(Assign(*balancer, n, excluded), retried);
}

TEST_P(ConsistentHash, WeightsShapeShares) {
  Names n(3, {1, 1, 2});
  auto balancer = Build(GetParam(), n.targets);
  std::map<std::string_view, int> count;
  for (auto name : Assign(*balancer, n)) ++count[name];
  EXPECT_NEAR(count[n.names[2]] / static_cast<double>(kKeys), 0.5, 0.06);
  EXPECT_NEAR(count[n.names[0]] / static_cast<double>(kKeys), 0.25, 0.06);
}

INSTANTIATE_TEST_SUITE_P(Kinds, ConsistentHash,
                         ::testing::Values(BalancerKind::kRingHash, BalancerKind::kMaglev),
                         [](const auto& info) {
                           return std::string(BalancerKindName(info.param));
                         });

TEST(Maglev, TableIsBalanced) {
  Names n(7);
  MaglevBalancer maglev(n.targets, 65537);
  size_t total = 0;
  for (size_t i = 0; i < 7; ++i) {
    const size_t slots = maglev.SlotsOf(i);
    total += slots;
    EXPECT_NEAR(static_cast<double>(slots), 65537.0 / 7, 65537.0 / 7 * 0.01);
  }
  EXPECT_EQ(total, 65537u);
}

TEST(RingHash, VirtualNodesFollowWeights) {
  Names n(2, {1, 3});
  RingHashBalancer ring(n.targets, 100);
  EXPECT_EQ(ring.ring_size(), 50u + 150u);  // mean weight 2: 100 x 1/2 and 100 x 3/2
}

}  // namespace
}  // namespace sluice::routing
