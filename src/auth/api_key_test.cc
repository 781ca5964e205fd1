// Tests of the API key format (api_key.h): generated keys are "sk-sl-" + 43 base62 + a
// 6-digit base62 CRC-32 (checked against an independent reference), the checksum rejects
// typos, swaps, truncation and foreign prefixes without any lookup, SHA-256 known vectors,
// the display prefix, ids, random tokens and constant-time equality.
#include "auth/api_key.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace sluice {
namespace {

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool IsBase62(char c) { return kBase62.find(c) != std::string_view::npos; }

// Bitwise CRC-32 (IEEE, reflected), written independently of the product's table.
uint32_t ReferenceCrc32(std::string_view data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (char ch : data) {
    crc ^= static_cast<unsigned char>(ch);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// The documented checksum: the CRC-32 as a 6-digit big-endian base62 number.
std::string ReferenceChecksum(std::string_view body) {
  uint64_t value = ReferenceCrc32(body);
  std::string digits(6, '0');
  for (int i = 5; i >= 0; --i) {
    digits[i] = kBase62[value % 62];
    value /= 62;
  }
  return digits;
}

TEST(ApiKeyReference, Crc32CheckValue) {
  // The standard check value of CRC-32/ISO-HDLC, so the reference itself is right.
  EXPECT_EQ(ReferenceCrc32("123456789"), 0xCBF43926u);
}

TEST(ApiKey, GeneratedKeysHaveTheDocumentedFormat) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    NewApiKey key = GenerateApiKey();
    ASSERT_EQ(key.secret.size(), kApiKeyLength);
    EXPECT_EQ(kApiKeyLength, 55u);
    EXPECT_EQ(key.secret.substr(0, 6), "sk-sl-");
    for (size_t j = 6; j < key.secret.size(); ++j) {
      EXPECT_TRUE(IsBase62(key.secret[j])) << key.secret << " at " << j;
    }
    std::string body = key.secret.substr(6, 43);
    EXPECT_EQ(key.secret.substr(49), ReferenceChecksum(body)) << key.secret;
    EXPECT_EQ(CheckApiKeyFormat(key.secret), ApiKeyFormat::kValid) << key.secret;
    EXPECT_EQ(key.hash, Sha256Hex(key.secret));
    EXPECT_EQ(key.prefix, DisplayPrefix(key.secret));
    EXPECT_TRUE(seen.insert(key.secret).second) << "duplicate key " << key.secret;
  }
}

TEST(ApiKey, AKeyBuiltFromTheSpecValidates) {
  // A hand-made body with the reference checksum is accepted: the format is the spec.
  std::string body(43, 'A');
  body[0] = 'z';
  body[42] = '7';
  std::string key = "sk-sl-" + body + ReferenceChecksum(body);
  EXPECT_EQ(CheckApiKeyFormat(key), ApiKeyFormat::kValid);
  std::string zeros(43, '0');
  EXPECT_EQ(CheckApiKeyFormat("sk-sl-" + zeros + ReferenceChecksum(zeros)), ApiKeyFormat::kValid);
}

TEST(ApiKey, EverySingleCharacterTypoIsABadChecksum) {
  for (int round = 0; round < 5; ++round) {
    const std::string key = GenerateApiKey().secret;
    for (size_t pos = kApiKeyPrefix.size(); pos < key.size(); ++pos) {
      // Three different replacements per position: a neighbour, a case flip, a far digit.
      for (size_t shift : {size_t{1}, size_t{26}, size_t{61}}) {
        std::string typo = key;
        typo[pos] = kBase62[(kBase62.find(key[pos]) + shift) % 62];
        ASSERT_NE(typo, key);
        EXPECT_EQ(CheckApiKeyFormat(typo), ApiKeyFormat::kBadChecksum) << typo;
      }
    }
  }
}

TEST(ApiKey, EverySwapOfTwoNeighboursIsABadChecksum) {
  int swaps = 0;
  for (int round = 0; round < 5; ++round) {
    const std::string key = GenerateApiKey().secret;
    for (size_t pos = kApiKeyPrefix.size(); pos + 1 < key.size(); ++pos) {
      if (key[pos] == key[pos + 1]) continue;
      std::string swapped = key;
      std::swap(swapped[pos], swapped[pos + 1]);
      EXPECT_EQ(CheckApiKeyFormat(swapped), ApiKeyFormat::kBadChecksum) << swapped;
      ++swaps;
    }
  }
  EXPECT_GT(swaps, 200);
}

TEST(ApiKey, TruncatedOrExtendedKeysAreNotKeys) {
  const std::string key = GenerateApiKey().secret;
  for (size_t length = 0; length < key.size(); ++length) {
    EXPECT_EQ(CheckApiKeyFormat(key.substr(0, length)), ApiKeyFormat::kNotAKey) << length;
    EXPECT_EQ(CheckApiKeyFormat(key.substr(key.size() - length)), ApiKeyFormat::kNotAKey) << length;
  }
  EXPECT_EQ(CheckApiKeyFormat(key + "0"), ApiKeyFormat::kNotAKey);
  EXPECT_EQ(CheckApiKeyFormat(key + " "), ApiKeyFormat::kNotAKey);
  EXPECT_EQ(CheckApiKeyFormat(" " + key), ApiKeyFormat::kNotAKey);
}

TEST(ApiKey, ForeignPrefixesAndCharactersAreNotKeys) {
  const std::string key = GenerateApiKey().secret;
  const std::string rest = key.substr(6);
  for (const char* prefix :
       {"sk-sm-", "SK-SL-", "sk_sl_", "pk-sl-", "sk-SL-", "rt-sl-", "sk-sl.", "xsk-sl"}) {
    EXPECT_EQ(CheckApiKeyFormat(prefix + rest), ApiKeyFormat::kNotAKey) << prefix;
  }
  // The right length and prefix but a character outside base62, in the body or checksum.
  for (size_t pos : {size_t{6}, size_t{30}, size_t{48}, size_t{49}, size_t{54}}) {
    for (char bad : {'-', '_', '+', '/', '=', ' ', '\0', '\xC3'}) {
      std::string text = key;
      text[pos] = bad;
      EXPECT_EQ(CheckApiKeyFormat(text), ApiKeyFormat::kNotAKey) << pos << " " << int{bad};
    }
  }
  EXPECT_EQ(CheckApiKeyFormat(""), ApiKeyFormat::kNotAKey);
  EXPECT_EQ(CheckApiKeyFormat("sk-sl-"), ApiKeyFormat::kNotAKey);
  EXPECT_EQ(CheckApiKeyFormat("sk-proj-" + std::string(47, 'a')), ApiKeyFormat::kNotAKey);
}

TEST(ApiKey, Sha256HexKnownVectors) {
  struct Case {
    std::string input;
    std::string hex;
  };
  const std::vector<Case> cases = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"The quick brown fox jumps over the lazy dog",
       "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"},
      // Embedded NULs are hashed, not taken as the end of the text.
      {std::string("a\0b", 3), "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138"},
  };
  for (const Case& c : cases) EXPECT_EQ(Sha256Hex(c.input), c.hex) << c.input;
}

