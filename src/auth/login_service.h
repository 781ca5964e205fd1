// Sign-in for people: POST /auth/login checks a password (argon2id, on the hashing pool,
// never on a worker loop) and returns a short-lived access JWT plus a rotating refresh
// token; /auth/refresh exchanges a refresh token exactly once (a second use of a spent one
// revokes its whole family: a stolen token then dies with the real one); /auth/logout
// revokes. Refresh tokens are stored hashed. Thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>

#include "auth/audit_log.h"
#include "auth/issuers.h"
#include "config/auth_config.h"
#include "core/blocking_pool.h"
#include "store/store.h"

namespace sluice {

struct TokenPair {
  std::string access_token;
  int64_t expires_in = 0;  // seconds
  std::string refresh_token;
  std::string user_id;
};

enum class LoginStatus {
  kOk,
  kInvalidCredentials,  // unknown user or wrong password (indistinguishable on purpose)
  kDisabled,
  kInvalidRefreshToken,
  kRefreshTokenReused,  // the family has been revoked
  kUsernameTaken,
  kUnavailable,
};

struct LoginOutcome {
  LoginStatus status = LoginStatus::kOk;
  TokenPair tokens;
};

class LoginService {
 public:
  LoginService(Store& store, BlockingPool& store_pool, BlockingPool& hash_pool, Issuers& issuers,
               const AuthConfig& config, AuditLog& audit);

  // Parameters are references (never by value: see BlockingPool::Run on GCC 12).
  boost::asio::awaitable<LoginOutcome> Login(const std::string& username,
                                             const std::string& password);
  boost::asio::awaitable<LoginOutcome> Refresh(const std::string& refresh_token);
  // Revokes the refresh token's family and, when given, the access token's id.
  boost::asio::awaitable<LoginStatus> Logout(const std::string& refresh_token,
                                             const std::string& access_jti,
                                             int64_t access_expires_at);
  // Self-registration (only when enabled in config): a user with role "user".
  boost::asio::awaitable<LoginOutcome> Register(const std::string& username,
                                                const std::string& password,
                                                const std::string& email);

  // argon2id (libsodium, OWASP parameters: t=2, m=19 MiB). Blocking: call on a pool.
  static std::string HashPassword(std::string_view password);
  static bool VerifyPassword(std::string_view hash, std::string_view password);

 private:
  // REQUIRES: runs on the store's thread.
  TokenPair Issue(const UserRecord& user, const std::string& family_id);

  Store& store_;
  BlockingPool& store_pool_;
  BlockingPool& hash_pool_;
  Issuers& issuers_;
  const AuthConfig& config_;
  AuditLog& audit_;
};

}  // namespace sluice
