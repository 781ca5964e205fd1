// Base64url without padding: the RFC 4648 §10 vectors (padding removed), the URL alphabet
// ('-' and '_' for 62 and 63), every byte value round-tripping, and the strict decoder's
// refusals (padding, other alphabets, impossible lengths, non-canonical trailing bits).
#include <gtest/gtest.h>

#include <string>

#include "auth/jwt/jwt.h"

namespace sluice::jwt {
namespace {

TEST(Base64Url, Rfc4648Vectors) {
  const struct {
    std::string bytes;
    std::string text;
  } kCases[] = {
      {"", ""},
      {"f", "Zg"},
      {"fo", "Zm8"},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg"},
      {"fooba", "Zm9vYmE"},
      {"foobar", "Zm9vYmFy"},
      // The URL alphabet: standard base64 would give "+/8=" and "/w==".
      {"\xfb\xff", "-_8"},
      {"\xff", "_w"},
      {"\xfb\xef\xbe", "----"},
      {"\xff\xff\xff", "____"},
      {std::string("\0\0\0", 3), "AAAA"},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(Base64UrlEncode(c.bytes), c.text) << c.text;
    const auto decoded = Base64UrlDecode(c.text);
    ASSERT_TRUE(decoded.has_value()) << c.text;
    EXPECT_EQ(*decoded, c.bytes) << c.text;
  }
}

TEST(Base64Url, EveryByteRoundTrips) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= all.size(); len += 1) {
    const std::string bytes = all.substr(256 - len);
    const std::string text = Base64UrlEncode(bytes);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    EXPECT_EQ(Base64UrlDecode(text), bytes) << len;
  }
}

TEST(Base64Url, InvalidInputs) {
  const char* kCases[] = {
      "Zg==",        // padding
      "Zm8=",        // padding
      "Zg=",         // padding
      "Zm9v+w",      // standard alphabet
      "Zm9v/w",      // standard alphabet
      "Z",           // 6 bits cannot make a byte
      "Zm9vY",       // 4n+1 characters
      "Zh",          // non-canonical: trailing bits set
      "Zm9",         // non-canonical: trailing bits set ("Zm8" is canonical)
      "Zm 9",        // space
      "Zm9\n",       // newline
      "Zm9.",        // dot
      "Zm\xc3\xa9",  // non-ASCII
  };
  for (const char* text : kCases) {
    EXPECT_FALSE(Base64UrlDecode(text).has_value()) << text;
  }
  EXPECT_FALSE(Base64UrlDecode(std::string("Zm9\0", 4)).has_value());
}

}  // namespace
}  // namespace sluice::jwt
