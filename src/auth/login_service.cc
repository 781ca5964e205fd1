// LoginService: password checks, token issuance and one-time refresh rotation.
#include "auth/login_service.h"

#include <sodium.h>

#include "auth/api_key.h"

namespace sluice {
namespace {

constexpr unsigned long long kOpsLimit = 2;
constexpr size_t kMemLimit = 19 * 1024 * 1024;
constexpr std::string_view kRefreshPrefix = "rt-sl-";

// Verifying against this when the user does not exist keeps the response time the same,
// so timing does not reveal which usernames exist.
const std::string& DummyHash() {
  static const std::string hash = LoginService::HashPassword("sluice-dummy-password");
  return hash;
}

}  // namespace

std::string LoginService::HashPassword(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), kOpsLimit, kMemLimit) != 0) {
    return "";  // out of memory
  }
  return out;
}

bool LoginService::VerifyPassword(std::string_view hash, std::string_view password) {
  std::string terminated(hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

LoginService::LoginService(Store& store, BlockingPool& store_pool, BlockingPool& hash_pool,
                           Issuers& issuers, const AuthConfig& config, AuditLog& audit)
    : store_(store),
      store_pool_(store_pool),
      hash_pool_(hash_pool),
      issuers_(issuers),
      config_(config),
      audit_(audit) {}

TokenPair LoginService::Issue(const UserRecord& user, const std::string& family_id) {
  int64_t now = NowSeconds();
  int64_t ttl = std::chrono::duration_cast<std::chrono::seconds>(config_.access_token_ttl).count();
  boost::json::object claims;
  claims["iss"] = issuers_.gateway_issuer();
  claims["aud"] = issuers_.gateway_issuer();
  claims["sub"] = user.id;
  claims["name"] = user.username;
  claims["iat"] = now;
  claims["exp"] = now + ttl;
  claims["jti"] = NewId("jti");
  boost::json::array roles;
  for (const std::string& role : user.roles) roles.emplace_back(role);
  claims["roles"] = std::move(roles);
  if (!user.tier.empty()) claims["tier"] = user.tier;
  TokenPair pair;
  pair.access_token = jwt::Sign(claims, *issuers_.gateway_signing_key());
  pair.expires_in = ttl;
  pair.user_id = user.id;
  pair.refresh_token = std::string(kRefreshPrefix) + RandomToken(32);
  RefreshTokenRecord record;
  record.id = NewId("rt");
  record.family_id = family_id;
  record.user_id = user.id;
  record.token_hash = Sha256Hex(pair.refresh_token);
  record.created_at = now;
  record.expires_at =
      now + std::chrono::duration_cast<std::chrono::seconds>(config_.refresh_token_ttl).count();
  if (!store_.InsertRefreshToken(record).ok()) pair.refresh_token.clear();
  return pair;
}

boost::asio::awaitable<LoginOutcome> LoginService::Login(const std::string& username,
                                                         const std::string& password) {
  LoginOutcome outcome;
  auto found =
      co_await store_pool_.Run([this, &username] { return store_.FindUserByName(username); });
  if (!found.ok()) {
    outcome.status = LoginStatus::kUnavailable;
    co_return outcome;
  }
  std::optional<UserRecord> user = std::move(found.value());
  std::string hash = user && !user->password_hash.empty() ? user->password_hash : DummyHash();
  bool match =
      co_await hash_pool_.Run([&hash, &password] { return VerifyPassword(hash, password); });
  if (!user || user->password_hash.empty() || !match) {
    outcome.status = LoginStatus::kInvalidCredentials;
    co_return outcome;
  }
  if (user->disabled) {
    outcome.status = LoginStatus::kDisabled;
    co_return outcome;
  }
  outcome.tokens = co_await store_pool_.Run([this, &user] { return Issue(*user, NewId("fam")); });
  if (outcome.tokens.refresh_token.empty()) outcome.status = LoginStatus::kUnavailable;
  co_return outcome;
}

boost::asio::awaitable<LoginOutcome> LoginService::Refresh(const std::string& refresh_token) {
  LoginOutcome outcome;
  if (refresh_token.substr(0, kRefreshPrefix.size()) != kRefreshPrefix) {
    outcome.status = LoginStatus::kInvalidRefreshToken;
    co_return outcome;
  }
  std::string hash = Sha256Hex(refresh_token);
  outcome = co_await store_pool_.Run([this, &hash] {
    LoginOutcome result;
    auto found = store_.FindRefreshToken(hash);
    if (!found.ok()) {
      result.status = LoginStatus::kUnavailable;
      return result;
    }
    if (!found.value()) {
      result.status = LoginStatus::kInvalidRefreshToken;
      return result;
    }
    const RefreshTokenRecord& token = **found;
    int64_t now = NowSeconds();
    if (token.revoked_at != 0 && token.used_at == 0) {  // logged out or family ended
      result.status = LoginStatus::kInvalidRefreshToken;
      return result;
    }
    if (token.used_at != 0) {
      // A spent token came back: someone holds a copy. End the whole family.
      store_.RevokeRefreshFamily(token.family_id, now);
      AuditRecord record;
      record.principal = "user:" + token.user_id;
      record.action = "auth.refresh_reused";
      record.target = "family:" + token.family_id;
      record.result = "revoked";
      audit_.Record(std::move(record));
      result.status = LoginStatus::kRefreshTokenReused;
      return result;
    }
    if (token.expires_at != 0 && now >= token.expires_at) {
      result.status = LoginStatus::kInvalidRefreshToken;
      return result;
    }
    auto used = store_.UseRefreshToken(token.id, now);
    if (!used.ok() || !*used) {  // lost a race with another use of the same token
      store_.RevokeRefreshFamily(token.family_id, now);
      result.status = LoginStatus::kRefreshTokenReused;
      return result;
    }
    auto user = store_.GetUser(token.user_id);
    if (!user.ok() || !user.value() || (*user)->disabled) {
      store_.RevokeRefreshFamily(token.family_id, now);
      result.status = LoginStatus::kDisabled;
      return result;
    }
    result.tokens = Issue(**user, token.family_id);
    if (result.tokens.refresh_token.empty()) result.status = LoginStatus::kUnavailable;
    return result;
  });
  co_return outcome;
}

boost::asio::awaitable<LoginStatus> LoginService::Logout(const std::string& refresh_token,
                                                         const std::string& access_jti,
                                                         int64_t access_expires_at) {
  if (!access_jti.empty()) issuers_.Revoke(access_jti);
  std::string hash = refresh_token.empty() ? std::string() : Sha256Hex(refresh_token);
  co_return co_await store_pool_.Run([this, &hash, &access_jti, access_expires_at] {
    int64_t now = NowSeconds();
    if (!access_jti.empty()) store_.RevokeTokenId(access_jti, access_expires_at);
    if (hash.empty()) return LoginStatus::kOk;
    auto found = store_.FindRefreshToken(hash);
    if (!found.ok()) return LoginStatus::kUnavailable;
    if (!found.value()) return LoginStatus::kInvalidRefreshToken;
    store_.RevokeRefreshFamily((*found)->family_id, now);
    return LoginStatus::kOk;
  });
}

boost::asio::awaitable<LoginOutcome> LoginService::Register(const std::string& username,
                                                            const std::string& password,
                                                            const std::string& email) {
  LoginOutcome outcome;
  std::string hash = co_await hash_pool_.Run([&password] { return HashPassword(password); });
  outcome = co_await store_pool_.Run([this, &username, &email, &hash] {
    LoginOutcome result;
    UserRecord user;
    user.id = NewId("usr");
    user.username = username;
    user.email = email;
    user.password_hash = hash;
    user.roles = {"user"};
    user.tier = config_.default_tier;
    user.created_at = user.updated_at = NowSeconds();
    StoreResult<void> inserted = store_.InsertUser(user);
    if (!inserted.ok()) {
      result.status = inserted.error().code == StoreErrorCode::kConflict
                          ? LoginStatus::kUsernameTaken
                          : LoginStatus::kUnavailable;
      return result;
    }
    result.tokens = Issue(user, NewId("fam"));
    return result;
  });
  co_return outcome;
}

}  // namespace sluice
