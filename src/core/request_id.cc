// Request id validation and generation (xoshiro256** per thread, seeded by random_device).
#include "core/request_id.h"

#include <cstdint>
#include <random>

namespace sluice {
namespace {

class Xoshiro256 {
 public:
  Xoshiro256() {
    std::random_device rd;
    for (auto& s : s_) s = (static_cast<uint64_t>(rd()) << 32) ^ rd();
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

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '/' || c == '+' || c == '=' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void GenerateRequestId(std::string& out) {
  thread_local Xoshiro256 rng;
  static constexpr char kHex[] = "0123456789abcdef";
  char text[36] = {'r', 'e', 'q', '_'};
  for (int word = 0; word < 2; ++word) {
    uint64_t v = rng.Next();
    for (int i = 0; i < 16; ++i) {
      text[4 + word * 16 + i] = kHex[v & 15];
      v >>= 4;
    }
  }
  out.assign(text, sizeof(text));
}

}  // namespace sluice
