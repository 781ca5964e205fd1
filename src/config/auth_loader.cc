// Readers of the auth:, store: and admin: sections (see auth_config.h). Only shapes and
// names are checked here; key material is loaded and checked by the auth library.
#include "config/auth_loader.h"

#include <set>

#include "core/principal.h"

namespace sluice {
namespace {

constexpr std::string_view kBuiltInRoles[] = {"admin", "operator", "user", "readonly"};

void ReadIssuer(const ConfigNode& node, JwtIssuerConfig& issuer) {
  node.AllowKeys({"issuer", "audiences", "algorithms", "leeway", "required_claims", "jwks_url",
                  "jwks_refresh", "jwks_min_refresh", "keys", "roles_claim", "tier_claim",
                  "default_roles"});
  issuer.line = node.line();
  issuer.issuer = node.String("issuer", "");
  if (issuer.issuer.empty()) node.Error("an issuer needs 'issuer' (the value of the iss claim)");
  issuer.audiences = node.StringList("audiences");
  if (node.Has("algorithms")) issuer.algorithms = node.StringList("algorithms");
  for (const std::string& alg : issuer.algorithms) {
    if (alg != "RS256" && alg != "ES256" && alg != "HS256") {
      node.Child("algorithms")
          .Error("unsupported algorithm '" + alg + "' (supported: RS256, ES256, HS256)");
    }
  }
  issuer.leeway = node.Duration("leeway", issuer.leeway);
  issuer.required_claims = node.StringList("required_claims");
  issuer.jwks_url = node.String("jwks_url", "");
  issuer.jwks_refresh = node.Duration("jwks_refresh", issuer.jwks_refresh);
  issuer.jwks_min_refresh = node.Duration("jwks_min_refresh", issuer.jwks_min_refresh);
  issuer.roles_claim = node.String("roles_claim", issuer.roles_claim);
  issuer.tier_claim = node.String("tier_claim", issuer.tier_claim);
  if (node.Has("default_roles")) issuer.default_roles = node.StringList("default_roles");
  ConfigNode keys = node.Child("keys");
  if (keys.defined() && !keys.is_sequence()) keys.Error("must be a list");
  for (const ConfigNode& item : keys.Items()) {
    if (!item.ExpectMap(false)) continue;
    item.AllowKeys({"kid", "pem_file", "secret_env"});
    JwtKeySpec key;
    key.line = item.line();
    key.kid = item.String("kid", "");
    key.pem_file = item.String("pem_file", "");
    key.secret_env = item.String("secret_env", "");
    if (key.pem_file.empty() == key.secret_env.empty()) {
      item.Error("a key needs exactly one of pem_file or secret_env");
    }
    if (!key.secret_env.empty()) {
      const char* secret = std::getenv(key.secret_env.c_str());
      if (secret == nullptr || *secret == '\0') {
        item.Child("secret_env").Error("environment variable " + key.secret_env + " is not set");
      } else {
        key.secret = secret;
      }
    }
    issuer.keys.push_back(std::move(key));
  }
  if (issuer.keys.empty() && issuer.jwks_url.empty()) {
    node.Error("issuer '" + issuer.issuer + "' needs keys or a jwks_url");
  }
}

void ReadLogin(const ConfigNode& node, AuthConfig& auth) {
  if (!node.ExpectMap()) return;
  node.AllowKeys({"enabled", "access_token_ttl", "refresh_token_ttl", "signing_secret_env",
                  "self_registration"});
  auth.login_enabled = node.Bool("enabled", auth.login_enabled);
  auth.access_token_ttl = node.Duration("access_token_ttl", auth.access_token_ttl);
  auth.refresh_token_ttl = node.Duration("refresh_token_ttl", auth.refresh_token_ttl);
  auth.signing_secret_env = node.String("signing_secret_env", "");
  if (!auth.signing_secret_env.empty()) {
    const char* secret = std::getenv(auth.signing_secret_env.c_str());
    if (secret == nullptr || std::string_view(secret).size() < 32) {
      node.Child("signing_secret_env")
          .Error("environment variable " + auth.signing_secret_env +
                 " must hold a secret of at least 32 bytes");
    } else {
      auth.signing_secret = secret;
    }
  }
  auth.self_registration = node.Bool("self_registration", auth.self_registration);
}

void ReadRoles(const ConfigNode& node, AuthConfig& auth) {
  if (!node.ExpectMap()) return;
  for (auto& [name, permissions] : node.Entries()) {
    for (std::string_view builtin : kBuiltInRoles) {
      if (name == builtin) permissions.Error("'" + name + "' is a built-in role");
    }
    RoleConfig role;
    role.line = permissions.line();
    role.name = name;
    if (!permissions.is_sequence()) {
      permissions.Error("must be a list of permissions, such as [models:invoke, usage:read]");
      continue;
    }
    for (const ConfigNode& item : permissions.Items()) {
      auto text = item.Scalar();
      if (!text) continue;
      if (!ParsePermission(*text)) {
        item.Error("unknown permission '" + *text + "'");
        continue;
      }
      role.permissions.push_back(*text);
    }
    auth.roles.push_back(std::move(role));
  }
}

void ReadTiers(const ConfigNode& node, AuthConfig& auth) {
  if (!node.ExpectMap()) return;
  for (auto& [name, models] : node.Entries()) {
    TierConfig tier;
    tier.line = models.line();
    tier.name = name;
    if (!models.is_sequence()) {
      models.Error("must be a list of model names or globs, such as [gpt-4o-mini, \"text-*\"]");
      continue;
    }
    for (const ConfigNode& item : models.Items()) {
      if (auto text = item.Scalar()) tier.models.push_back(*text);
    }
    auth.tiers.push_back(std::move(tier));
  }
}

}  // namespace

void ReadAuth(const ConfigNode& node, AuthConfig& auth) {
  if (!node.ExpectMap()) return;
  auth.configured = true;
  node.AllowKeys(
      {"key_cache_ttl", "issuers", "login", "roles", "tiers", "default_tier", "bootstrap"});
  auth.line = node.line();
  auth.key_cache_ttl = node.Duration("key_cache_ttl", auth.key_cache_ttl);
  ConfigNode issuers = node.Child("issuers");
  if (issuers.defined() && !issuers.is_sequence()) issuers.Error("must be a list");
  std::set<std::string> seen;
  for (const ConfigNode& item : issuers.Items()) {
    if (!item.ExpectMap(false)) continue;
    JwtIssuerConfig issuer;
    ReadIssuer(item, issuer);
    if (!issuer.issuer.empty() && !seen.insert(issuer.issuer).second) {
      item.Error("issuer '" + issuer.issuer + "' appears twice");
    }
    auth.issuers.push_back(std::move(issuer));
  }
  ReadLogin(node.Child("login"), auth);
  ReadRoles(node.Child("roles"), auth);
  ReadTiers(node.Child("tiers"), auth);
  auth.default_tier = node.String("default_tier", "");
  if (!auth.default_tier.empty()) {
    bool known = false;
    for (const TierConfig& tier : auth.tiers) known = known || tier.name == auth.default_tier;
    if (!known) node.Child("default_tier").Error("unknown tier '" + auth.default_tier + "'");
  }
  ConfigNode bootstrap = node.Child("bootstrap");
  if (bootstrap.ExpectMap()) {
    bootstrap.AllowKeys({"admin_key", "demo_key_file"});
    auth.bootstrap_admin_key = bootstrap.Bool("admin_key", auth.bootstrap_admin_key);
    auth.bootstrap_demo_key_file = bootstrap.String("demo_key_file", "");
  }
}

void ReadStore(const ConfigNode& node, StoreConfig& store) {
  if (!node.ExpectMap()) return;
  store.configured = true;
  node.AllowKeys({"sqlite", "usage_journal", "usage_records", "usage_durability"});
  store.sqlite_path = node.String("sqlite", store.sqlite_path);
  if (store.sqlite_path.empty()) node.Child("sqlite").Error("must be a file path");
  store.usage_journal_dir = node.String("usage_journal", "");
  store.records_usage = node.Bool("usage_records", store.records_usage);
  if (node.Has("usage_durability")) {
    std::string durability = node.String("usage_durability", "disk");
    if (durability == "disk" || durability == "process") {
      store.usage_sync_to_disk = durability == "disk";
    } else {
      node.Child("usage_durability").Error("must be disk or process");
    }
  }
}

void ReadAdmin(const ConfigNode& node, AdminConfig& admin) {
  if (!node.ExpectMap()) return;
  admin.enabled = true;
  node.AllowKeys({"enabled", "listen"});
  admin.enabled = node.Bool("enabled", admin.enabled);
  if (node.Has("listen")) {
    ConfigNode listen = node.Child("listen");
    if (auto text = listen.Scalar()) {
      if (auto addr = ParseListenAddress(*text)) {
        admin.listen = *addr;
      } else {
        listen.Error("must be host:port with a numeric address, not '" + *text + "'");
      }
    }
  }
}

}  // namespace sluice
