// Permission names (as written in configuration and shown by the admin API).
#include "core/principal.h"

#include <array>
#include <utility>

namespace sluice {
namespace {

constexpr std::array<std::pair<std::string_view, uint64_t>, 14> kPermissionNames = {{
    {"models:invoke", kPermModelsInvoke},
    {"keys:read", kPermKeysRead},
    {"keys:manage", kPermKeysManage},
    {"users:read", kPermUsersRead},
    {"users:manage", kPermUsersManage},
    {"teams:read", kPermTeamsRead},
    {"teams:manage", kPermTeamsManage},
    {"usage:read", kPermUsageRead},
    {"usage:read_all", kPermUsageReadAll},
    {"audit:read", kPermAuditRead},
    {"config:read", kPermConfigRead},
    {"roles:read", kPermRolesRead},
    {"tokens:revoke", kPermTokensRevoke},
    {"config:reload", kPermConfigReload},
}};

}  // namespace

std::optional<uint64_t> ParsePermission(std::string_view name) {
  for (const auto& [text, bit] : kPermissionNames) {
    if (text == name) return bit;
  }
  return std::nullopt;
}

std::vector<std::string_view> PermissionNames(uint64_t permissions) {
  std::vector<std::string_view> names;
  for (const auto& [text, bit] : kPermissionNames) {
    if ((permissions & bit) != 0) names.push_back(text);
  }
  return names;
}

uint64_t AllPermissions() {
  uint64_t all = 0;
  for (const auto& entry : kPermissionNames) all |= entry.second;
  return all;
}

}  // namespace sluice
