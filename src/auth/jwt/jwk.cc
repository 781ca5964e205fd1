// JWK (RFC 7517/7518 §6) → Key through EVP_PKEY_fromdata, and JWK Set documents. Keys a
// verifier cannot use safely (encryption keys, other curves, short secrets, alg naming
// another key type) are refused with a reason. Runs at configuration load and JWKS refresh.
// Thread-safe (no shared state).
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "auth/jwt/key_impl.h"

namespace sluice::jwt {
namespace {

namespace json = boost::json;

constexpr size_t kMaxJwksBytes = 1 << 20;
constexpr size_t kEcCoordinateBytes = 32;

struct BnFree {
  void operator()(BIGNUM* p) const { BN_clear_free(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};

// A member that must be a base64url string, decoded; nullopt when absent or invalid.
std::optional<std::string> Member(const json::object& jwk, std::string_view name) {
  const json::value* v = jwk.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return Base64UrlDecode(std::string_view(v->get_string()));
}

BnPtr ToBn(const std::string& bytes) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                         static_cast<int>(bytes.size()), nullptr));
}

// Builds an EVP_PKEY of `type` from the parameters in `bld`.
PkeyPtr FromData(const char* type, OSSL_PARAM_BLD* bld, bool has_private) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, has_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1) {
    return nullptr;
  }
  return PkeyPtr(pkey);
}

std::optional<Key> RsaFromJwk(const json::object& jwk, std::string kid, std::string* error) {
  const auto n = Member(jwk, "n");
  const auto e = Member(jwk, "e");
  if (!n || !e || n->empty() || e->empty()) return Fail(error, "RSA JWK needs base64url n and e");
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  std::vector<BnPtr> bns;  // must outlive OSSL_PARAM_BLD_to_param
  auto push = [&](const char* name, const std::string& bytes) {
    bns.push_back(ToBn(bytes));
    return bns.back() != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), name, bns.back().get()) == 1;
  };
  if (bld == nullptr || !push(OSSL_PKEY_PARAM_RSA_N, *n) || !push(OSSL_PKEY_PARAM_RSA_E, *e)) {
    return Fail(error, "cannot build RSA parameters");
  }
  const bool has_private = jwk.contains("d");
  if (has_private) {
    // RFC 7518 §6.3.2: with d, the CRT parameters are all present or all absent; OpenSSL
    // signs (and checks the pair) only with them, so they are required here.
    static constexpr std::pair<const char*, const char*> kPrivate[] = {
        {"d", OSSL_PKEY_PARAM_RSA_D},          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
        {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
        {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};
    for (const auto& [member, param] : kPrivate) {
      const auto value = Member(jwk, member);
      if (!value || value->empty()) return Fail(error, "RSA private JWK needs d, p, q, dp, dq, qi");
      if (!push(param, *value)) return Fail(error, "cannot build RSA parameters");
    }
  }
  PkeyPtr pkey = FromData("RSA", bld.get(), has_private);
  if (pkey == nullptr) return Fail(error, "invalid RSA key");
  return MakePkeyKey(std::move(pkey), has_private, std::move(kid), error);
}

std::optional<Key> EcFromJwk(const json::object& jwk, std::string kid, std::string* error) {
  const json::value* crv = jwk.if_contains("crv");
  if (crv == nullptr || !crv->is_string() || crv->get_string() != "P-256") {
    return Fail(error, "EC JWK must have crv P-256");
  }
  const auto x = Member(jwk, "x");
  const auto y = Member(jwk, "y");
  if (!x || !y || x->size() != kEcCoordinateBytes || y->size() != kEcCoordinateBytes) {
    return Fail(error, "EC JWK needs x and y of 32 bytes each");
  }
  const std::string point = '\x04' + *x + *y;  // uncompressed SEC1 point
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return Fail(error, "cannot build EC parameters");
  }
  const bool has_private = jwk.contains("d");
  BnPtr d;
  if (has_private) {
    const auto d_bytes = Member(jwk, "d");
    if (!d_bytes || d_bytes->size() != kEcCoordinateBytes) {
      return Fail(error, "EC private JWK needs d of 32 bytes");
    }
    d = ToBn(*d_bytes);
    if (d == nullptr || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1) {
      return Fail(error, "cannot build EC parameters");
    }
  }
  PkeyPtr pkey = FromData("EC", bld.get(), has_private);
  if (pkey == nullptr) return Fail(error, "invalid EC key (point not on P-256?)");
  return MakePkeyKey(std::move(pkey), has_private, std::move(kid), error);
}

