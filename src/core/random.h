// A small, fast, seedable PRNG (xoshiro256** seeded through splitmix64). Not for secrets:
// used for request ids (seeded from the OS per thread) and by sluice-mock for its random
// choices (seeded from --seed, so draws are reproducible). Not thread-safe: one instance
// per thread.
#pragma once

#include <cstdint>

namespace sluice {

// splitmix64 step: also used on its own to expand a hash into a stream of values.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Xoshiro256 {
 public:
  explicit Xoshiro256(uint64_t seed = 0) { Seed(seed); }

  void Seed(uint64_t seed) {
    for (uint64_t& word : s_) word = SplitMix64(seed);
  }

  uint64_t Next() {
    uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // True with probability `p` (p <= 0 never draws, so a zero rate costs nothing).
  bool Chance(double p) { return p > 0 && (p >= 1 || NextDouble() < p); }

  // Uniform integer in [-range, +range].
  int64_t Symmetric(int64_t range) {
    if (range <= 0) return 0;
    uint64_t span = static_cast<uint64_t>(range) * 2 + 1;
    return static_cast<int64_t>(Next() % span) - range;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace sluice
