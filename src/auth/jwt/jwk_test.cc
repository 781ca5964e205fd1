// Loading keys: JWKs (RSA, EC P-256, oct; public and private; the refusals the verifier
// relies on: other curves, short coordinates, "use":"enc", "alg" of another key type,
// points off the curve, short RSA moduli), PEM (SPKI, PKCS#8) and JWK Sets that mix
// usable and unusable keys.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json/serialize.hpp>

#include "auth/jwt/test_keys.h"

namespace sluice::jwt {
namespace {

namespace json = boost::json;
using testing::EcPair;
using testing::RsaPair;
using testing::WeakRsaPair;

json::object With(json::object jwk, std::string_view name, json::value value) {
  jwk[name] = std::move(value);
  return jwk;
}
json::value S(std::string_view text) { return json::value(text); }
json::object Without(json::object jwk, std::string_view name) {
  jwk.erase(name);
  return jwk;
}

TEST(Jwk, ValidKeys) {
  const json::object oct = {{"kty", "oct"}, {"k", Base64UrlEncode(testing::Secret())}};
  const struct {
    const char* name;
    json::object jwk;
    Algorithm alg;
    bool can_sign;
  } kCases[] = {
      {"rsa public", RsaPair().public_jwk, Algorithm::kRS256, false},
      {"rsa public, alg+use+kid",
       With(With(With(RsaPair().public_jwk, "alg", "RS256"), "use", "sig"), "kid", "r1"),
       Algorithm::kRS256, false},
      {"rsa private", RsaPair().private_jwk, Algorithm::kRS256, true},
      {"ec public", EcPair().public_jwk, Algorithm::kES256, false},
      {"ec public, alg ES256", With(EcPair().public_jwk, "alg", "ES256"), Algorithm::kES256, false},
      {"ec private", EcPair().private_jwk, Algorithm::kES256, true},
      {"ec key_ops verify", With(EcPair().public_jwk, "key_ops", json::array{"verify"}),
       Algorithm::kES256, false},
      {"oct", oct, Algorithm::kHS256, true},
      {"oct alg HS256", With(oct, "alg", "HS256"), Algorithm::kHS256, true},
  };
  for (const auto& c : kCases) {
    std::string error;
    const auto key = Key::FromJwk(c.jwk, &error);
    ASSERT_TRUE(key.has_value()) << c.name << ": " << error;
    EXPECT_EQ(key->algorithm(), c.alg) << c.name;
    EXPECT_EQ(key->can_sign(), c.can_sign) << c.name;
  }
  const auto with_kid = Key::FromJwk(With(EcPair().public_jwk, "kid", "key-2024"));
  ASSERT_TRUE(with_kid.has_value());
  EXPECT_EQ(with_kid->kid(), "key-2024");
}

TEST(Jwk, RefusedKeys) {
  const json::object oct = {{"kty", "oct"}, {"k", Base64UrlEncode(testing::Secret())}};
  const json::object ec = EcPair().public_jwk;
  const json::object rsa = RsaPair().public_jwk;
  const std::string x = std::string(ec.at("x").as_string());
  const std::string x_bytes = *Base64UrlDecode(x);
  // A point that is not on P-256: x of the real key with y = x.
  const json::object off_curve = With(ec, "y", json::value(x));
  std::string rsa_private_bad_d = std::string(RsaPair().private_jwk.at("d").as_string());
  rsa_private_bad_d[10] = rsa_private_bad_d[10] == 'A' ? 'B' : 'A';
  const struct {
    const char* name;
    json::object jwk;
  } kCases[] = {
      {"no kty", Without(ec, "kty")},
      {"unknown kty", With(ec, "kty", "OKP")},
      {"kty not a string", With(ec, "kty", 3)},
      {"wrong crv P-384", With(ec, "crv", "P-384")},
      {"wrong crv secp256k1", With(ec, "crv", "secp256k1")},
      {"missing crv", Without(ec, "crv")},
      {"short x (31 bytes)", With(ec, "x", S(Base64UrlEncode(x_bytes.substr(1))))},
      {"long x (33 bytes)", With(ec, "x", S(Base64UrlEncode('\0' + x_bytes)))},
      {"missing y", Without(ec, "y")},
      {"point off the curve", off_curve},
      {"x not base64url", With(ec, "x", S(x + "="))},
      {"use enc", With(ec, "use", "enc")},
      {"use not a string", With(ec, "use", true)},
      {"key_ops encrypt only", With(ec, "key_ops", json::array{"encrypt"})},
      {"ec with alg RS256", With(ec, "alg", "RS256")},
      {"ec with alg ES384", With(ec, "alg", "ES384")},
      {"rsa with alg HS256", With(rsa, "alg", "HS256")},
      {"rsa with alg none", With(rsa, "alg", "none")},
      {"oct with alg RS256", With(oct, "alg", "RS256")},
      {"rsa without n", Without(rsa, "n")},
      {"rsa without e", Without(rsa, "e")},
      {"rsa 1024 bits", WeakRsaPair().public_jwk},
      {"rsa private without CRT", Without(RsaPair().private_jwk, "qi")},
      {"rsa private with a wrong d", With(RsaPair().private_jwk, "d", S(rsa_private_bad_d))},
      {"ec private d of 31 bytes",
       With(EcPair().private_jwk, "d", S(Base64UrlEncode(std::string(31, '\x01'))))},
      {"ec private d of another key",
       With(EcPair().public_jwk, "d", EcPair(1).private_jwk.at("d"))},
      {"oct 31 bytes", With(oct, "k", S(Base64UrlEncode(testing::Secret('s', 31))))},
      {"oct without k", Without(oct, "k")},
      {"kid not a string", With(ec, "kid", 7)},
  };
  for (const auto& c : kCases) {
    std::string error;
    EXPECT_FALSE(Key::FromJwk(c.jwk, &error).has_value()) << c.name;
    EXPECT_FALSE(error.empty()) << c.name;
  }
}

TEST(JwkPem, PublicAndPrivateKeys) {
  const struct {
    const char* name;
    std::string pem;
    Algorithm alg;
    bool can_sign;
  } kCases[] = {
      {"rsa spki", RsaPair().public_pem, Algorithm::kRS256, false},
      {"rsa pkcs8", RsaPair().private_pem, Algorithm::kRS256, true},
      {"ec spki", EcPair().public_pem, Algorithm::kES256, false},
      {"ec pkcs8", EcPair().private_pem, Algorithm::kES256, true},
  };
  for (const auto& c : kCases) {
    std::string error;
    const auto key = Key::FromPem(c.pem, "k1", &error);
    ASSERT_TRUE(key.has_value()) << c.name << ": " << error;
    EXPECT_EQ(key->algorithm(), c.alg) << c.name;
    EXPECT_EQ(key->can_sign(), c.can_sign) << c.name;
    EXPECT_EQ(key->kid(), "k1");
  }
}

TEST(JwkPem, RefusedKeys) {
  // A P-384 key generated here: other curves are refused.
  EVP_PKEY* p384 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  ASSERT_NE(p384, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio, p384), 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  const std::string p384_pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(p384);

  const struct {
    const char* name;
    std::string pem;
  } kCases[] = {
      {"rsa 1024 public", WeakRsaPair().public_pem},
      {"rsa 1024 private", WeakRsaPair().private_pem},
      {"ec p-384", p384_pem},
      {"garbage", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"},
      {"empty", ""},
      {"der instead of pem", RsaPair().public_der},
  };
  for (const auto& c : kCases) {
    std::string error;
    EXPECT_FALSE(Key::FromPem(c.pem, "", &error).has_value()) << c.name;
    EXPECT_FALSE(error.empty()) << c.name;
  }
}

TEST(JwkSecret, ShortSecretsRefused) {
  EXPECT_FALSE(Key::FromSecret(testing::Secret('s', 31)).has_value());
  const auto key = Key::FromSecret(testing::Secret('s', 32), "hs");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->algorithm(), Algorithm::kHS256);
  EXPECT_TRUE(key->can_sign());
}

TEST(JwkSet, MixOfGoodAndBadKeys) {
  json::array keys;
  keys.push_back(With(RsaPair().public_jwk, "kid", "rsa-good"));
  keys.push_back(With(With(EcPair().public_jwk, "kid", "ec-enc"), "use", "enc"));
  keys.push_back(With(EcPair().public_jwk, "kid", "ec-good"));
  keys.push_back(With(With(EcPair().public_jwk, "kid", "ec-384"), "crv", "P-384"));
  keys.push_back("not an object");
  keys.push_back(With(WeakRsaPair().public_jwk, "kid", "rsa-weak"));
  const std::string doc = json::serialize(json::object{{"keys", keys}});

  std::vector<std::string> skipped;
  const auto set = KeySet::ParseJwks(doc, &skipped);
  ASSERT_TRUE(set.has_value());
  EXPECT_EQ(set->size(), 2u);
  ASSERT_NE(set->Find("rsa-good"), nullptr);
  EXPECT_EQ(set->Find("rsa-good")->algorithm(), Algorithm::kRS256);
  ASSERT_NE(set->Find("ec-good"), nullptr);
  EXPECT_EQ(set->Find("ec-enc"), nullptr);
  EXPECT_EQ(set->Find("nope"), nullptr);
  EXPECT_EQ(set->Find(""), nullptr);  // two keys: an empty kid is ambiguous
  ASSERT_EQ(skipped.size(), 4u);
  EXPECT_NE(skipped[0].find("ec-enc"), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[1].find("ec-384"), std::string::npos) << skipped[1];
  EXPECT_NE(skipped[2].find("keys[4]"), std::string::npos) << skipped[2];
  EXPECT_NE(skipped[3].find("rsa-weak"), std::string::npos) << skipped[3];
}

TEST(JwkSet, NotAJwkSet) {
  for (const char* doc : {"", "[]", "{}", "{\"keys\":{}}", "{\"keys\":", "null", "{\"keys\":3}"}) {
    EXPECT_FALSE(KeySet::ParseJwks(doc, nullptr).has_value()) << doc;
  }
  const auto empty = KeySet::ParseJwks("{\"keys\":[]}", nullptr);
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->size(), 0u);
}

TEST(JwkSet, SingleKeyFoundByEmptyKid) {
  KeySet set;
  set.Add(testing::HmacKey("only"));
  ASSERT_NE(set.Find(""), nullptr);
  EXPECT_EQ(set.Find("")->kid(), "only");
  EXPECT_EQ(set.Find("other"), nullptr);
}

}  // namespace
}  // namespace sluice::jwt
