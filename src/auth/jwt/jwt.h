// JSON Web Tokens for Sluice: compact JWS verification (HS256, RS256, ES256 via OpenSSL)
// against a per-issuer policy, keys from PEM, shared secrets or JWK Sets, and signing for
// the tokens the gateway issues itself (login access tokens). The verifier never takes a
// key from the token (jku, jwk, x5u, x5c headers are ignored), never accepts "none", and
// never verifies an HMAC with a public key. Keys and key sets are immutable after build
// and shared between threads; all functions are thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::jwt {

enum class Algorithm { kHS256, kRS256, kES256 };
std::optional<Algorithm> ParseAlgorithm(std::string_view name);  // exact, case-sensitive
std::string_view AlgorithmName(Algorithm alg);

// A key that verifies (or signs) for exactly one algorithm family: an HMAC secret for
// HS256, an RSA key for RS256, a P-256 EC key for ES256.
class Key {
 public:
  // An HMAC secret (raw bytes). REQUIRES: at least 32 bytes (shorter secrets are refused).
  static std::optional<Key> FromSecret(std::string_view secret, std::string kid = "",
                                       std::string* error = nullptr);
  // A PEM public key (SPKI) or private key (PKCS#8 / traditional), RSA or EC P-256.
  static std::optional<Key> FromPem(std::string_view pem, std::string kid = "",
                                    std::string* error = nullptr);
  // One JWK (RFC 7517): kty RSA (n, e) or EC (crv P-256, x, y), or oct (k). "use" other
  // than "sig" and "alg" inconsistent with the key type are refused.
  static std::optional<Key> FromJwk(const boost::json::object& jwk, std::string* error = nullptr);

  const std::string& kid() const { return kid_; }
  Algorithm algorithm() const { return alg_; }
  bool can_sign() const;
  struct Impl;

 private:
  std::string kid_;
  Algorithm alg_ = Algorithm::kHS256;
  std::shared_ptr<const Impl> impl_;
  friend class KeySet;
  friend struct Access;
};

class KeySet {
 public:
  void Add(Key key);
  // The key with this kid; with an empty kid, the only key when there is exactly one.
  const Key* Find(std::string_view kid) const;
  const std::vector<Key>& keys() const { return keys_; }
  size_t size() const { return keys_.size(); }
  // Parses a JWK Set document ({"keys":[...]}); keys that cannot be used are skipped and
  // reported in `skipped`. nullopt when the document itself is not a JWK Set.
  static std::optional<KeySet> ParseJwks(std::string_view json, std::vector<std::string>* skipped);

 private:
  std::vector<Key> keys_;
};

enum class VerifyError {
  kNone,
  kMalformed,             // not three base64url parts, bad JSON, bad types, "crit", bad "typ"
  kUnsupportedAlgorithm,  // "none", unknown names
  kAlgorithmNotAllowed,   // known but not in the policy
  kUnknownKey,            // no key with this kid (a JWKS refresh may help)
  kKeyMismatch,           // the key's type does not match "alg" (e.g. HS256 with an RSA key)
  kBadSignature,
  kExpired,
  kNotYetValid,
  kWrongIssuer,
  kWrongAudience,
  kMissingClaim,
};
std::string_view Describe(VerifyError error);  // short text for logs and the 401 body

// A missing "iss" (or "aud") when the policy names one is kWrongIssuer (kWrongAudience).
struct Policy {
  std::string issuer;                        // required "iss" value; empty: not checked
  std::vector<std::string> audiences;        // "aud" must contain one of these; empty: not checked
  std::vector<Algorithm> algorithms;         // allowed; empty: none allowed
  std::chrono::seconds leeway{60};           // for exp, nbf (and iat in the future)
  std::vector<std::string> required_claims;  // must be present (beyond exp, which always is)
};

struct VerifiedToken {
  Algorithm algorithm = Algorithm::kHS256;
  std::string kid;
  std::string issuer;
  std::string subject;
  std::string jti;
  int64_t expires_at = 0;
  int64_t not_before = 0;
  int64_t issued_at = 0;
  boost::json::object claims;  // every claim, for role/tier mapping
};

struct VerifyResult {
  VerifyError error = VerifyError::kNone;
  std::optional<VerifiedToken> token;
};

// Verifies a compact JWS at time `now` (Unix seconds): structure, algorithm against the
// policy, the key chosen by kid from `keys`, the signature, then exp (required), nbf, iss,
// aud and the required claims. "typ", when present, must be "JWT" or "at+jwt" (RFC 9068),
// case-insensitively. Tokens over 16 KiB are kMalformed.
VerifyResult Verify(std::string_view token, const Policy& policy, const KeySet& keys, int64_t now);

// Signs `claims` as a compact JWS; empty when the key cannot sign. REQUIRES: key.can_sign().
std::string Sign(const boost::json::object& claims, const Key& key);

std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

// Keys of one issuer fetched from a JWKS URL. The fetch itself is the caller's (it needs
// the network); this class decides when to fetch: on a schedule, and on an unknown kid at
// most once per `min_refresh_interval` however many tokens ask. After a failed fetch the
// schedule retries after min_refresh_interval; a fetch not finished within 60 s is presumed
// lost. keys() is never null (empty before the first fetch). Thread-safe.
class JwksCache {
 public:
  JwksCache(std::chrono::seconds refresh_interval, std::chrono::seconds min_refresh_interval);
  std::shared_ptr<const KeySet> keys() const;
  // True when the caller should fetch now: the scheduled refresh is due, or `unknown_kid`
  // and the last fetch began at least min_refresh_interval ago. At most one fetch runs at
  // a time; a true answer must be followed by Finish().
  bool BeginRefresh(std::chrono::steady_clock::time_point now, bool unknown_kid);
  // Installs the fetched set (nullopt: the fetch failed; the old keys stay).
  void Finish(std::optional<KeySet> keys, std::chrono::steady_clock::time_point now);
  uint64_t fetches() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Remembers successfully verified tokens until they expire, so a client that sends the
// same token again costs a hash lookup instead of a signature check. Bounded; sharded by
// token hash (SHA-256; the token itself is not kept). A hit skips the policy: use one cache
// per (policy, key source), and Clear() it when keys are withdrawn. Thread-safe.
class VerifiedTokenCache {
 public:
  // At most `capacity` entries (0: caches nothing).
  explicit VerifiedTokenCache(size_t capacity = 100'000);
  ~VerifiedTokenCache();  // out of line: Shard is defined in the .cc
  // The cached result for `token` if present and not expired at `now` (with no leeway).
  std::shared_ptr<const VerifiedToken> Find(std::string_view token, int64_t now) const;
  void Insert(std::string_view token, std::shared_ptr<const VerifiedToken> verified);
  void Clear();
  size_t size() const;

 private:
  struct Shard;
  Shard& ShardFor(const unsigned char* digest) const;
  std::vector<std::unique_ptr<Shard>> shards_;
  size_t capacity_per_shard_;
};

}  // namespace sluice::jwt
