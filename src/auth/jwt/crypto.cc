// JWS signature primitives on OpenSSL 3 EVP: HMAC-SHA256 (EVP_MAC, constant-time compare),
// RSASSA-PKCS1-v1_5 with SHA-256 and ECDSA P-256 with SHA-256, whose JWS form is raw r||s
// (RFC 7518 §3.4) and is converted to and from DER here. Used by Verify() and Sign().
// Thread-safe: keys are only read, every call uses its own contexts.
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "auth/jwt/key_impl.h"

namespace sluice::jwt {
namespace {

constexpr size_t kEs256Half = 32;  // bytes of r and of s for P-256

struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bool HmacSha256(const Key::Impl& impl, std::string_view input, unsigned char out[32]) {
  MacCtxPtr ctx(EVP_MAC_CTX_dup(impl.hmac.get()));
  size_t len = 0;
  return ctx != nullptr && EVP_MAC_update(ctx.get(), Bytes(input), input.size()) == 1 &&
         EVP_MAC_final(ctx.get(), out, &len, 32) == 1 && len == 32;
}

// Appends one DER INTEGER holding the unsigned big-endian `half`.
void AppendDerInteger(std::string& der, const unsigned char* half) {
  size_t skip = 0;
  while (skip + 1 < kEs256Half && half[skip] == 0) ++skip;  // minimal encoding
  const bool pad = (half[skip] & 0x80) != 0;                // keep it positive
  der.push_back(0x02);
  der.push_back(static_cast<char>(kEs256Half - skip + (pad ? 1 : 0)));
  if (pad) der.push_back('\0');
  der.append(reinterpret_cast<const char*>(half + skip), kEs256Half - skip);
}

// r||s → DER ECDSA-Sig-Value. At most 72 bytes, so every length fits in one byte.
std::string RawToDer(std::string_view raw) {
  std::string body;
  body.reserve(70);
  AppendDerInteger(body, Bytes(raw));
  AppendDerInteger(body, Bytes(raw) + kEs256Half);
  std::string der;
  der.reserve(body.size() + 2);
  der.push_back(0x30);
  der.push_back(static_cast<char>(body.size()));
  der += body;
  return der;
}

std::string DerToRaw(const std::string& der) {
  const unsigned char* p = Bytes(der);
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) return {};
  std::string raw(2 * kEs256Half, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  constexpr int kHalf = static_cast<int>(kEs256Half);
  const bool ok = BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, kHalf) == kHalf &&
                  BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + kEs256Half, kHalf) == kHalf;
  ECDSA_SIG_free(sig);
  return ok ? raw : std::string();
}

// Initialises a SHA-256 digest-sign/verify context; RSA gets PKCS#1 v1.5 padding explicitly.
bool InitDigest(EVP_MD_CTX* ctx, EVP_PKEY* pkey, Algorithm alg, bool sign) {
  EVP_PKEY_CTX* pctx = nullptr;
  const int rc =
      sign ? EVP_DigestSignInit_ex(ctx, &pctx, "SHA256", nullptr, nullptr, pkey, nullptr)
           : EVP_DigestVerifyInit_ex(ctx, &pctx, "SHA256", nullptr, nullptr, pkey, nullptr);
  if (rc != 1) return false;
  return alg != Algorithm::kRS256 || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
}

}  // namespace

bool VerifySignature(const Key& key, std::string_view input, std::string_view signature) {
  const Key::Impl* impl = Access::Get(key);
  if (impl == nullptr) return false;
  switch (key.algorithm()) {
    case Algorithm::kHS256: {
      unsigned char mac[32];
      if (impl->hmac == nullptr || signature.size() != sizeof mac) return false;
      if (!HmacSha256(*impl, input, mac)) return false;
      return CRYPTO_memcmp(mac, signature.data(), sizeof mac) == 0;
    }
    case Algorithm::kRS256:
    case Algorithm::kES256: {
      if (impl->pkey == nullptr) return false;
      std::string der;
      if (key.algorithm() == Algorithm::kES256) {
        if (signature.size() != 2 * kEs256Half) return false;  // DER or other lengths: no
        der = RawToDer(signature);
        signature = der;
      } else if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(impl->pkey.get()))) {
        return false;
      }
      MdCtxPtr ctx(EVP_MD_CTX_new());
      if (ctx == nullptr || !InitDigest(ctx.get(), impl->pkey.get(), key.algorithm(), false)) {
        return false;
      }
      return EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(input),
                              input.size()) == 1;
    }
  }
  return false;
}

std::string CreateSignature(const Key& key, std::string_view input) {
  const Key::Impl* impl = Access::Get(key);
  if (impl == nullptr || !key.can_sign()) return {};
  if (key.algorithm() == Algorithm::kHS256) {
    std::string mac(32, '\0');
    if (!HmacSha256(*impl, input, reinterpret_cast<unsigned char*>(mac.data()))) return {};
    return mac;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || !InitDigest(ctx.get(), impl->pkey.get(), key.algorithm(), true)) {
    return {};
  }
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, Bytes(input), input.size()) != 1) return {};
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, Bytes(input),
                     input.size()) != 1) {
    return {};
  }
  sig.resize(len);
  return key.algorithm() == Algorithm::kES256 ? DerToRaw(sig) : sig;
}

bool Sha256(std::string_view data, unsigned char out[32]) {
  // Fetched once: an implicit fetch per call takes a global lock in OpenSSL 3.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned int len = 0;
  return md != nullptr && EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) == 1 &&
         len == 32;
}

}  // namespace sluice::jwt
