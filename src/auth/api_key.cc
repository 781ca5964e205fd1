// API key generation and checking (see api_key.h).
#include "auth/api_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

namespace sluice {
namespace {

constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr size_t kBodyLength = 43;
constexpr size_t kChecksumLength = 6;

void RandomBytes(unsigned char* out, size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) {
    // The OS CSPRNG failing is not recoverable; never fall back to a weak source.
    throw std::runtime_error("RAND_bytes failed");
  }
}

// Big-endian bytes → base62 with exactly `width` digits (left-padded with '0').
std::string Base62(const unsigned char* bytes, size_t size, size_t width) {
  std::vector<unsigned char> number(bytes, bytes + size);
  std::string digits;
  while (true) {
    bool zero = true;
    unsigned remainder = 0;
    for (unsigned char& b : number) {
      unsigned value = remainder * 256 + b;
      b = static_cast<unsigned char>(value / 62);
      remainder = value % 62;
      zero = zero && b == 0;
    }
    digits.push_back(kBase62[remainder]);
    if (zero) break;
  }
  while (digits.size() < width) digits.push_back('0');
  return std::string(digits.rbegin(), digits.rend());
}

uint32_t Crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (char ch : data) crc = table[(crc ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

// The CRC-32 of `body` as exactly 6 base62 digits (62^6 > 2^32), without allocating: the
// auth filter checks it on every request.
std::array<char, kChecksumLength> Checksum(std::string_view body) {
  uint64_t value = Crc32(body);
  std::array<char, kChecksumLength> digits;
  for (size_t i = kChecksumLength; i-- > 0;) {
    digits[i] = kBase62[value % 62];
    value /= 62;
  }
  return digits;
}

bool IsBase62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

}  // namespace

void Sha256HexTo(std::string_view text, Sha256HexBuffer& out) {
  // Fetched once: an implicit fetch per call (EVP_sha256()) takes a global lock in OpenSSL 3
  // and cost ~0.3 µs per call, a third of a cached API key check (bench/micro/auth_bench.cc).
  // One context per thread, reused: EVP_Digest allocates, initialises and frees a context
  // on every call, which cost more than hashing a 55-byte key with SHA-NI.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct ContextDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  thread_local const std::unique_ptr<EVP_MD_CTX, ContextDeleter> context(EVP_MD_CTX_new());
  unsigned char digest[32];
  unsigned int length = 0;
  const EVP_MD* algorithm = md != nullptr ? md : EVP_sha256();
  if (!context || EVP_DigestInit_ex2(context.get(), algorithm, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), text.data(), text.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest, &length) != 1) {
    EVP_Digest(text.data(), text.size(), digest, &length, algorithm, nullptr);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < 32; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
}

std::string Sha256Hex(std::string_view text) {
  Sha256HexBuffer buffer;
  Sha256HexTo(text, buffer);
  return std::string(buffer.data(), buffer.size());
}

std::string DisplayPrefix(std::string_view secret) {
  if (secret.size() < 14) return std::string(kApiKeyPrefix) + "...";
  std::string out(secret.substr(0, kApiKeyPrefix.size() + 4));
  out += "...";
  out += secret.substr(secret.size() - 4);
  return out;
}

NewApiKey GenerateApiKey() {
  unsigned char random[32];
  RandomBytes(random, sizeof(random));
  std::string body = Base62(random, sizeof(random), kBodyLength);
  NewApiKey key;
  std::array<char, kChecksumLength> checksum = Checksum(body);
  key.secret = std::string(kApiKeyPrefix) + body + std::string(checksum.data(), checksum.size());
  key.hash = Sha256Hex(key.secret);
  key.prefix = DisplayPrefix(key.secret);
  OPENSSL_cleanse(random, sizeof(random));
  return key;
}

ApiKeyFormat CheckApiKeyFormat(std::string_view text) {
  if (text.size() != kApiKeyLength || text.substr(0, kApiKeyPrefix.size()) != kApiKeyPrefix) {
    return ApiKeyFormat::kNotAKey;
  }
  std::string_view rest = text.substr(kApiKeyPrefix.size());
  for (char c : rest) {
    if (!IsBase62(c)) return ApiKeyFormat::kNotAKey;
  }
  std::string_view body = rest.substr(0, kBodyLength);
  std::string_view checksum = rest.substr(kBodyLength);
  std::array<char, kChecksumLength> expected = Checksum(body);
  return std::string_view(expected.data(), expected.size()) == checksum
             ? ApiKeyFormat::kValid
             : ApiKeyFormat::kBadChecksum;
}

std::string NewId(std::string_view kind) {
  unsigned char random[12];
  RandomBytes(random, sizeof(random));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(kind);
  out.push_back('_');
  for (unsigned char b : random) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string RandomToken(size_t bytes) {
  std::vector<unsigned char> random(bytes);
  RandomBytes(random.data(), random.size());
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char b : random) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 6) {
      out.push_back(kAlphabet[(buffer >> (bits - 6)) & 63]);
      bits -= 6;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 63]);
  OPENSSL_cleanse(random.data(), random.size());
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sluice
