// Test-only key generation and token crafting for the sluice_jwt tests (see test_keys.h).
// Thread-safe: function-local statics.
#include "auth/jwt/test_keys.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth/jwt/key_impl.h"

namespace sluice::jwt::testing {
namespace {

std::string Bio(const std::function<int(BIO*)>& write) {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string out;
  if (write(bio) == 1) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    out.assign(data, static_cast<size_t>(len));
  }
  BIO_free(bio);
  return out;
}

std::string BnParam(EVP_PKEY* pkey, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) return {};
  std::string bytes(pad > 0 ? static_cast<size_t>(pad) : static_cast<size_t>(BN_num_bytes(bn)),
                    '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  BN_clear_free(bn);
  return Base64UrlEncode(bytes);
}

TestKeyPair Export(EVP_PKEY* pkey) {
  TestKeyPair pair;
  pair.private_pem = Bio([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  });
  pair.public_pem = Bio([&](BIO* b) { return PEM_write_bio_PUBKEY(b, pkey); });
  unsigned char* der = nullptr;
  const int der_len = i2d_PUBKEY(pkey, &der);
  pair.public_der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(der_len));
  OPENSSL_free(der);
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    pair.public_jwk = {{"kty", "RSA"},
                       {"n", BnParam(pkey, OSSL_PKEY_PARAM_RSA_N)},
                       {"e", BnParam(pkey, OSSL_PKEY_PARAM_RSA_E)}};
    pair.private_jwk = pair.public_jwk;
    pair.private_jwk["d"] = BnParam(pkey, OSSL_PKEY_PARAM_RSA_D);
    pair.private_jwk["p"] = BnParam(pkey, OSSL_PKEY_PARAM_RSA_FACTOR1);
    pair.private_jwk["q"] = BnParam(pkey, OSSL_PKEY_PARAM_RSA_FACTOR2);
    pair.private_jwk["dp"] = BnParam(pkey, OSSL_PKEY_PARAM_RSA_EXPONENT1);
    pair.private_jwk["dq"] = BnParam(pkey, OSSL_PKEY_PARAM_RSA_EXPONENT2);
    pair.private_jwk["qi"] = BnParam(pkey, OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
  } else {
    unsigned char point[65];
    size_t len = 0;
    EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
    EXPECT_EQ(len, 65u);
    const std::string_view p(reinterpret_cast<char*>(point), sizeof point);
    pair.public_jwk = {{"kty", "EC"},
                       {"crv", "P-256"},
                       {"x", Base64UrlEncode(p.substr(1, 32))},
                       {"y", Base64UrlEncode(p.substr(33, 32))}};
    pair.private_jwk = pair.public_jwk;
    pair.private_jwk["d"] = BnParam(pkey, OSSL_PKEY_PARAM_PRIV_KEY, 32);
  }
  return pair;
}

TestKeyPair Generate(EVP_PKEY* pkey) {
  EXPECT_NE(pkey, nullptr);
  TestKeyPair pair = Export(pkey);
  EVP_PKEY_free(pkey);
  return pair;
}

TestKeyPair GenerateRsa(size_t bits) {
  return Generate(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
}

TestKeyPair GenerateEc() { return Generate(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

}  // namespace

const TestKeyPair& RsaPair(int index) {
  static const TestKeyPair first = GenerateRsa(2048);
  if (index == 0) return first;
  static const TestKeyPair second = GenerateRsa(2048);
  return second;
}

const TestKeyPair& EcPair(int index) {
  static const TestKeyPair first = GenerateEc();
  if (index == 0) return first;
  static const TestKeyPair second = GenerateEc();
  return second;
}

const TestKeyPair& WeakRsaPair() {
  static const TestKeyPair weak = GenerateRsa(1024);
  return weak;
}

std::string Secret(char fill, size_t size) { return std::string(size, fill); }

Key MustKey(std::optional<Key> key, std::string_view what) {
  if (!key) {
    ADD_FAILURE() << "could not load " << what;
    return Key();
  }
  return std::move(*key);
}

Key RsaSigner(int index, std::string kid) {
  return MustKey(Key::FromPem(RsaPair(index).private_pem, std::move(kid)), "RSA private PEM");
}
Key EcSigner(int index, std::string kid) {
  return MustKey(Key::FromPem(EcPair(index).private_pem, std::move(kid)), "EC private PEM");
}
Key RsaVerifier(int index, std::string kid) {
  return MustKey(Key::FromPem(RsaPair(index).public_pem, std::move(kid)), "RSA public PEM");
}
Key EcVerifier(int index, std::string kid) {
  return MustKey(Key::FromPem(EcPair(index).public_pem, std::move(kid)), "EC public PEM");
}
Key HmacKey(std::string kid, char fill) {
  return MustKey(Key::FromSecret(Secret(fill), std::move(kid)), "HMAC secret");
}

boost::json::object StandardClaims(int64_t now) {
  return {{"iss", kIssuer},     {"sub", "user-1234"},
          {"aud", kAudience},   {"exp", now + 300},
          {"iat", now},         {"jti", "5f0c2a8e-77c4-4f36-9d1c-0d5b2f0f6a11"},
          {"team", "research"}, {"roles", boost::json::array{"developer", "viewer"}}};
}

Policy StandardPolicy() {
  Policy policy;
  policy.issuer = kIssuer;
  policy.audiences = {kAudience};
  policy.algorithms = {Algorithm::kHS256, Algorithm::kRS256, Algorithm::kES256};
  policy.leeway = std::chrono::seconds(60);
  return policy;
}

std::string RawToken(std::string_view header_json, std::string_view payload_json,
                     std::string_view signature) {
  return Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json) + "." +
         Base64UrlEncode(signature);
}

std::string RawToken(std::string_view header_json, std::string_view payload_json,
                     const Key& signer) {
  const std::string input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  const std::string signature = CreateSignature(signer, input);
  EXPECT_FALSE(signature.empty()) << "signing failed";
  return input + "." + Base64UrlEncode(signature);
}

}  // namespace sluice::jwt::testing
