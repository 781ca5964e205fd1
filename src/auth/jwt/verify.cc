// Verify(): compact JWS → VerifiedToken, in the order of RFC 7515 §5.2 / RFC 7519 §7.2:
// structure, header, algorithm against the policy, key by kid (never from the token), the
// signature, and only then the claims (the payload JSON is parsed only once it is signed).
// On the request path of the auth filter: no exceptions, bounded input. Thread-safe.
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <limits>

#include "auth/jwt/key_impl.h"

namespace sluice::jwt {
namespace {

namespace json = boost::json;

constexpr size_t kMaxTokenBytes = 16 * 1024;
constexpr unsigned kMaxJsonDepth = 16;

VerifyResult Error(VerifyError error) { return VerifyResult{error, std::nullopt}; }

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// "JWT" (RFC 7519 §5.1) and "at+jwt" (OAuth access tokens, RFC 9068), each optionally as
// a media type ("application/..."); anything else is another kind of JWT (logout, DPoP
// proof, ...) that must not pass as an access token.
bool AcceptableType(std::string_view typ) {
  if (typ.size() > 12 && IEquals(typ.substr(0, 12), "application/")) typ.remove_prefix(12);
  return IEquals(typ, "JWT") || IEquals(typ, "at+jwt");
}

std::optional<json::value> ParseObject(std::string_view text, json::storage_ptr storage = {}) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  json::error_code ec;
  json::value value = json::parse(text, ec, std::move(storage), options);
  if (ec || !value.is_object()) return std::nullopt;
  return value;
}

enum class Field { kAbsent, kOk, kBad };

// A NumericDate (RFC 7519 §2): integer or floating point seconds. Fractions round towards
// the stricter side: `round_up` for nbf/iat, down for exp.
Field ReadDate(const json::object& claims, std::string_view name, bool round_up, int64_t* out) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return Field::kAbsent;
  if (v->is_int64()) {
    *out = v->get_int64();
    return Field::kOk;
  }
  if (v->is_double()) {
    const double d = round_up ? std::ceil(v->get_double()) : std::floor(v->get_double());
    if (!std::isfinite(d) || std::fabs(d) > 4e18) return Field::kBad;
    *out = static_cast<int64_t>(d);
    return Field::kOk;
  }
  return Field::kBad;  // strings, booleans, and uint64 beyond int64 (no real date)
}

Field ReadString(const json::object& claims, std::string_view name, std::string* out) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return Field::kAbsent;
  if (!v->is_string()) return Field::kBad;
  *out = std::string(v->get_string());
  return Field::kOk;
}

bool Allowed(const Policy& policy, Algorithm alg) {
  for (Algorithm a : policy.algorithms) {
    if (a == alg) return true;
  }
  return false;
}

bool AudienceMatches(const Policy& policy, std::string_view aud) {
  for (const std::string& want : policy.audiences) {
    if (aud == want) return true;
  }
  return false;
}

// The "aud" check: a string or an array of strings, one of which the policy names.
VerifyError CheckAudience(const Policy& policy, const json::object& claims) {
  const json::value* aud = claims.if_contains("aud");
  if (aud != nullptr && aud->is_string()) {
    return AudienceMatches(policy, aud->get_string()) ? VerifyError::kNone
                                                      : VerifyError::kWrongAudience;
  }
  if (aud != nullptr && aud->is_array()) {
    bool match = false;
    for (const json::value& entry : aud->get_array()) {
      if (!entry.is_string()) return VerifyError::kMalformed;
      match |= AudienceMatches(policy, entry.get_string());
    }
    return match ? VerifyError::kNone : VerifyError::kWrongAudience;
  }
  if (aud != nullptr) return VerifyError::kMalformed;
  return VerifyError::kWrongAudience;  // the policy wants an audience, the token names none
}

// The key for `kid` and `alg`. A kid that names only keys of another family is a key
// mismatch (the alg-confusion attack), never a reason to try the key anyway.
VerifyError SelectKey(const KeySet& keys, std::string_view kid, Algorithm alg, const Key** out) {
  const Key* found = nullptr;
  if (kid.empty()) {
    found = keys.Find(kid);
    if (found == nullptr) return VerifyError::kUnknownKey;
    if (found->algorithm() != alg) return VerifyError::kKeyMismatch;
    *out = found;
    return VerifyError::kNone;
  }
  for (const Key& key : keys.keys()) {
    if (key.kid() != kid) continue;
    found = &key;
    if (key.algorithm() == alg) {
      *out = &key;
      return VerifyError::kNone;
    }
  }
  return found == nullptr ? VerifyError::kUnknownKey : VerifyError::kKeyMismatch;
}

struct Header {
  Algorithm alg;
  std::string kid;
};

