// Authenticator: credential extraction, the API-key path and the JWT path.
#include "auth/authenticator.h"

#include "auth/api_key.h"
#include "auth/audit_log.h"

namespace sluice {
namespace {

AuthResult Failure(ErrorClass error, std::string message, bool token = false) {
  AuthResult result;
  result.error = error;
  result.message = std::move(message);
  result.was_token = token;
  return result;
}

bool LooksLikeJwt(std::string_view text) {
  size_t first = text.find('.');
  return first != std::string_view::npos && text.find('.', first + 1) != std::string_view::npos;
}

std::vector<std::string> StringsOf(const boost::json::value* claim) {
  std::vector<std::string> out;
  if (claim == nullptr) return out;
  if (claim->is_string()) {
    out.emplace_back(claim->get_string());
  } else if (claim->is_array()) {
    for (const boost::json::value& v : claim->get_array()) {
      if (v.is_string()) out.emplace_back(v.get_string());
    }
  }
  return out;
}

}  // namespace

Authenticator::Authenticator(KeyCache& keys, Store& store, BlockingPool& store_pool,
                             const AccessPolicy& policy, Issuers& issuers,
                             boost::asio::io_context& control)
    : keys_(keys),
      store_(store),
      store_pool_(store_pool),
      policy_(policy),
      issuers_(issuers),
      control_(control) {}

std::string_view Authenticator::Credentials(const HttpRequest& request) {
  std::string_view authorization = request.headers.Get("authorization");
  if (!authorization.empty()) {
    if (authorization.size() > 7 && EqualsIgnoreCase(authorization.substr(0, 7), "Bearer ")) {
      std::string_view token = authorization.substr(7);
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      return token;
    }
    return {};
  }
  std::string_view key = request.headers.Get("x-api-key");
  if (!key.empty()) return key;
  return request.headers.Get("api-key");
}

boost::asio::awaitable<AuthResult> Authenticator::Authenticate(std::string_view credentials) {
  if (credentials.empty()) {
    co_return Failure(ErrorClass::kAuthMissing,
                      "You didn't provide an API key. Send it in the Authorization header "
                      "(Authorization: Bearer YOUR_KEY) or in X-API-Key.");
  }
  if (credentials.substr(0, kApiKeyPrefix.size()) == kApiKeyPrefix) {
    co_return co_await AuthenticateKey(credentials);
  }
  if (LooksLikeJwt(credentials)) co_return co_await AuthenticateToken(credentials);
  co_return Failure(ErrorClass::kAuthInvalid, "Incorrect API key provided.");
}

boost::asio::awaitable<AuthResult> Authenticator::AuthenticateKey(std::string_view key) {
  // The checksum rejects typos and random strings without touching the cache or the store.
  if (CheckApiKeyFormat(key) != ApiKeyFormat::kValid) {
    co_return Failure(ErrorClass::kAuthInvalid, "Incorrect API key provided.");
  }
  Sha256HexBuffer hash_digits;  // in the frame: no allocation per request
  Sha256HexTo(key, hash_digits);
  const std::string_view hash(hash_digits.data(), hash_digits.size());
  SteadyTime now = std::chrono::steady_clock::now();
  std::shared_ptr<const KeyState> state = keys_.Find(hash, now);
  if (!state) {
    std::shared_ptr<KeyState> loaded =
        co_await store_pool_.Run([this, &hash] { return LoadKeyState(hash); });
    if (!loaded) {
      co_return Failure(ErrorClass::kUnavailable,
                        "The key store is unavailable; try again shortly.");
    }
    loaded->fetched_at = now;
    keys_.Put(loaded);
    state = std::move(loaded);
  }
  co_return Judge(*state, hash, NowSeconds());
}

AuthResult Authenticator::Judge(const KeyState& state, std::string_view hash,
                                int64_t unix_now) const {
  if (!state.principal || !ConstantTimeEquals(state.hash, hash)) {
    return Failure(ErrorClass::kAuthInvalid, "Incorrect API key provided.");
  }
  if (state.revoked_at != 0) {
    return Failure(ErrorClass::kAuthRevoked, "This API key has been revoked.");
  }
  if (state.expires_at != 0 && unix_now >= state.expires_at) {
    return Failure(ErrorClass::kAuthExpired, "This API key has expired.");
  }
  if (state.owner_disabled) {
    return Failure(ErrorClass::kAccountDisabled, "The owner of this API key is disabled.");
  }
  keys_.CountUse(state, unix_now);
  AuthResult result;
  result.principal = state.principal;
  return result;
}

std::optional<AuthResult> Authenticator::TryCached(std::string_view credentials, SteadyTime now,
                                                   int64_t unix_now) const {
  // Only the shape is checked here: an entry is cached only after its checksum was found
  // valid (AuthenticateKey), so a hit proves the checksum without computing it again.
  if (credentials.size() != kApiKeyLength || !credentials.starts_with(kApiKeyPrefix)) {
    return std::nullopt;
  }
  Sha256HexBuffer digits;
  Sha256HexTo(credentials, digits);
  const std::string_view hash(digits.data(), digits.size());
  std::shared_ptr<const KeyState> state = keys_.Find(hash, now);
  if (!state) return std::nullopt;
  return Judge(*state, hash, unix_now);
}

std::shared_ptr<KeyState> Authenticator::LoadKeyState(std::string_view hash) const {
  auto state = std::make_shared<KeyState>();
  state->hash = std::string(hash);
  StoreResult<std::optional<ApiKeyRecord>> key = store_.FindKeyByHash(hash);
  if (!key.ok()) return nullptr;   // store unavailable
  if (!key.value()) return state;  // no such key: cached briefly as absent
  const ApiKeyRecord& record = **key;
  std::optional<UserRecord> user;
  std::optional<TeamRecord> team;
  if (!record.user_id.empty()) {
    auto found = store_.GetUser(record.user_id);
    if (!found.ok()) return nullptr;
    user = std::move(*found);
  }
  if (!record.team_id.empty()) {
    auto found = store_.GetTeam(record.team_id);
    if (!found.ok()) return nullptr;
    team = std::move(*found);
  }
  state->expires_at = record.expires_at;
  state->revoked_at = record.revoked_at;
  // A key whose owning user was deleted or disabled stops working.
  state->owner_disabled = !record.user_id.empty() && (!user || user->disabled);
  state->principal = KeyPrincipal(record, user ? &*user : nullptr, team ? &*team : nullptr);
  return state;
}

std::shared_ptr<const Principal> Authenticator::KeyPrincipal(const ApiKeyRecord& key,
                                                             const UserRecord* user,
                                                             const TeamRecord* team) const {
  auto p = std::make_shared<Principal>();
  p->kind = Principal::Kind::kApiKey;
  p->id = "key:" + key.id;
  p->key_id = key.id;
  p->key_prefix = key.prefix;
  p->user_id = key.user_id;
  p->team_id = key.team_id;
  p->roles = !key.roles.empty()                          ? key.roles
             : (user != nullptr && !user->roles.empty()) ? user->roles
                                                         : std::vector<std::string>{"user"};
  p->permissions = policy_.PermissionsOf(p->roles);
  p->tier = !key.tier.empty()                          ? key.tier
            : (user != nullptr && !user->tier.empty()) ? user->tier
            : (team != nullptr)                        ? team->tier
                                                       : std::string();
  p->allowed_models = key.allowed_models;
  p->expires_at = key.expires_at;
  // Built once per cache fill, so the allocation is not per request; a key without
  // overrides keeps the pointer null.
  if (!key.limits.empty()) p->key_limits = std::make_shared<const KeyLimits>(key.limits);
  return p;
}

std::shared_ptr<const Principal> Authenticator::TokenPrincipal(
    const Issuer& issuer, const jwt::VerifiedToken& token) const {
  auto p = std::make_shared<Principal>();
  p->issuer = token.issuer;
  p->subject = token.subject;
  p->expires_at = token.expires_at;
  std::vector<std::string> roles;
  for (std::string& role : StringsOf(token.claims.if_contains(issuer.config.roles_claim))) {
    if (policy_.IsRole(role)) roles.push_back(std::move(role));  // unknown names grant nothing
  }
  if (issuer.gateway) {
    p->kind = Principal::Kind::kUser;
    p->id = "user:" + token.subject;
    p->user_id = token.subject;
  } else {
    p->kind = Principal::Kind::kExternal;
    p->id = "jwt:" + token.issuer + "#" + token.subject;
    if (roles.empty()) roles = issuer.config.default_roles;
  }
  p->roles = std::move(roles);
  p->permissions = policy_.PermissionsOf(p->roles);
  std::vector<std::string> tier = StringsOf(token.claims.if_contains(issuer.config.tier_claim));
  if (!tier.empty()) p->tier = tier.front();
  return p;
}

boost::asio::awaitable<AuthResult> Authenticator::AuthenticateToken(std::string_view token) {
  Issuers::Outcome outcome = co_await issuers_.Verify(token, control_);
  if (outcome.error != jwt::VerifyError::kNone) {
    ErrorClass error = outcome.error == jwt::VerifyError::kExpired ? ErrorClass::kAuthExpired
                                                                   : ErrorClass::kAuthInvalid;
    co_return Failure(error, "Invalid token: " + std::string(jwt::Describe(outcome.error)) + ".",
                      true);
  }
  if (!outcome.token->jti.empty() && issuers_.IsRevoked(outcome.token->jti)) {
    co_return Failure(ErrorClass::kAuthRevoked, "This token has been revoked.", true);
  }
  AuthResult result;
  result.was_token = true;
  result.principal = TokenPrincipal(*outcome.issuer, *outcome.token);
  co_return result;
}

}  // namespace sluice