TEST(ApiKey, DisplayPrefixIsShortAndCannotBeUsed) {
  for (int i = 0; i < 50; ++i) {
    const std::string secret = GenerateApiKey().secret;
    const std::string shown = DisplayPrefix(secret);
    EXPECT_EQ(shown, secret.substr(0, 10) + "..." + secret.substr(51)) << shown;
    EXPECT_NE(shown, secret);
    EXPECT_LE(shown.size(), 17u);
    // At most 8 of the 49 random and checksum characters are shown.
    EXPECT_EQ(shown.find(secret.substr(10, 41)), std::string::npos);
    EXPECT_NE(CheckApiKeyFormat(shown), ApiKeyFormat::kValid);
  }
  // Short text shows nothing of itself.
  EXPECT_EQ(DisplayPrefix("sk-sl-abc"), "sk-sl-...");
  EXPECT_EQ(DisplayPrefix(""), "sk-sl-...");
}

TEST(ApiKey, NewIdIsKindUnderscoreAnd24HexDigits) {
  for (const char* kind : {"key", "usr", "team", "rt", "aud"}) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
      std::string id = NewId(kind);
      std::string expected_start = std::string(kind) + "_";
      ASSERT_EQ(id.size(), expected_start.size() + 24) << id;
      EXPECT_EQ(id.substr(0, expected_start.size()), expected_start);
      for (char c : id.substr(expected_start.size())) {
        EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
      }
      EXPECT_TRUE(seen.insert(id).second) << id;
    }
  }
}

TEST(ApiKey, RandomTokenIsUnpaddedBase64Url) {
  struct Case {
    size_t bytes;
    size_t chars;
  };
  for (Case c : {Case{0, 0}, Case{1, 2}, Case{2, 3}, Case{3, 4}, Case{32, 43}, Case{48, 64}}) {
    std::string token = RandomToken(c.bytes);
    EXPECT_EQ(token.size(), c.chars) << c.bytes;
    for (char ch : token) {
      EXPECT_TRUE(IsBase62(ch) || ch == '-' || ch == '_') << token;
    }
  }
  EXPECT_NE(RandomToken(32), RandomToken(32));
}

TEST(ApiKey, ConstantTimeEquals) {
  struct Case {
    std::string a;
    std::string b;
    bool equal;
  };
  const std::vector<Case> cases = {
      {"", "", true},
      {"a", "a", true},
      {"a", "b", false},
      {"abc", "abcd", false},
      {"abcd", "abc", false},
      {"abc", "abd", false},
      {"xbc", "abc", false},
      {std::string("a\0b", 3), std::string("a\0c", 3), false},
      {std::string("a\0b", 3), std::string("a\0b", 3), true},
      {std::string(64, 'f'), std::string(64, 'f'), true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ConstantTimeEquals(c.a, c.b), c.equal) << "'" << c.a << "' vs '" << c.b << "'";
  }
}

}  // namespace
}  // namespace sluice
