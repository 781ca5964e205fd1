// Stable 64-bit hashing for routing: deployment names placed on consistent-hash rings and
// Maglev tables, and the request keys (user, API key, header value, session id, client IP)
// that pick a deployment. The value depends only on the bytes, never on the process, build
// or platform, so every gateway instance sends the same key to the same deployment. Not a
// defence against chosen keys (a caller only steers its own requests). Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice::routing {

// FNV-1a over the bytes, then a 64-bit finaliser (splitmix64's) so that keys differing in
// one byte spread over the whole range (FNV alone clusters short keys).
inline uint64_t StableHash64(std::string_view bytes, uint64_t seed = 0) {
  uint64_t h = 0xCBF29CE484222325ULL ^ seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  h ^= h >> 30;
  h *= 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 27;
  h *= 0x94D049BB133111EBULL;
  return h ^ (h >> 31);
}

// Mixes an integer (a hash and a replica number, say) into a well-spread 64-bit value.
inline uint64_t MixHash64(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9E3779B97F4A7C15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace sluice::routing
