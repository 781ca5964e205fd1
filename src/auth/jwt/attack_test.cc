// The JWT attack suite, one row per attack: "none", HS256 keyed with the RSA public key
// (alg confusion), unknown kid, jku / jwk / x5u / x5c headers with the attacker's key,
// expiry and nbf at the leeway boundary, wrong iss and aud, tampering, truncation, foreign
// keys of the same type, structural tricks (empty / extra parts, padding, non-JSON, crit),
// and an ES256 signature in DER form. Every row states the exact error; control rows show
// the same setup accepts the honest token, so a row cannot pass by accident.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/json/serialize.hpp>

#include "auth/jwt/key_impl.h"
#include "auth/jwt/test_keys.h"

namespace sluice::jwt {
namespace {

namespace json = boost::json;
using testing::kNow;
using testing::RawToken;

std::string Claims(json::object changes = {}, std::initializer_list<const char*> remove = {}) {
  json::object claims = testing::StandardClaims();
  for (const auto& [name, value] : changes) claims[name] = value;
  for (const char* name : remove) claims.erase(name);
  return json::serialize(claims);
}

std::string Header(std::string_view alg, std::string_view kid, json::object extra = {}) {
  json::object header = {{"alg", alg}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = kid;
  for (const auto& [name, value] : extra) header[name] = value;
  return json::serialize(header);
}

// ES256 over `input` as OpenSSL produces it (DER), not as JWS requires (raw r||s).
std::string DerEs256Signature(const Key& signer, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string sig(80, '\0');
  len = sig.size();
  const bool ok =
      EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr,
                            Access::Get(signer)->pkey.get(), nullptr) == 1 &&
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EXPECT_TRUE(ok);
  sig.resize(len);
  return sig;
}

std::string ReplacePart(const std::string& token, int index, std::string_view part) {
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.find('.', dot1 + 1);
  std::string parts[3] = {token.substr(0, dot1), token.substr(dot1 + 1, dot2 - dot1 - 1),
                          token.substr(dot2 + 1)};
  parts[index] = std::string(part);
  return parts[0] + "." + parts[1] + "." + parts[2];
}

std::string Part(const std::string& token, int index) {
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.find('.', dot1 + 1);
  if (index == 0) return token.substr(0, dot1);
  if (index == 1) return token.substr(dot1 + 1, dot2 - dot1 - 1);
  return token.substr(dot2 + 1);
}

Policy Only(std::initializer_list<Algorithm> algorithms) {
  Policy policy = testing::StandardPolicy();
  policy.algorithms = algorithms;
  return policy;
}

struct Attack {
  std::string name;
  std::string token;
  Policy policy;
  VerifyError expected;
};

TEST(JwtAttack, Table) {
  // The configured keys: the gateway trusts rsa-1, ec-1 and hs-1.
  KeySet keys;
  keys.Add(testing::RsaVerifier(0, "rsa-1"));
  keys.Add(testing::EcVerifier(0, "ec-1"));
  keys.Add(testing::HmacKey("hs-1"));
  const Key rsa = testing::RsaSigner(0, "rsa-1");
  const Key ec = testing::EcSigner(0, "ec-1");
  const Key hs = testing::HmacKey("hs-1");
  // The attacker's own keys of every type.
  const Key evil_rsa = testing::RsaSigner(1, "rsa-1");
  const Key evil_ec = testing::EcSigner(1, "ec-1");
  const Key evil_hs = testing::HmacKey("hs-1", 'e');
  // HMAC keys made of the victim's public key bytes (PEM and DER).
  const Key rsa_pem_as_secret =
      testing::MustKey(Key::FromSecret(testing::RsaPair().public_pem, "rsa-1"), "PEM as secret");
  const Key rsa_der_as_secret =
      testing::MustKey(Key::FromSecret(testing::RsaPair().public_der, "rsa-1"), "DER as secret");
  const Key ec_pem_as_secret =
      testing::MustKey(Key::FromSecret(testing::EcPair().public_pem, "ec-1"), "EC PEM as secret");

  const Policy all = testing::StandardPolicy();
  const Policy rs_only = Only({Algorithm::kRS256});
  const Policy hs_rs = Only({Algorithm::kHS256, Algorithm::kRS256});
  const std::string claims = Claims();
  const std::string good_rs = RawToken(Header("RS256", "rsa-1"), claims, rsa);
  const std::string good_es = RawToken(Header("ES256", "ec-1"), claims, ec);
  const std::string good_hs = RawToken(Header("HS256", "hs-1"), claims, hs);
  const std::string es_input = Part(good_es, 0) + "." + Part(good_es, 1);

  std::string tampered_payload = claims;
  tampered_payload[tampered_payload.find("user-1234") + 8] = '5';  // user-1235
  const std::string sig_rs = Part(good_rs, 2);

  const std::vector<Attack> kAttacks = {
      // Controls: the honest tokens pass with these very keys and policies.
      {"control RS256", good_rs, all, VerifyError::kNone},
      {"control RS256, RS256-only policy", good_rs, rs_only, VerifyError::kNone},
      {"control ES256", good_es, all, VerifyError::kNone},
      {"control HS256", good_hs, hs_rs, VerifyError::kNone},

      // alg "none" in its spellings, with an empty and with a garbage signature.
      {"alg none", RawToken(Header("none", ""), claims, ""), all,
       VerifyError::kUnsupportedAlgorithm},
      {"alg None", RawToken(Header("None", ""), claims, ""), all,
       VerifyError::kUnsupportedAlgorithm},
      {"alg NONE", RawToken(Header("NONE", ""), claims, ""), all,
       VerifyError::kUnsupportedAlgorithm},
      {"alg nOnE with kid", RawToken(Header("nOnE", "rsa-1"), claims, ""), all,
       VerifyError::kUnsupportedAlgorithm},
      {"alg none with a signature", RawToken(Header("none", "rsa-1"), claims, "sig"), all,
       VerifyError::kUnsupportedAlgorithm},

      // Alg confusion: HS256 keyed with the RSA public key's bytes.
      {"HS256 with RSA PEM as secret, RS256-only policy",
       RawToken(Header("HS256", "rsa-1"), claims, rsa_pem_as_secret), rs_only,
       VerifyError::kAlgorithmNotAllowed},
      {"HS256 with RSA PEM as secret, HS256+RS256 policy",
       RawToken(Header("HS256", "rsa-1"), claims, rsa_pem_as_secret), hs_rs,
       VerifyError::kKeyMismatch},
      {"HS256 with RSA DER as secret, HS256+RS256 policy",
       RawToken(Header("HS256", "rsa-1"), claims, rsa_der_as_secret), hs_rs,
       VerifyError::kKeyMismatch},
      {"HS256 with EC PEM as secret, all algorithms",
       RawToken(Header("HS256", "ec-1"), claims, ec_pem_as_secret), all, VerifyError::kKeyMismatch},
      {"RS256 signature relabelled HS256",
       ReplacePart(good_rs, 0, Base64UrlEncode(Header("HS256", "rsa-1"))), hs_rs,
       VerifyError::kKeyMismatch},
      {"RS256 header naming the HMAC key", RawToken(Header("RS256", "hs-1"), claims, evil_rsa), all,
       VerifyError::kKeyMismatch},
      {"ES256 header naming the RSA key", RawToken(Header("ES256", "rsa-1"), claims, evil_ec), all,
       VerifyError::kKeyMismatch},

      // Key selection only by kid from the configured set.
      {"unknown kid", RawToken(Header("RS256", "rotated-away"), claims, evil_rsa), all,
       VerifyError::kUnknownKey},
      {"no kid with several keys", RawToken(Header("RS256", ""), claims, rsa), all,
       VerifyError::kUnknownKey},
      {"jku to the attacker's JWKS, attacker kid",
       RawToken(Header("RS256", "evil", {{"jku", "https://evil.example/jwks.json"}}), claims,
                evil_rsa),
       all, VerifyError::kUnknownKey},
      {"jku to the attacker's JWKS, our kid",
       RawToken(Header("RS256", "rsa-1", {{"jku", "https://evil.example/jwks.json"}}), claims,
                evil_rsa),
       all, VerifyError::kBadSignature},
      {"embedded jwk (RSA) with the attacker's key",
       RawToken(Header("RS256", "rsa-1", {{"jwk", testing::RsaPair(1).public_jwk}}), claims,
                evil_rsa),
       all, VerifyError::kBadSignature},
      {"embedded jwk (EC), no kid",
       RawToken(Header("ES256", "", {{"jwk", testing::EcPair(1).public_jwk}}), claims, evil_ec),
       all, VerifyError::kUnknownKey},
      {"embedded jwk (EC) with our kid",
       RawToken(Header("ES256", "ec-1", {{"jwk", testing::EcPair(1).public_jwk}}), claims, evil_ec),
       all, VerifyError::kBadSignature},
      {"x5u and x5c headers",
       RawToken(Header("RS256", "rsa-1",
                       {{"x5u", "https://evil.example/cert.pem"}, {"x5c", json::array{"MIIB"}}}),
                claims, evil_rsa),
       all, VerifyError::kBadSignature},

      // Another key of the same type.
      {"RS256 from another RSA key", RawToken(Header("RS256", "rsa-1"), claims, evil_rsa), all,
       VerifyError::kBadSignature},
      {"ES256 from another EC key", RawToken(Header("ES256", "ec-1"), claims, evil_ec), all,
       VerifyError::kBadSignature},
      {"HS256 from another secret", RawToken(Header("HS256", "hs-1"), claims, evil_hs), all,
       VerifyError::kBadSignature},

      // Time, at the leeway boundary (leeway 60 s).
      {"expired: exp = now - leeway - 1",
       RawToken(Header("RS256", "rsa-1"), Claims({{"exp", kNow - 61}}), rsa), all,
       VerifyError::kExpired},
      {"valid: exp = now - leeway + 1",
       RawToken(Header("RS256", "rsa-1"), Claims({{"exp", kNow - 59}}), rsa), all,
       VerifyError::kNone},
      {"not yet valid: nbf = now + leeway + 1",
       RawToken(Header("RS256", "rsa-1"), Claims({{"nbf", kNow + 61}}), rsa), all,
       VerifyError::kNotYetValid},
      {"valid: nbf = now + leeway - 1",
       RawToken(Header("RS256", "rsa-1"), Claims({{"nbf", kNow + 59}}), rsa), all,
       VerifyError::kNone},
      {"missing exp", RawToken(Header("RS256", "rsa-1"), Claims({}, {"exp"}), rsa), all,
       VerifyError::kMissingClaim},

      // Issuer, audience, required claims.
      {"wrong iss", RawToken(Header("ES256", "ec-1"), Claims({{"iss", "https://evil/"}}), ec), all,
       VerifyError::kWrongIssuer},
      {"wrong aud (string)", RawToken(Header("ES256", "ec-1"), Claims({{"aud", "other"}}), ec), all,
       VerifyError::kWrongAudience},
      {"wrong aud (array)",
       RawToken(Header("ES256", "ec-1"), Claims({{"aud", json::array{"other", "x"}}}), ec), all,
       VerifyError::kWrongAudience},

      // Tampering and truncation.
      {"tampered payload (one byte)", ReplacePart(good_rs, 1, Base64UrlEncode(tampered_payload)),
       all, VerifyError::kBadSignature},
      {"tampered header (kid of the same key set)",
       ReplacePart(good_es, 0, Base64UrlEncode(Header("ES256", "ec-1", {{"x", 1}}))), all,
       VerifyError::kBadSignature},
      {"truncated RS256 signature (255 bytes)",
       ReplacePart(good_rs, 2, Base64UrlEncode(Base64UrlDecode(sig_rs)->substr(0, 255))), all,
       VerifyError::kBadSignature},
      {"truncated ES256 signature (63 bytes)",
       ReplacePart(good_es, 2, Base64UrlEncode(Base64UrlDecode(Part(good_es, 2))->substr(0, 63))),
       all, VerifyError::kBadSignature},
      {"ES256 signature in DER form",
       ReplacePart(good_es, 2, Base64UrlEncode(DerEs256Signature(ec, es_input))), all,
       VerifyError::kBadSignature},
      {"ES256 signature of zeros", ReplacePart(good_es, 2, Base64UrlEncode(std::string(64, '\0'))),
       all, VerifyError::kBadSignature},
      {"HS256 signature of the wrong length", ReplacePart(good_hs, 2, Base64UrlEncode("short")),
       all, VerifyError::kBadSignature},

      // Structure.
      {"empty token", "", all, VerifyError::kMalformed},
      {"two dots only", "..", all, VerifyError::kMalformed},
      {"empty header", ReplacePart(good_rs, 0, ""), all, VerifyError::kMalformed},
      {"empty payload", ReplacePart(good_rs, 1, ""), all, VerifyError::kMalformed},
      {"empty signature", ReplacePart(good_rs, 2, ""), all, VerifyError::kMalformed},
      {"two parts", Part(good_rs, 0) + "." + Part(good_rs, 1), all, VerifyError::kMalformed},
      {"extra part", good_rs + ".e30", all, VerifyError::kMalformed},
      {"five parts (JWE shape)", good_rs + ".a.b", all, VerifyError::kMalformed},
      {"padding on the signature", good_rs + "==", all, VerifyError::kMalformed},
      {"padding on the header",
       ReplacePart(good_hs, 0, Base64UrlEncode(Header("HS256", "hs-1")) + "="), all,
       VerifyError::kMalformed},
      {"standard base64 alphabet", ReplacePart(good_rs, 2, "+/" + sig_rs.substr(2)), all,
       VerifyError::kMalformed},
      {"whitespace in the token", " " + good_rs, all, VerifyError::kMalformed},
      {"non-JSON header", RawToken("not json", claims, rsa), all, VerifyError::kMalformed},
      {"header is a JSON string", RawToken("\"RS256\"", claims, rsa), all, VerifyError::kMalformed},
      {"crit header",
       RawToken(Header("RS256", "rsa-1", {{"crit", json::array{"exp"}}, {"exp", 1}}), claims, rsa),
       all, VerifyError::kMalformed},
      {"oversized token (16 KiB + 1)",
       RawToken(Header("RS256", "rsa-1"), Claims({{"pad", std::string(12300, 'x')}}), rsa), all,
       VerifyError::kMalformed},
  };

  for (const Attack& a : kAttacks) {
    const VerifyResult result = Verify(a.token, a.policy, keys, kNow);
    EXPECT_EQ(result.error, a.expected) << a.name << ": got " << Describe(result.error);
    EXPECT_EQ(result.token.has_value(), a.expected == VerifyError::kNone) << a.name;
  }
}

// With the RSA key as the only key, a token without kid selects it; HS256 keyed with its
// public bytes must still never be verified as HMAC, whatever the policy allows.
TEST(JwtAttack, AlgConfusionWithASingleKeyAndNoKid) {
  KeySet keys;
  keys.Add(testing::RsaVerifier(0, ""));
  const std::string claims = Claims();
  for (const std::string& secret : {testing::RsaPair().public_pem, testing::RsaPair().public_der}) {
    const Key hmac = testing::MustKey(Key::FromSecret(secret), "secret");
    const std::string token = RawToken(Header("HS256", ""), claims, hmac);
    EXPECT_EQ(Verify(token, testing::StandardPolicy(), keys, kNow).error,
              VerifyError::kKeyMismatch);
    EXPECT_EQ(Verify(token, Only({Algorithm::kRS256}), keys, kNow).error,
              VerifyError::kAlgorithmNotAllowed);
  }
  // Control: the honest RS256 token without kid passes.
  EXPECT_EQ(Verify(RawToken(Header("RS256", ""), claims, testing::RsaSigner(0, "")),
                   testing::StandardPolicy(), keys, kNow)
                .error,
            VerifyError::kNone);
}

// An empty policy allows nothing, even a perfectly signed token.
TEST(JwtAttack, EmptyPolicyAllowsNothing) {
  KeySet keys;
  keys.Add(testing::HmacKey("hs-1"));
  Policy policy = testing::StandardPolicy();
  policy.algorithms.clear();
  EXPECT_EQ(
      Verify(Sign(testing::StandardClaims(), testing::HmacKey("hs-1")), policy, keys, kNow).error,
      VerifyError::kAlgorithmNotAllowed);
}

TEST(JwtAttack, ShortRsaKeysRefusedAtLoad) {
  std::string error;
  EXPECT_FALSE(Key::FromPem(testing::WeakRsaPair().public_pem, "weak", &error).has_value());
  EXPECT_NE(error.find("2048"), std::string::npos) << error;
  EXPECT_FALSE(Key::FromPem(testing::WeakRsaPair().private_pem, "weak").has_value());
  EXPECT_FALSE(Key::FromJwk(testing::WeakRsaPair().public_jwk).has_value());
}

}  // namespace
}  // namespace sluice::jwt
