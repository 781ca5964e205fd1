// Internal to sluice_jwt: what a Key holds (an OpenSSL EVP_PKEY or an HMAC context with
// the secret) and the raw signature primitives the verifier and the signer share.
// Not for use outside src/auth/jwt. An Impl is immutable once built and read by many
// threads at once; the primitives only read it.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/jwt/jwt.h"

namespace sluice::jwt {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

struct Key::Impl {
  // HS256: an HMAC-SHA256 context already keyed with the secret; each use duplicates it,
  // so the secret is expanded once per key instead of once per token.
  MacCtxPtr hmac;
  // RS256 / ES256.
  PkeyPtr pkey;
  bool has_private = false;
};

// The friend through which the library reaches a Key's private parts.
struct Access {
  static std::optional<Key> Make(Algorithm alg, std::string kid,
                                 std::shared_ptr<const Key::Impl> impl) {
    Key key;
    key.alg_ = alg;
    key.kid_ = std::move(kid);
    key.impl_ = std::move(impl);
    return key;
  }
  static const Key::Impl* Get(const Key& key) { return key.impl_.get(); }
};

// Builds an HS256 key. REQUIRES: the caller checked the secret's length.
std::optional<Key> MakeHmacKey(std::string_view secret, std::string kid, std::string* error);
// Wraps an RSA or EC key, checking size (RSA >= 2048 bits) and curve (P-256 only).
std::optional<Key> MakePkeyKey(PkeyPtr pkey, bool has_private, std::string kid, std::string* error);

// Raw JWS signature primitives over the signing input ("header.payload").
bool VerifySignature(const Key& key, std::string_view input, std::string_view signature);
// Empty on failure (no private part, OpenSSL error).
std::string CreateSignature(const Key& key, std::string_view input);

// SHA-256 with a digest fetched once per process. False only if OpenSSL fails.
bool Sha256(std::string_view data, unsigned char out[32]);

// Sets *error (when given) and returns nullopt, for the key builders.
inline std::nullopt_t Fail(std::string* error, std::string_view why) {
  if (error != nullptr) *error = std::string(why);
  return std::nullopt;
}

}  // namespace sluice::jwt