// "use" must be "sig" when present; "key_ops" must allow verify or sign when present.
bool UsableForSignatures(const json::object& jwk, std::string* error) {
  if (const json::value* use = jwk.if_contains("use")) {
    if (!use->is_string() || use->get_string() != "sig") {
      Fail(error, "JWK \"use\" is not \"sig\"");
      return false;
    }
  }
  if (const json::value* ops = jwk.if_contains("key_ops")) {
    bool allowed = false;
    if (ops->is_array()) {
      for (const json::value& op : ops->get_array()) {
        allowed |= op.is_string() && (op.get_string() == "verify" || op.get_string() == "sign");
      }
    }
    if (!allowed) {
      Fail(error, "JWK \"key_ops\" allows neither verify nor sign");
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<Key> Key::FromJwk(const json::object& jwk, std::string* error) {
  const json::value* kty = jwk.if_contains("kty");
  if (kty == nullptr || !kty->is_string()) return Fail(error, "JWK without \"kty\"");
  std::string kid;
  if (const json::value* v = jwk.if_contains("kid")) {
    if (!v->is_string()) return Fail(error, "JWK \"kid\" is not a string");
    kid = std::string(v->get_string());
  }
  if (!UsableForSignatures(jwk, error)) return std::nullopt;
  std::optional<Algorithm> expected;
  if (kty->get_string() == "RSA") expected = Algorithm::kRS256;
  if (kty->get_string() == "EC") expected = Algorithm::kES256;
  if (kty->get_string() == "oct") expected = Algorithm::kHS256;
  if (!expected) return Fail(error, "unsupported JWK kty (RSA, EC or oct expected)");
  if (const json::value* alg = jwk.if_contains("alg")) {
    if (!alg->is_string() || ParseAlgorithm(std::string_view(alg->get_string())) != expected) {
      return Fail(error, "JWK \"alg\" does not match its key type");
    }
  }
  switch (*expected) {
    case Algorithm::kRS256:
      return RsaFromJwk(jwk, std::move(kid), error);
    case Algorithm::kES256:
      return EcFromJwk(jwk, std::move(kid), error);
    case Algorithm::kHS256: {
      const auto k = Member(jwk, "k");
      if (!k) return Fail(error, "oct JWK needs base64url k");
      return FromSecret(*k, std::move(kid), error);
    }
  }
  return std::nullopt;
}

std::optional<KeySet> KeySet::ParseJwks(std::string_view text, std::vector<std::string>* skipped) {
  if (text.size() > kMaxJwksBytes) return std::nullopt;
  json::parse_options options;
  options.max_depth = 8;
  json::error_code ec;
  const json::value doc = json::parse(text, ec, {}, options);
  if (ec || !doc.is_object()) return std::nullopt;
  const json::value* keys = doc.get_object().if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return std::nullopt;
  KeySet set;
  size_t index = 0;
  for (const json::value& entry : keys->get_array()) {
    std::string error = "not a JSON object";
    std::optional<Key> key;
    if (entry.is_object()) key = Key::FromJwk(entry.get_object(), &error);
    if (key) {
      set.Add(std::move(*key));
    } else if (skipped != nullptr) {
      std::string what = "keys[" + std::to_string(index) + "]";
      if (entry.is_object()) {
        if (const json::value* kid = entry.get_object().if_contains("kid");
            kid != nullptr && kid->is_string()) {
          // The kid comes from the network: bounded for the log line.
          what += " (kid \"" + std::string(kid->get_string()).substr(0, 64) + "\")";
        }
      }
      skipped->push_back(what + ": " + error);
    }
    ++index;
  }
  return set;
}

}  // namespace sluice::jwt
