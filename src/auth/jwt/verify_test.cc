// Verify() on well-signed tokens: Sign → Verify round trips for HS256/RS256/ES256, the
// claim rules (exp required, nbf, iat, leeway boundaries, NumericDate forms, iss, aud as
// string or array, required claims) and the header rules (typ, kid, alg names).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "auth/jwt/test_keys.h"

namespace sluice::jwt {
namespace {

namespace json = boost::json;
using testing::kNow;

KeySet AllKeys() {
  KeySet keys;
  keys.Add(testing::RsaVerifier());
  keys.Add(testing::EcVerifier());
  keys.Add(testing::HmacKey());
  return keys;
}

TEST(JwtRoundTrip, SignThenVerify) {
  const struct {
    const char* name;
    Key signer;
    Algorithm alg;
    const char* header;
  } kCases[] = {
      {"HS256", testing::HmacKey(), Algorithm::kHS256,
       R"({"alg":"HS256","typ":"JWT","kid":"hs-1"})"},
      {"RS256", testing::RsaSigner(), Algorithm::kRS256,
       R"({"alg":"RS256","typ":"JWT","kid":"rsa-1"})"},
      {"ES256", testing::EcSigner(), Algorithm::kES256,
       R"({"alg":"ES256","typ":"JWT","kid":"ec-1"})"},
  };
  const KeySet keys = AllKeys();
  const json::object claims = testing::StandardClaims();
  for (const auto& c : kCases) {
    const std::string token = Sign(claims, c.signer);
    ASSERT_FALSE(token.empty()) << c.name;
    const size_t dot = token.find('.');
    EXPECT_EQ(Base64UrlDecode(token.substr(0, dot)), c.header) << c.name;
    // Claims are serialised in the order given.
    EXPECT_EQ(Base64UrlDecode(token.substr(dot + 1, token.rfind('.') - dot - 1)),
              json::serialize(claims))
        << c.name;

    const VerifyResult result = Verify(token, testing::StandardPolicy(), keys, kNow);
    ASSERT_EQ(result.error, VerifyError::kNone) << c.name << ": " << Describe(result.error);
    ASSERT_TRUE(result.token.has_value());
    const VerifiedToken& t = *result.token;
    EXPECT_EQ(t.algorithm, c.alg);
    EXPECT_EQ(t.kid, c.signer.kid());
    EXPECT_EQ(t.issuer, testing::kIssuer);
    EXPECT_EQ(t.subject, "user-1234");
    EXPECT_EQ(t.jti, "5f0c2a8e-77c4-4f36-9d1c-0d5b2f0f6a11");
    EXPECT_EQ(t.expires_at, kNow + 300);
    EXPECT_EQ(t.issued_at, kNow);
    EXPECT_EQ(t.not_before, 0);
    EXPECT_EQ(t.claims, claims);
  }
}

TEST(JwtRoundTrip, SignatureSizes) {
  const json::object claims = testing::StandardClaims();
  auto signature_bytes = [](const std::string& token) {
    return Base64UrlDecode(std::string_view(token).substr(token.rfind('.') + 1))->size();
  };
  EXPECT_EQ(signature_bytes(Sign(claims, testing::HmacKey())), 32u);
  EXPECT_EQ(signature_bytes(Sign(claims, testing::RsaSigner())), 256u);
  EXPECT_EQ(signature_bytes(Sign(claims, testing::EcSigner())), 64u);  // raw r||s
  // HS256 and RS256 are deterministic.
  EXPECT_EQ(Sign(claims, testing::RsaSigner()), Sign(claims, testing::RsaSigner()));
}

TEST(JwtRoundTrip, PublicKeysAndEmptyKidCannotSign) {
  EXPECT_TRUE(Sign(testing::StandardClaims(), testing::RsaVerifier()).empty());
  EXPECT_TRUE(Sign(testing::StandardClaims(), testing::EcVerifier()).empty());
  EXPECT_TRUE(Sign(testing::StandardClaims(), Key()).empty());
  // A key without kid signs a header without kid, and a one-key set finds it.
  const Key no_kid = testing::MustKey(Key::FromPem(testing::EcPair().private_pem), "EC");
  const std::string token = Sign(testing::StandardClaims(), no_kid);
  EXPECT_EQ(Base64UrlDecode(token.substr(0, token.find('.'))), R"({"alg":"ES256","typ":"JWT"})");
  KeySet one;
  one.Add(testing::EcVerifier(0, ""));
  EXPECT_EQ(Verify(token, testing::StandardPolicy(), one, kNow).error, VerifyError::kNone);
}

// One claim changed from StandardClaims(); the table is the claim specification.
TEST(JwtClaims, Table) {
  const json::value kAbsent = json::value("<absent>");
  const struct {
    const char* name;
    const char* claim;
    json::value value;  // kAbsent: the claim is removed
    VerifyError expected;
  } kCases[] = {
      // exp: required; leeway 60 s; expired when now - leeway > exp.
      {"exp missing", "exp", kAbsent, VerifyError::kMissingClaim},
      {"exp = now - leeway - 1", "exp", kNow - 61, VerifyError::kExpired},
      {"exp = now - leeway", "exp", kNow - 60, VerifyError::kNone},
      {"exp = now - leeway + 1", "exp", kNow - 59, VerifyError::kNone},
      {"exp as double", "exp", kNow + 0.5, VerifyError::kNone},
      {"exp as double, expired (rounds down)", "exp", kNow - 60 - 0.5, VerifyError::kExpired},
      {"exp as string", "exp", "1700000300", VerifyError::kMalformed},
      {"exp as bool", "exp", true, VerifyError::kMalformed},
      {"exp null", "exp", nullptr, VerifyError::kMalformed},
      {"exp infinite-ish", "exp", 1e300, VerifyError::kMalformed},
      {"exp beyond int64", "exp", json::value(uint64_t{18446744073709551615u}),
       VerifyError::kMalformed},
      {"exp far future", "exp", int64_t{9'000'000'000'000'000'000}, VerifyError::kNone},
      // nbf: optional; not yet valid when now + leeway < nbf.
      {"nbf = now + leeway + 1", "nbf", kNow + 61, VerifyError::kNotYetValid},
      {"nbf = now + leeway", "nbf", kNow + 60, VerifyError::kNone},
      {"nbf = now + leeway - 1", "nbf", kNow + 59, VerifyError::kNone},
      {"nbf as double (rounds up)", "nbf", kNow + 60.25, VerifyError::kNotYetValid},
      {"nbf as string", "nbf", "soon", VerifyError::kMalformed},
      // iat in the future beyond the leeway.
      {"iat = now + leeway + 1", "iat", kNow + 61, VerifyError::kNotYetValid},
      {"iat = now + leeway - 1", "iat", kNow + 59, VerifyError::kNone},
      {"iat missing", "iat", kAbsent, VerifyError::kNone},
      {"iat as object", "iat", json::object{}, VerifyError::kMalformed},
      // iss.
      {"iss wrong", "iss", "https://evil.example.com/", VerifyError::kWrongIssuer},
      {"iss differs in case", "iss", "HTTPS://IDP.EXAMPLE.COM/", VerifyError::kWrongIssuer},
      {"iss missing", "iss", kAbsent, VerifyError::kWrongIssuer},
      {"iss not a string", "iss", 42, VerifyError::kMalformed},
      // aud: a string or an array of strings.
      {"aud wrong string", "aud", "other-api", VerifyError::kWrongAudience},
      {"aud array without ours", "aud", json::array{"a", "b"}, VerifyError::kWrongAudience},
      {"aud array with ours", "aud", json::array{"a", "sluice"}, VerifyError::kNone},
      {"aud empty array", "aud", json::array{}, VerifyError::kWrongAudience},
      {"aud missing", "aud", kAbsent, VerifyError::kWrongAudience},
      {"aud number", "aud", 1, VerifyError::kMalformed},
      {"aud array with a number", "aud", json::array{"sluice", 1}, VerifyError::kMalformed},
      // sub and jti must be strings when present.
      {"sub not a string", "sub", 1234, VerifyError::kMalformed},
      {"jti not a string", "jti", json::array{}, VerifyError::kMalformed},
      {"sub missing", "sub", kAbsent, VerifyError::kNone},
  };
  const Key key = testing::HmacKey();
  KeySet keys;
  keys.Add(key);
  for (const auto& c : kCases) {
    json::object claims = testing::StandardClaims();
    if (c.value == kAbsent) {
      claims.erase(c.claim);
    } else {
      claims[c.claim] = c.value;
    }
    const VerifyResult result = Verify(Sign(claims, key), testing::StandardPolicy(), keys, kNow);
    EXPECT_EQ(result.error, c.expected) << c.name << ": got " << Describe(result.error);
    EXPECT_EQ(result.token.has_value(), c.expected == VerifyError::kNone) << c.name;
  }
}

TEST(JwtClaims, RequiredClaimsAndUncheckedPolicy) {
  const Key key = testing::HmacKey();
  KeySet keys;
  keys.Add(key);
  Policy policy = testing::StandardPolicy();
  policy.required_claims = {"team", "tenant"};
  json::object claims = testing::StandardClaims();
  EXPECT_EQ(Verify(Sign(claims, key), policy, keys, kNow).error, VerifyError::kMissingClaim);
  claims["tenant"] = nullptr;  // present is enough
  EXPECT_EQ(Verify(Sign(claims, key), policy, keys, kNow).error, VerifyError::kNone);

  // An empty issuer and audience list check nothing; exp is still required.
  Policy lax;
  lax.algorithms = {Algorithm::kHS256};
  const json::object minimal = {{"exp", kNow + 10}};
  EXPECT_EQ(Verify(Sign(minimal, key), lax, keys, kNow).error, VerifyError::kNone);
  EXPECT_EQ(Verify(Sign(json::object{{"sub", "x"}}, key), lax, keys, kNow).error,
            VerifyError::kMissingClaim);
  // Zero leeway: exp == now is the last valid second.
  lax.leeway = std::chrono::seconds(0);
  EXPECT_EQ(Verify(Sign(json::object{{"exp", kNow}}, key), lax, keys, kNow).error,
            VerifyError::kNone);
  EXPECT_EQ(Verify(Sign(json::object{{"exp", kNow - 1}}, key), lax, keys, kNow).error,
            VerifyError::kExpired);
}

TEST(JwtHeader, Table) {
  const std::string payload = json::serialize(testing::StandardClaims());
  const struct {
    const char* name;
    const char* header;
    VerifyError expected;
  } kCases[] = {
      {"minimal", R"({"alg":"HS256","kid":"hs-1"})", VerifyError::kNone},
      {"typ JWT", R"({"alg":"HS256","kid":"hs-1","typ":"JWT"})", VerifyError::kNone},
      {"typ jwt", R"({"alg":"HS256","kid":"hs-1","typ":"jwt"})", VerifyError::kNone},
      {"typ at+jwt", R"({"alg":"HS256","kid":"hs-1","typ":"at+jwt"})", VerifyError::kNone},
      {"typ application/at+jwt", R"({"alg":"HS256","kid":"hs-1","typ":"application/at+JWT"})",
       VerifyError::kNone},
      {"typ JOSE", R"({"alg":"HS256","kid":"hs-1","typ":"JOSE"})", VerifyError::kMalformed},
      {"typ logout+jwt", R"({"alg":"HS256","kid":"hs-1","typ":"logout+jwt"})",
       VerifyError::kMalformed},
      {"typ dpop+jwt", R"({"alg":"HS256","kid":"hs-1","typ":"dpop+jwt"})", VerifyError::kMalformed},
      {"typ number", R"({"alg":"HS256","kid":"hs-1","typ":1})", VerifyError::kMalformed},
      {"kid number", R"({"alg":"HS256","kid":1})", VerifyError::kMalformed},
      {"alg missing", R"({"kid":"hs-1"})", VerifyError::kMalformed},
      {"alg number", R"({"alg":256,"kid":"hs-1"})", VerifyError::kMalformed},
      {"alg lower case", R"({"alg":"hs256","kid":"hs-1"})", VerifyError::kUnsupportedAlgorithm},
      {"alg HS512", R"({"alg":"HS512","kid":"hs-1"})", VerifyError::kUnsupportedAlgorithm},
      {"alg PS256", R"({"alg":"PS256","kid":"hs-1"})", VerifyError::kUnsupportedAlgorithm},
      {"header array", R"(["HS256"])", VerifyError::kMalformed},
      {"header trailing garbage", R"({"alg":"HS256","kid":"hs-1"}x)", VerifyError::kMalformed},
      {"header nested 40 deep",
       R"({"alg":"HS256","kid":"hs-1","x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})",
       VerifyError::kMalformed},
  };
  const Key key = testing::HmacKey();
  KeySet keys;
  keys.Add(key);
  for (const auto& c : kCases) {
    const VerifyResult result =
        Verify(testing::RawToken(c.header, payload, key), testing::StandardPolicy(), keys, kNow);
    EXPECT_EQ(result.error, c.expected) << c.name << ": got " << Describe(result.error);
  }
}

TEST(JwtHeader, PayloadMustBeASignedObject) {
  const Key key = testing::HmacKey();
  KeySet keys;
  keys.Add(key);
  for (const char* payload : {"[1,2]", "\"exp\"", "not json", "{\"exp\":1", "null"}) {
    const std::string token = testing::RawToken(R"({"alg":"HS256"})", payload, key);
    EXPECT_EQ(Verify(token, testing::StandardPolicy(), keys, kNow).error, VerifyError::kMalformed)
        << payload;
  }
}

TEST(JwtDescribe, EveryErrorHasText) {
  for (int e = 0; e <= static_cast<int>(VerifyError::kMissingClaim); ++e) {
    EXPECT_FALSE(Describe(static_cast<VerifyError>(e)).empty());
  }
  EXPECT_EQ(Describe(VerifyError::kExpired), "token expired");
  EXPECT_EQ(ParseAlgorithm("RS256"), Algorithm::kRS256);
  EXPECT_EQ(ParseAlgorithm("rs256"), std::nullopt);
  EXPECT_EQ(AlgorithmName(Algorithm::kES256), "ES256");
}

}  // namespace
}  // namespace sluice::jwt
