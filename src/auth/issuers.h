// The JWT issuers Sluice trusts: those in config (with static keys and/or a JWKS URL) and
// the gateway itself (HS256 access tokens issued by POST /auth/login). Picks the issuer of
// a token, verifies it (with a verified-token cache in front), fetches JWKS on schedule and
// on an unknown kid (at most once per interval), and keeps the revoked token ids.
// Built once at start; thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt/jwt.h"
#include "config/auth_config.h"

namespace sluice {

struct Issuer {
  JwtIssuerConfig config;
  jwt::Policy policy;
  jwt::KeySet static_keys;
  std::unique_ptr<jwt::JwksCache> jwks;  // null without jwks_url
  bool gateway = false;                  // our own login tokens
};

class Issuers {
 public:
  // Builds the configured issuers; problems (unreadable PEM, bad algorithm) are appended
  // to `errors` as "file:line: ..." using `source` as the file name.
  static std::unique_ptr<Issuers> Build(const AuthConfig& config, const std::string& source,
                                        std::vector<std::string>& errors);

  // Adds the gateway's own issuer for login tokens. REQUIRES: secret of ≥ 32 bytes.
  void AddGatewayIssuer(const std::string& secret, const std::string& issuer_name);
  const jwt::Key* gateway_signing_key() const { return gateway_key_.get(); }
  const std::string& gateway_issuer() const { return gateway_issuer_name_; }

  // Verifies `token`: picks the issuer from its (unverified) "iss", checks the verified
  // cache, verifies, and on an unknown kid of a JWKS issuer fetches the set once (through
  // `io`) and retries. The result's token is the cached verified token on success.
  struct Outcome {
    jwt::VerifyError error = jwt::VerifyError::kNone;
    const Issuer* issuer = nullptr;
    std::shared_ptr<const jwt::VerifiedToken> token;
  };
  boost::asio::awaitable<Outcome> Verify(std::string_view token, boost::asio::io_context& io);

  // Fetches every JWKS whose scheduled refresh is due (called by the runtime's timer).
  boost::asio::awaitable<void> RefreshDue(boost::asio::io_context& io);

  // Revoked token ids (jti), denied until their own expiry.
  void Revoke(const std::string& jti);
  bool IsRevoked(std::string_view jti) const;
  void ReplaceRevoked(std::vector<std::string> jtis);

  const std::vector<std::unique_ptr<Issuer>>& all() const { return issuers_; }

 private:
  const Issuer* Find(std::string_view name) const;
  boost::asio::awaitable<void> Fetch(Issuer& issuer, boost::asio::io_context& io);

  std::vector<std::unique_ptr<Issuer>> issuers_;
  std::unique_ptr<jwt::Key> gateway_key_;
  std::string gateway_issuer_name_;
  jwt::VerifiedTokenCache verified_;
  boost::asio::ssl::context tls_{boost::asio::ssl::context::tls_client};
  mutable std::mutex revoked_mutex_;
  std::set<std::string, std::less<>> revoked_;
  std::map<std::string, std::chrono::steady_clock::time_point> recent_;
};

}  // namespace sluice
