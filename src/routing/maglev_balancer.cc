// Maglev table population and lookup (see the header).
#include "routing/maglev_balancer.h"

#include <algorithm>

#include "routing/balancer_support.h"
#include "routing/stable_hash.h"

namespace sluice::routing {
namespace {

constexpr uint16_t kEmpty = 0xFFFF;
// Probes along a key's sequence before the deterministic scan fallback (reached only when
// nearly every slot belongs to excluded deployments).
constexpr size_t kMaxProbes = 512;

struct Permutation {
  uint64_t offset = 0;
  uint64_t skip = 1;
  uint64_t next = 0;  // index j of the next slot to try
  double credit = 0;  // turns earned by weight, spent one per claimed slot
};

}  // namespace

MaglevBalancer::MaglevBalancer(std::span<const BalancerTarget> targets, uint32_t table_size)
    : weights_(WeightsOf(targets)) {
  const uint32_t max_weight = *std::max_element(weights_.begin(), weights_.end());
  if (max_weight == 0 || table_size < 2) return;
  const uint64_t m = table_size;
  std::vector<Permutation> perms(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    const uint64_t h = StableHash64(targets[i].name);
    perms[i].offset = MixHash64(h, 1) % m;
    perms[i].skip = MixHash64(h, 2) % (m - 1) + 1;
  }
  table_.assign(m, kEmpty);
  uint64_t filled = 0;
  while (filled < m) {
    for (size_t i = 0; i < perms.size() && filled < m; ++i) {
      if (weights_[i] == 0) continue;
      Permutation& p = perms[i];
      p.credit += static_cast<double>(weights_[i]) / max_weight;  // the heaviest: 1 per round
      if (p.credit < 1) continue;
      p.credit -= 1;
      uint64_t slot = (p.offset + p.next * p.skip) % m;
      while (table_[slot] != kEmpty) {
        // With a prime size the permutation reaches every slot within m steps; the bound
        // only guards a size that is not prime (MakeBalancer refuses those).
        slot = ++p.next < m ? (p.offset + p.next * p.skip) % m : (slot + 1) % m;
      }
      ++p.next;
      table_[slot] = static_cast<uint16_t>(i);
      ++filled;
    }
  }
}

size_t MaglevBalancer::SlotsOf(size_t i) const {
  return static_cast<size_t>(std::count(table_.begin(), table_.end(), static_cast<uint16_t>(i)));
}

std::optional<size_t> MaglevBalancer::Pick(const PickInput& in) const {
  if (table_.empty()) return std::nullopt;
  const uint64_t m = table_.size();
  uint64_t slot = in.key_hash % m;
  if (!in.excluded.Test(table_[slot])) return table_[slot];
  bool any = false;
  for (size_t i = 0; i < weights_.size() && !any; ++i) any = IsEligible(weights_, in.excluded, i);
  if (!any) return std::nullopt;
  const uint64_t step = MixHash64(in.key_hash, 0x6D61676C) % (m - 1) + 1;
  for (size_t k = 0; k < kMaxProbes; ++k) {
    slot = (slot + step) % m;
    if (!in.excluded.Test(table_[slot])) return table_[slot];
  }
  // Deterministic for the key: the first eligible deployment from key_hash mod n.
  const size_t n = weights_.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t i = static_cast<size_t>((in.key_hash + k) % n);
    if (IsEligible(weights_, in.excluded, i)) return i;
  }
  return std::nullopt;
}

}  // namespace sluice::routing
