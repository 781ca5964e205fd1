// Who is making a request, once authentication has run: an API key, a user signed in
// through the gateway, or a subject of an external identity provider; with the roles,
// permissions, tier, allowed models and per-key limit overrides that authorization, limits
// and usage records use. Built once per key (cached) or per verified token, shared read-only
// through shared_ptr<const Principal>; immutable, thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/key_limits.h"

namespace sluice {

// One bit per permission; roles map to a set of them (auth/permissions).
enum Permission : uint64_t {
  kPermModelsInvoke = 1u << 0,
  kPermKeysRead = 1u << 1,
  kPermKeysManage = 1u << 2,
  kPermUsersRead = 1u << 3,
  kPermUsersManage = 1u << 4,
  kPermTeamsRead = 1u << 5,
  kPermTeamsManage = 1u << 6,
  kPermUsageRead = 1u << 7,
  kPermUsageReadAll = 1u << 8,
  kPermAuditRead = 1u << 9,
  kPermConfigRead = 1u << 10,
  kPermRolesRead = 1u << 11,
  kPermTokensRevoke = 1u << 12,
  kPermConfigReload = 1u << 13,
};

// "models:invoke" → kPermModelsInvoke; nullopt for unknown names.
std::optional<uint64_t> ParsePermission(std::string_view name);
std::vector<std::string_view> PermissionNames(uint64_t permissions);
uint64_t AllPermissions();

struct Principal {
  enum class Kind : uint8_t { kAnonymous, kApiKey, kUser, kExternal };
  Kind kind = Kind::kAnonymous;
  std::string id;          // "key:<id>", "user:<id>", "jwt:<issuer>#<subject>", "anonymous"
  std::string key_id;      // API keys
  std::string key_prefix;  // API keys: the display prefix, safe to log
  std::string user_id;     // owner user (keys) or the signed-in user
  std::string team_id;
  std::string issuer;   // external tokens
  std::string subject;  // external tokens
  std::vector<std::string> roles;
  uint64_t permissions = 0;
  std::string tier;
  std::vector<std::string> allowed_models;  // key's own list; empty: the tier's
  int64_t expires_at = 0;                   // key or token expiry (Unix seconds), 0: never
  // The key's own limit overrides; null when it has none (every other principal), so a
  // request without overrides pays one null test. Shared: a Principal is built per cache fill.
  std::shared_ptr<const KeyLimits> key_limits;

  bool Can(uint64_t permission) const { return (permissions & permission) == permission; }
};

}  // namespace sluice
