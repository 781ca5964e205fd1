// Test-only helpers for the sluice_jwt tests: RSA 2048 and EC P-256 key pairs generated
// with OpenSSL once per test process (lazily, so a test that needs none pays nothing),
// exported as PEM and JWK, and a raw token builder for crafting hostile headers.
// The accessors are thread-safe (function-local statics).
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "auth/jwt/jwt.h"

namespace sluice::jwt::testing {

struct TestKeyPair {
  std::string private_pem;  // PKCS#8
  std::string public_pem;   // SPKI
  std::string public_der;   // SPKI, DER
  boost::json::object public_jwk;
  boost::json::object private_jwk;
};

// index 0 and 1 are two distinct keys of the same type.
const TestKeyPair& RsaPair(int index = 0);
const TestKeyPair& EcPair(int index = 0);
// An RSA 1024-bit pair, too short for the library.
const TestKeyPair& WeakRsaPair();

// A 32-byte (or longer) secret of fixed bytes.
std::string Secret(char fill = 's', size_t size = 32);

// Loads or fails the test (returns an empty Key after ADD_FAILURE).
Key MustKey(std::optional<Key> key, std::string_view what);
Key RsaSigner(int index = 0, std::string kid = "rsa-1");
Key EcSigner(int index = 0, std::string kid = "ec-1");
Key RsaVerifier(int index = 0, std::string kid = "rsa-1");
Key EcVerifier(int index = 0, std::string kid = "ec-1");
Key HmacKey(std::string kid = "hs-1", char fill = 's');

constexpr int64_t kNow = 1'700'000'000;
constexpr const char* kIssuer = "https://idp.example.com/";
constexpr const char* kAudience = "sluice";

// Claims that pass StandardPolicy() at kNow: iss, sub, aud, exp (+300 s), iat, jti and a
// few application claims (about the size of a real access token).
boost::json::object StandardClaims(int64_t now = kNow);
// kIssuer, kAudience, all three algorithms, leeway 60 s.
Policy StandardPolicy();

// header.payload.signature with exactly the given JSON texts, signed by `signer`'s
// primitive regardless of what the header claims.
std::string RawToken(std::string_view header_json, std::string_view payload_json,
                     const Key& signer);
std::string RawToken(std::string_view header_json, std::string_view payload_json,
                     std::string_view signature);

}  // namespace sluice::jwt::testing
