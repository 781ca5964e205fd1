// Request id validation and generation (xoshiro256** per thread, seeded by random_device).
#include "core/request_id.h"

#include <cstdint>
#include <random>

#include "core/random.h"

namespace sluice {
namespace {

Xoshiro256& ThreadRng() {
  thread_local Xoshiro256 rng = [] {
    std::random_device device;
    return Xoshiro256((static_cast<uint64_t>(device()) << 32) ^ device());
  }();
  return rng;
}

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
  Xoshiro256& rng = ThreadRng();
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
