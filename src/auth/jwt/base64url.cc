// Base64url without padding (RFC 4648 §5, as JWS uses it, RFC 7515 §2). Decoding is
// strict: '=' padding, characters outside the URL alphabet, impossible lengths and
// non-zero trailing bits are refused, so every byte string has exactly one accepted text.
// Pure functions; thread-safe.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/jwt/jwt.h"

namespace sluice::jwt {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr uint8_t kInvalid = 0xff;

constexpr std::array<uint8_t, 256> MakeDecodeTable() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (uint8_t i = 0; i < 64; ++i) table[static_cast<uint8_t>(kAlphabet[i])] = i;
  return table;
}
constexpr std::array<uint8_t, 256> kDecode = MakeDecodeTable();

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.resize((bytes.size() * 4 + 2) / 3);
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t i = 0;
  size_t o = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
    out[o++] = kAlphabet[v & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = uint32_t{in[i]} << 16;
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;  // 6 bits cannot make a byte
  std::string out;
  out.resize(text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1));
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  size_t i = 0;
  size_t o = 0;
  for (; i + 4 <= text.size(); i += 4) {
    const uint8_t a = kDecode[in[i]], b = kDecode[in[i + 1]], c = kDecode[in[i + 2]],
                  d = kDecode[in[i + 3]];
    if (((a | b | c | d) & 0xc0) != 0) return std::nullopt;  // kInvalid has the top bits
    const uint32_t v = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6) | d;
    out[o++] = static_cast<char>(v >> 16);
    out[o++] = static_cast<char>(v >> 8);
    out[o++] = static_cast<char>(v);
  }
  const size_t rest = text.size() - i;
  if (rest == 0) return out;
  const uint8_t a = kDecode[in[i]], b = kDecode[in[i + 1]];
  const uint8_t c = rest == 3 ? kDecode[in[i + 2]] : 0;
  if (((a | b | c) & 0xc0) != 0) return std::nullopt;
  const uint32_t v = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6);
  out[o++] = static_cast<char>(v >> 16);
  if (rest == 2) {
    if ((v & 0xffff) != 0) return std::nullopt;  // non-canonical trailing bits
  } else {
    out[o++] = static_cast<char>(v >> 8);
    if ((v & 0xff) != 0) return std::nullopt;
  }
  return out;
}

}  // namespace sluice::jwt
