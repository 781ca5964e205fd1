// The identity and access settings of a configuration (auth:, store:, admin: sections) as
// plain data. Key material (PEM files, secrets, JWK) is only located here; the auth
// library turns it into keys and reports problems with the line recorded below. Immutable
// after load; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "config/units.h"

namespace sluice {

using std::chrono::milliseconds;

struct JwtKeySpec {
  int line = 0;
  std::string kid;
  std::string pem_file;  // a PEM public key (RSA or EC P-256)
  std::string secret;    // HS256 secret, resolved from secret_env (never written in the file)
  std::string secret_env;
};

struct JwtIssuerConfig {
  int line = 0;
  std::string issuer;
  std::vector<std::string> audiences;
  std::vector<std::string> algorithms = {"RS256"};
  milliseconds leeway{60'000};
  std::vector<std::string> required_claims;
  std::string jwks_url;
  milliseconds jwks_refresh{600'000};
  milliseconds jwks_min_refresh{30'000};
  std::vector<JwtKeySpec> keys;
  std::string roles_claim = "roles";  // a string or an array of strings
  std::string tier_claim = "tier";
  std::vector<std::string> default_roles = {"user"};
};

struct RoleConfig {
  int line = 0;
  std::string name;
  std::vector<std::string> permissions;
};

struct TierConfig {
  int line = 0;
  std::string name;
  std::vector<std::string> models;  // names, aliases or globs ("*", "gpt-4o*")
};

struct AuthConfig {
  bool configured = false;  // an auth: section is present
  milliseconds key_cache_ttl{10'000};
  std::vector<JwtIssuerConfig> issuers;
  // Gateway sign-in (POST /auth/login).
  bool login_enabled = true;
  milliseconds access_token_ttl{15 * 60'000};
  milliseconds refresh_token_ttl{30LL * 24 * 3'600'000};
  std::string signing_secret_env;  // empty: a secret generated once and kept in the store
  std::string signing_secret;
  bool self_registration = false;
  std::vector<RoleConfig> roles;  // custom roles, beside the built-in ones
  std::vector<TierConfig> tiers;
  std::string default_tier;
  // First start: create an admin key and print it once; optionally a demo application key
  // written to a file (make run uses it for the README examples).
  bool bootstrap_admin_key = true;
  std::string bootstrap_demo_key_file;
  int line = 0;
};

struct StoreConfig {
  bool configured = false;  // a store: section is present
  std::string sqlite_path = "sluice.db";
  // Usage records are journaled here before they reach the store (default: the SQLite
  // path + ".usage"); records_usage false turns usage records off.
  std::string usage_journal_dir;
  bool records_usage = true;
  // "disk" (default): a record is fdatasync'ed before the response's last byte; "process":
  // written to the OS before it (survives a crash or kill -9 of the gateway, not of the
  // machine), which saves one disk flush per group of responses.
  bool usage_sync_to_disk = true;
};

// The admin API listener exists only when the config has an admin: section.
struct AdminConfig {
  bool enabled = false;
  ListenAddress listen{"127.0.0.1", 9901};
};

}  // namespace sluice
