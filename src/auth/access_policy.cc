// Roles, tiers and model permissions (see access_policy.h).
#include "auth/access_policy.h"

#include "config/snapshot.h"

namespace sluice {
namespace {

std::vector<RoleInfo> BuiltInRoles() {
  uint64_t reader = kPermKeysRead | kPermUsersRead | kPermTeamsRead | kPermUsageRead |
                    kPermUsageReadAll | kPermAuditRead | kPermConfigRead | kPermRolesRead;
  return {
      {"admin", AllPermissions(), true},
      {"operator",
       reader | kPermModelsInvoke | kPermKeysManage | kPermTeamsManage | kPermTokensRevoke |
           kPermConfigReload,
       true},
      {"user", kPermModelsInvoke | kPermUsageRead, true},
      {"readonly", reader, true},
  };
}

}  // namespace

AccessPolicy::AccessPolicy(const AuthConfig& config)
    : roles_(BuiltInRoles()), tiers_(config.tiers), default_tier_(config.default_tier) {
  for (const RoleConfig& custom : config.roles) {
    RoleInfo role{custom.name, 0, false};
    for (const std::string& name : custom.permissions) {
      if (auto bit = ParsePermission(name)) role.permissions |= *bit;
    }
    roles_.push_back(std::move(role));
  }
}

uint64_t AccessPolicy::PermissionsOf(const std::vector<std::string>& roles) const {
  uint64_t permissions = 0;
  for (const std::string& name : roles) {
    for (const RoleInfo& role : roles_) {
      if (role.name == name) permissions |= role.permissions;
    }
  }
  return permissions;
}

bool AccessPolicy::IsRole(std::string_view name) const {
  for (const RoleInfo& role : roles_) {
    if (role.name == name) return true;
  }
  return false;
}

bool AccessPolicy::IsTier(std::string_view name) const {
  for (const TierConfig& tier : tiers_) {
    if (tier.name == name) return true;
  }
  return false;
}

bool AccessPolicy::ModelAllowed(const Principal& principal, const ModelConfig& model,
                                std::string_view requested) const {
  if (!principal.allowed_models.empty()) {
    if (!ModelMatchesAny(principal.allowed_models, model, requested)) return false;
  }
  if (tiers_.empty()) return true;
  std::string_view tier =
      principal.tier.empty() ? std::string_view(default_tier_) : std::string_view(principal.tier);
  if (tier.empty()) return true;  // documented: no tier and no default tier → no tier limit
  for (const TierConfig& config : tiers_) {
    if (config.name == tier) return ModelMatchesAny(config.models, model, requested);
  }
  return false;  // an unknown tier allows nothing
}

}  // namespace sluice
