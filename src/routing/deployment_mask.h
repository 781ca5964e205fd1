// A fixed-capacity set of deployment indexes (one bit each): the deployments a balancer
// must not pick for this attempt (already tried, breaker open, ejected, over their own
// limits). Fixed size so building one per request allocates nothing; a group holds at most
// kMaxDeployments deployments (MakeBalancer rejects more). A value type; not thread-safe.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace sluice::routing {

inline constexpr size_t kMaxDeployments = 256;

class DeploymentMask {
 public:
  // REQUIRES: i < kMaxDeployments (larger indexes are ignored, never out of bounds).
  void Set(size_t i) {
    if (i < kMaxDeployments) words_[i >> 6] |= uint64_t{1} << (i & 63);
  }
  void Reset(size_t i) {
    if (i < kMaxDeployments) words_[i >> 6] &= ~(uint64_t{1} << (i & 63));
  }
  bool Test(size_t i) const {
    return i < kMaxDeployments && ((words_[i >> 6] >> (i & 63)) & 1) != 0;
  }
  bool None() const { return (words_[0] | words_[1] | words_[2] | words_[3]) == 0; }
  size_t Count() const {
    size_t n = 0;
    for (uint64_t w : words_) n += static_cast<size_t>(std::popcount(w));
    return n;
  }
  void Clear() { words_ = {}; }
  DeploymentMask& operator|=(const DeploymentMask& other) {
    for (size_t w = 0; w < words_.size(); ++w) words_[w] |= other.words_[w];
    return *this;
  }
  bool operator==(const DeploymentMask&) const = default;

 private:
  std::array<uint64_t, kMaxDeployments / 64> words_{};
};

}  // namespace sluice::routing
