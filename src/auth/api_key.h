// The gateway's API keys ("virtual keys"): "sk-sl-" + 32 random bytes in base62 (43
// characters) + a 6-character base62 CRC-32 of those 43, so a typo or a secret scanner can
// tell a key without a lookup. Only the SHA-256 of a key is stored; the display prefix is
// enough to recognise a key, never to use it. Pure functions; thread-safe.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

inline constexpr std::string_view kApiKeyPrefix = "sk-sl-";
inline constexpr size_t kApiKeyLength = 6 + 43 + 6;

struct NewApiKey {
  std::string secret;  // shown once, never stored
  std::string hash;    // SHA-256, lowercase hex
  std::string prefix;  // e.g. "sk-sl-4fQk...9xYz"
};

NewApiKey GenerateApiKey();

enum class ApiKeyFormat { kValid, kNotAKey, kBadChecksum };
// Checks the shape and the checksum, without any lookup.
ApiKeyFormat CheckApiKeyFormat(std::string_view text);

// SHA-256 of `text` as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view text);
// The same into a caller's buffer (no allocation; the per-request key check uses it).
using Sha256HexBuffer = std::array<char, 64>;
void Sha256HexTo(std::string_view text, Sha256HexBuffer& out);
std::string DisplayPrefix(std::string_view secret);

// "key_", "usr_", "team_", "rt_", "aud_" + 24 hex digits from a CSPRNG.
std::string NewId(std::string_view kind);
// `bytes` random bytes from the OS CSPRNG (OpenSSL RAND_bytes), base64url without padding.
std::string RandomToken(size_t bytes);

// Constant-time equality of two equal-length strings (false when lengths differ).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace sluice
