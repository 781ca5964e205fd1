// The authorization model: roles (built-in admin, operator, user, readonly, plus custom roles
// from config) map to permission bits; tiers map to the models they may use; a key's own
// allowed-model list narrows that further. Model patterns are exact names or globs ('*',
// '?') and match a model's public name, its aliases or the name the client sent.
// Built once per configuration; immutable and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/auth_config.h"
#include "config/model_patterns.h"
#include "core/principal.h"

namespace sluice {

struct ModelConfig;

struct RoleInfo {
  std::string name;
  uint64_t permissions = 0;
  bool built_in = false;
};

class AccessPolicy {
 public:
  explicit AccessPolicy(const AuthConfig& config);

  // Union of the permissions of `roles`; unknown role names grant nothing.
  uint64_t PermissionsOf(const std::vector<std::string>& roles) const;
  bool IsRole(std::string_view name) const;
  bool IsTier(std::string_view name) const;
  const std::vector<RoleInfo>& roles() const { return roles_; }
  const std::string& default_tier() const { return default_tier_; }

  // May `principal` use `model` (asked for as `requested`)?
  bool ModelAllowed(const Principal& principal, const ModelConfig& model,
                    std::string_view requested) const;

 private:
  std::vector<RoleInfo> roles_;
  std::vector<TierConfig> tiers_;
  std::string default_tier_;
};

}  // namespace sluice