VerifyError ParseHeader(std::string_view text, Header* header) {
  // A header is small: parse it into a stack buffer, not the heap.
  unsigned char buffer[1024];
  json::monotonic_resource resource(buffer, sizeof buffer);
  const auto value = ParseObject(text, &resource);
  if (!value) return VerifyError::kMalformed;
  const json::object& object = value->get_object();
  const json::value* alg = object.if_contains("alg");
  if (alg == nullptr || !alg->is_string()) return VerifyError::kMalformed;
  const std::string_view alg_name = alg->get_string();
  const auto parsed = ParseAlgorithm(alg_name);
  if (!parsed) return VerifyError::kUnsupportedAlgorithm;  // "none" in any case included
  header->alg = *parsed;
  // RFC 7515 §4.1.11: a "crit" extension we do not implement must fail; we implement none.
  if (object.contains("crit")) return VerifyError::kMalformed;
  if (const json::value* typ = object.if_contains("typ")) {
    if (!typ->is_string() || !AcceptableType(typ->get_string())) return VerifyError::kMalformed;
  }
  if (const json::value* kid = object.if_contains("kid")) {
    if (!kid->is_string()) return VerifyError::kMalformed;
    header->kid = std::string(kid->get_string());
  }
  return VerifyError::kNone;  // jku, jwk, x5u, x5c: deliberately never read
}

VerifyError CheckClaims(const json::object& claims, const Policy& policy, int64_t now,
                        VerifiedToken* token) {
  const Field exp = ReadDate(claims, "exp", false, &token->expires_at);
  const Field nbf = ReadDate(claims, "nbf", true, &token->not_before);
  const Field iat = ReadDate(claims, "iat", true, &token->issued_at);
  const Field iss = ReadString(claims, "iss", &token->issuer);
  if (exp == Field::kBad || nbf == Field::kBad || iat == Field::kBad || iss == Field::kBad ||
      ReadString(claims, "sub", &token->subject) == Field::kBad ||
      ReadString(claims, "jti", &token->jti) == Field::kBad) {
    return VerifyError::kMalformed;
  }
  if (exp == Field::kAbsent) return VerifyError::kMissingClaim;
  // Written as now - leeway so that no date near INT64_MAX can overflow the comparison.
  const int64_t leeway = policy.leeway.count();
  if (now - leeway > token->expires_at) return VerifyError::kExpired;
  if (nbf == Field::kOk && now + leeway < token->not_before) return VerifyError::kNotYetValid;
  if (iat == Field::kOk && now + leeway < token->issued_at) return VerifyError::kNotYetValid;
  if (!policy.issuer.empty() && (iss != Field::kOk || token->issuer != policy.issuer)) {
    return VerifyError::kWrongIssuer;
  }
  if (!policy.audiences.empty()) {
    if (const VerifyError e = CheckAudience(policy, claims); e != VerifyError::kNone) return e;
  }
  for (const std::string& name : policy.required_claims) {
    if (!claims.contains(name)) return VerifyError::kMissingClaim;
  }
  return VerifyError::kNone;
}

}  // namespace

VerifyResult Verify(std::string_view token, const Policy& policy, const KeySet& keys, int64_t now) {
  if (token.size() > kMaxTokenBytes) return Error(VerifyError::kMalformed);
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Error(VerifyError::kMalformed);  // not exactly three parts (JWE has five)
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);
  if (header_b64.empty() || payload_b64.empty()) return Error(VerifyError::kMalformed);
  const auto header_json = Base64UrlDecode(header_b64);
  auto payload_json = Base64UrlDecode(payload_b64);
  const auto signature = Base64UrlDecode(signature_b64);
  if (!header_json || !payload_json || !signature) return Error(VerifyError::kMalformed);

  Header header;
  if (const VerifyError e = ParseHeader(*header_json, &header); e != VerifyError::kNone) {
    return Error(e);
  }
  // An empty signature is checked after the header, so that an unsecured JWS
  // ("alg":"none", RFC 7519 §6) is reported as the unsupported algorithm it is.
  if (signature->empty()) return Error(VerifyError::kMalformed);
  if (!Allowed(policy, header.alg)) return Error(VerifyError::kAlgorithmNotAllowed);
  const Key* key = nullptr;
  if (const VerifyError e = SelectKey(keys, header.kid, header.alg, &key);
      e != VerifyError::kNone) {
    return Error(e);
  }
  if (!VerifySignature(*key, token.substr(0, dot2), *signature)) {
    return Error(VerifyError::kBadSignature);
  }

  auto payload = ParseObject(*payload_json);
  if (!payload) return Error(VerifyError::kMalformed);
  VerifiedToken verified;
  verified.algorithm = header.alg;
  verified.kid = std::move(header.kid);
  if (const VerifyError e = CheckClaims(payload->get_object(), policy, now, &verified);
      e != VerifyError::kNone) {
    return Error(e);
  }
  verified.claims = std::move(payload->get_object());
  return VerifyResult{VerifyError::kNone, std::move(verified)};
}

std::string_view Describe(VerifyError error) {
  switch (error) {
    case VerifyError::kNone:
      return "valid";
    case VerifyError::kMalformed:
      return "malformed token";
    case VerifyError::kUnsupportedAlgorithm:
      return "unsupported signing algorithm";
    case VerifyError::kAlgorithmNotAllowed:
      return "signing algorithm not allowed";
    case VerifyError::kUnknownKey:
      return "unknown signing key";
    case VerifyError::kKeyMismatch:
      return "signing algorithm does not match the key";
    case VerifyError::kBadSignature:
      return "invalid signature";
    case VerifyError::kExpired:
      return "token expired";
    case VerifyError::kNotYetValid:
      return "token not yet valid";
    case VerifyError::kWrongIssuer:
      return "wrong issuer";
    case VerifyError::kWrongAudience:
      return "wrong audience";
    case VerifyError::kMissingClaim:
      return "missing required claim";
  }
  return "invalid token";
}

}  // namespace sluice::jwt
