// Byte tests eight bytes at a time on a uint64_t ("SWAR"), for scanners on the request path
// (JSON escaping, header values). Pure functions.
#pragma once

#include <cstdint>

namespace sluice {

inline constexpr uint64_t kSwarOnes = 0x0101010101010101ULL;
inline constexpr uint64_t kSwarHigh = 0x8080808080808080ULL;

// Non-zero when some byte of `word` equals `byte` (the "has a zero byte" trick on word ^ byte:
// exact as to whether one does; the set bits past the first match may be spurious).
constexpr uint64_t SwarHasByte(uint64_t word, unsigned char byte) {
  const uint64_t x = word ^ (kSwarOnes * byte);
  return (x - kSwarOnes) & ~x & kSwarHigh;
}

}  // namespace sluice
