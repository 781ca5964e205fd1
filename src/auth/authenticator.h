// Turns a request's credentials into a Principal: gateway API keys (checksum first, then
// the key cache, the store only on a miss, on the store's thread) and JWTs (gateway login
// tokens and external identity providers, see Issuers). Reports why authentication failed
// as an ErrorClass (missing, invalid, expired, revoked, disabled). Used by the auth filter
// and the admin API. Thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/access_policy.h"
#include "auth/issuers.h"
#include "auth/key_cache.h"
#include "core/blocking_pool.h"
#include "core/errors.h"
#include "core/http_types.h"
#include "core/principal.h"
#include "store/store.h"

namespace sluice {

struct AuthResult {
  std::shared_ptr<const Principal> principal;
  ErrorClass error = ErrorClass::kNone;
  std::string message;     // for the 401 body; never contains the credential
  bool was_token = false;  // a JWT was presented (for WWW-Authenticate error=invalid_token)
};

class Authenticator {
 public:
  Authenticator(KeyCache& keys, Store& store, BlockingPool& store_pool, const AccessPolicy& policy,
                Issuers& issuers, boost::asio::io_context& control);

  // The credential in "Authorization: Bearer", "X-API-Key" or "api-key", or empty.
  static std::string_view Credentials(const HttpRequest& request);

  boost::asio::awaitable<AuthResult> Authenticate(std::string_view credentials);
  // The same answer without suspending when the credential is an API key whose state is
  // cached (the common case); nullopt when Authenticate() is needed (a cache miss, a JWT,
  // anything malformed). Saves the coroutine frames on the hot path. `now` and `unix_now`
  // are the request's start times (no clock read per check).
  std::optional<AuthResult> TryCached(std::string_view credentials, SteadyTime now,
                                      int64_t unix_now) const;

  // Reads a key's state from the store. REQUIRES: runs on the store's thread.
  std::shared_ptr<KeyState> LoadKeyState(std::string_view hash) const;
  // The principal of a key record (with its owner's roles, tier and status).
  std::shared_ptr<const Principal> KeyPrincipal(const ApiKeyRecord& key, const UserRecord* user,
                                                const TeamRecord* team) const;
  std::shared_ptr<const Principal> TokenPrincipal(const Issuer& issuer,
                                                  const jwt::VerifiedToken& token) const;

 private:
  boost::asio::awaitable<AuthResult> AuthenticateKey(std::string_view key);
  // The verdict on a found key state (checks in the documented order; counts the use).
  AuthResult Judge(const KeyState& state, std::string_view hash, int64_t unix_now) const;
  boost::asio::awaitable<AuthResult> AuthenticateToken(std::string_view token);

  KeyCache& keys_;
  Store& store_;
  BlockingPool& store_pool_;
  const AccessPolicy& policy_;
  Issuers& issuers_;
  boost::asio::io_context& control_;
};

}  // namespace sluice
