// Keys from HMAC secrets and PEM text, the checks every asymmetric key passes (RSA of
// 2048..8192 bits, EC on P-256 only, OpenSSL's public / pairwise validation), and KeySet.
// Runs at configuration load and JWKS refresh, not per request. Thread-safe: builders
// share only the OpenSSL algorithm handles fetched once per process.
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>

#include "auth/jwt/key_impl.h"

namespace sluice::jwt {
namespace {

constexpr size_t kMinSecretBytes = 32;
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;  // a bigger modulus only makes verification slower

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct DecoderCtxFree {
  void operator()(OSSL_DECODER_CTX* p) const { OSSL_DECODER_CTX_free(p); }
};

// Encrypted PEM is refused instead of prompting on a terminal.
int NoPassphrase(char*, int, int, void*) { return -1; }

bool IsP256(EVP_PKEY* pkey) {
  char name[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) !=
      1) {
    return false;
  }
  const std::string_view group(name, len);
  return group == "prime256v1" || group == "P-256" || group == "secp256r1";
}

bool HasPrivatePart(EVP_PKEY* pkey) {
  BIGNUM* bn = nullptr;
  const char* param = EVP_PKEY_is_a(pkey, "RSA") ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY;
  const bool found = EVP_PKEY_get_bn_param(pkey, param, &bn) == 1 && bn != nullptr;
  BN_clear_free(bn);
  return found;
}

}  // namespace

std::optional<Key> MakeHmacKey(std::string_view secret, std::string kid, std::string* error) {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return Fail(error, "HMAC is not available in OpenSSL");
  auto impl = std::make_shared<Key::Impl>();
  impl->hmac.reset(EVP_MAC_CTX_new(mac));
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_END};
  if (impl->hmac == nullptr ||
      EVP_MAC_init(impl->hmac.get(), reinterpret_cast<const unsigned char*>(secret.data()),
                   secret.size(), params) != 1) {
    return Fail(error, "cannot initialise HMAC-SHA256");
  }
  impl->has_private = true;  // a shared secret signs as well as it verifies
  return Access::Make(Algorithm::kHS256, std::move(kid), std::move(impl));
}

std::optional<Key> MakePkeyKey(PkeyPtr pkey, bool has_private, std::string kid,
                               std::string* error) {
  if (pkey == nullptr) return Fail(error, "no key");
  Algorithm alg;
  if (EVP_PKEY_is_a(pkey.get(), "RSA")) {
    const int bits = EVP_PKEY_get_bits(pkey.get());
    if (bits < kMinRsaBits) return Fail(error, "RSA key shorter than 2048 bits");
    if (bits > kMaxRsaBits) return Fail(error, "RSA key longer than 8192 bits");
    alg = Algorithm::kRS256;
  } else if (EVP_PKEY_is_a(pkey.get(), "EC")) {
    if (!IsP256(pkey.get())) return Fail(error, "EC key not on curve P-256");
    alg = Algorithm::kES256;
  } else {
    return Fail(error, "unsupported key type (RSA or EC P-256 expected)");
  }
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (ctx == nullptr || EVP_PKEY_public_check(ctx.get()) != 1) {
    return Fail(error, "invalid public key");
  }
  if (has_private && EVP_PKEY_pairwise_check(ctx.get()) != 1) {
    return Fail(error, "private key does not match the public key");
  }
  auto impl = std::make_shared<Key::Impl>();
  impl->pkey = std::move(pkey);
  impl->has_private = has_private;
  return Access::Make(alg, std::move(kid), std::move(impl));
}

std::optional<Algorithm> ParseAlgorithm(std::string_view name) {
  if (name == "HS256") return Algorithm::kHS256;
  if (name == "RS256") return Algorithm::kRS256;
  if (name == "ES256") return Algorithm::kES256;
  return std::nullopt;
}

std::string_view AlgorithmName(Algorithm alg) {
  switch (alg) {
    case Algorithm::kHS256:
      return "HS256";
    case Algorithm::kRS256:
      return "RS256";
    case Algorithm::kES256:
      return "ES256";
  }
  return "?";
}

bool Key::can_sign() const { return impl_ != nullptr && impl_->has_private; }

std::optional<Key> Key::FromSecret(std::string_view secret, std::string kid, std::string* error) {
  if (secret.size() < kMinSecretBytes) return Fail(error, "HMAC secret shorter than 32 bytes");
  return MakeHmacKey(secret, std::move(kid), error);
}

std::optional<Key> Key::FromPem(std::string_view pem, std::string kid, std::string* error) {
  EVP_PKEY* raw = nullptr;
  std::unique_ptr<OSSL_DECODER_CTX, DecoderCtxFree> dctx(OSSL_DECODER_CTX_new_for_pkey(
      &raw, "PEM", nullptr, nullptr, 0 /* any selection */, nullptr, nullptr));
  if (dctx == nullptr) return Fail(error, "cannot create a PEM decoder");
  OSSL_DECODER_CTX_set_pem_password_cb(dctx.get(), NoPassphrase, nullptr);
  const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
  size_t left = pem.size();
  if (OSSL_DECODER_from_data(dctx.get(), &data, &left) != 1 || raw == nullptr) {
    EVP_PKEY_free(raw);
    return Fail(error, "not a PEM public or private key (encrypted keys are not supported)");
  }
  PkeyPtr pkey(raw);
  const bool has_private = HasPrivatePart(pkey.get());
  return MakePkeyKey(std::move(pkey), has_private, std::move(kid), error);
}

void KeySet::Add(Key key) { keys_.push_back(std::move(key)); }

const Key* KeySet::Find(std::string_view kid) const {
  if (kid.empty()) return keys_.size() == 1 ? &keys_.front() : nullptr;
  for (const Key& key : keys_) {
    if (key.kid() == kid) return &key;
  }
  return nullptr;
}

}  // namespace sluice::jwt
