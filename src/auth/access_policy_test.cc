// Tests of AccessPolicy (access_policy.h): the permissions of the built-in roles, custom
// roles from config, unknown roles granting nothing, glob matching, and which models a
// principal may use given its tier (exact names, globs, aliases, the default tier, unknown
// tiers) and its key's own allowed-model list (which narrows the tier, never widens it).
#include "auth/access_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/snapshot.h"

namespace sluice {
namespace {

constexpr uint64_t kReader = kPermKeysRead | kPermUsersRead | kPermTeamsRead | kPermUsageRead |
                             kPermUsageReadAll | kPermAuditRead | kPermConfigRead | kPermRolesRead;

TEST(AccessPolicyRoles, BuiltInRolePermissions) {
  AccessPolicy policy{AuthConfig()};
  struct Case {
    const char* role;
    uint64_t permissions;
  };
  const std::vector<Case> cases = {
      {"admin", AllPermissions()},
      {"operator", kReader | kPermModelsInvoke | kPermKeysManage | kPermTeamsManage |
                       kPermTokensRevoke | kPermConfigReload},
      {"user", kPermModelsInvoke | kPermUsageRead},
      {"readonly", kReader},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(policy.PermissionsOf({c.role}), c.permissions) << c.role;
    EXPECT_TRUE(policy.IsRole(c.role)) << c.role;
  }
  // What the roles are for, spelled out.
  EXPECT_EQ(AllPermissions(), (uint64_t{1} << 14) - 1);
  EXPECT_FALSE(policy.PermissionsOf({"operator"}) & kPermUsersManage);
  EXPECT_FALSE(policy.PermissionsOf({"readonly"}) & kPermModelsInvoke);
  EXPECT_FALSE(policy.PermissionsOf({"user"}) & kPermUsageReadAll);
  EXPECT_FALSE(policy.PermissionsOf({"user"}) & kPermKeysRead);
  for (const RoleInfo& role : policy.roles()) EXPECT_TRUE(role.built_in) << role.name;
  EXPECT_EQ(policy.roles().size(), 4u);
}

TEST(AccessPolicyRoles, UnknownRolesGrantNothingAndRolesUnite) {
  AccessPolicy policy{AuthConfig()};
  EXPECT_EQ(policy.PermissionsOf({}), 0u);
  for (const char* name : {"superuser", "Admin", "ADMIN", "", "admin ", "root", "*"}) {
    EXPECT_EQ(policy.PermissionsOf({name}), 0u) << "'" << name << "'";
    EXPECT_FALSE(policy.IsRole(name)) << "'" << name << "'";
  }
  EXPECT_EQ(policy.PermissionsOf({"user", "readonly"}), kReader | kPermModelsInvoke);
  EXPECT_EQ(policy.PermissionsOf({"bogus", "user"}), kPermModelsInvoke | kPermUsageRead);
}

TEST(AccessPolicyRoles, CustomRolesFromConfig) {
  AuthConfig config;
  config.roles.push_back({1, "auditor", {"audit:read", "usage:read_all", "no:such-permission"}});
  config.roles.push_back({2, "invoker", {"models:invoke"}});
  config.roles.push_back({3, "nothing", {}});
  AccessPolicy policy(config);
  EXPECT_EQ(policy.PermissionsOf({"auditor"}), kPermAuditRead | kPermUsageReadAll);
  EXPECT_EQ(policy.PermissionsOf({"invoker"}), kPermModelsInvoke);
  EXPECT_EQ(policy.PermissionsOf({"nothing"}), 0u);
  EXPECT_TRUE(policy.IsRole("nothing"));
  EXPECT_EQ(policy.PermissionsOf({"auditor", "invoker"}),
            kPermAuditRead | kPermUsageReadAll | kPermModelsInvoke);
  // The built-in roles are still there, and the custom ones are marked as such.
  EXPECT_EQ(policy.PermissionsOf({"admin"}), AllPermissions());
  ASSERT_EQ(policy.roles().size(), 7u);
  EXPECT_EQ(policy.roles()[4].name, "auditor");
  EXPECT_FALSE(policy.roles()[4].built_in);
}

TEST(AccessPolicyGlob, Table) {
  const std::string many_a(40, 'a');  // backtracking must give up, not match
  struct Case {
    const char* pattern;
    const char* text;
    bool match;
  };
  const std::vector<Case> cases = {
      {"", "", true},
      {"", "a", false},
      {"*", "", true},
      {"*", "anything-at-all", true},
      {"gpt-4o", "gpt-4o", true},
      {"gpt-4o", "gpt-4o-mini", false},
      {"gpt-4o", "GPT-4o", false},
      {"gpt-4o*", "gpt-4o", true},
      {"gpt-4o*", "gpt-4o-mini", true},
      {"gpt-4o*", "gpt-4", false},
      {"*-mini", "gpt-4o-mini", true},
      {"*-mini", "gpt-4o-mini-2", false},
      {"?pt-4o", "gpt-4o", true},
      {"?pt-4o", "pt-4o", false},
      {"claude-?", "claude-3", true},
      {"claude-?", "claude-35", false},
      {"a*b*c", "aXXbYYc", true},
      {"a*b*c", "aXXbYY", false},
      {"**", "x", true},
      {"a*a*a*a*b", many_a.c_str(), false},
      {"org/*", "org/model", true},
      {"org/*", "other/model", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(GlobMatch(c.pattern, c.text), c.match) << c.pattern << " ~ " << c.text;
  }
}

class AccessPolicyModels : public testing::Test {
 protected:
  AccessPolicyModels() {
    mini_.name = "gpt-4o-mini";
    mini_.aliases = {"fast"};
    gpt4o_.name = "gpt-4o";
    claude_.name = "claude-3";
    claude_.aliases = {"sonnet", "smart"};
    llama_.name = "llama-3";
    config_.tiers.push_back({1, "free", {"gpt-4o-mini"}});
    config_.tiers.push_back({2, "pro", {"gpt-4o*", "claude-*"}});
    config_.tiers.push_back({3, "all", {"*"}});
    config_.tiers.push_back({4, "by-alias", {"smart"}});
    config_.tiers.push_back({5, "empty", {}});
  }

  static Principal WithTier(std::string tier, std::vector<std::string> allowed = {}) {
    Principal p;
    p.kind = Principal::Kind::kApiKey;
    p.tier = std::move(tier);
    p.allowed_models = std::move(allowed);
    return p;
  }

  AuthConfig config_;
  ModelConfig mini_;
  ModelConfig gpt4o_;
  ModelConfig claude_;
  ModelConfig llama_;
};

TEST_F(AccessPolicyModels, TiersRestrictModels) {
  AccessPolicy policy(config_);
  struct Case {
    const char* tier;
    const ModelConfig* model;
    const char* requested;
    bool allowed;
  };
  const std::vector<Case> cases = {
      {"free", &mini_, "gpt-4o-mini", true},  // exact name
      {"free", &mini_, "fast", true},         // asked for by alias
      {"free", &gpt4o_, "gpt-4o", false},
      {"free", &claude_, "claude-3", false},
      {"pro", &mini_, "gpt-4o-mini", true},  // glob
      {"pro", &gpt4o_, "gpt-4o", true},
      {"pro", &claude_, "sonnet", true},  // the model's name matches, whatever was asked
      {"pro", &llama_, "llama-3", false},
      {"all", &llama_, "llama-3", true},
      {"all", &claude_, "claude-3", true},
      {"by-alias", &claude_, "claude-3", true},  // the tier names an alias of the model
      {"by-alias", &claude_, "sonnet", true},
      {"by-alias", &gpt4o_, "gpt-4o", false},
      {"empty", &mini_, "gpt-4o-mini", false},
      {"no-such-tier", &mini_, "gpt-4o-mini", false},  // an unknown tier allows nothing
  };
  for (const Case& c : cases) {
    EXPECT_EQ(policy.ModelAllowed(WithTier(c.tier), *c.model, c.requested), c.allowed)
        << c.tier << " / " << c.model->name << " as " << c.requested;
  }
  EXPECT_TRUE(policy.IsTier("free"));
  EXPECT_TRUE(policy.IsTier("empty"));
  EXPECT_FALSE(policy.IsTier("no-such-tier"));
  EXPECT_FALSE(policy.IsTier("FREE"));
}

TEST_F(AccessPolicyModels, DefaultTierAppliesWhenThePrincipalHasNone) {
  config_.default_tier = "free";
  AccessPolicy policy(config_);
  EXPECT_EQ(policy.default_tier(), "free");
  EXPECT_TRUE(policy.ModelAllowed(WithTier(""), mini_, "gpt-4o-mini"));
  EXPECT_FALSE(policy.ModelAllowed(WithTier(""), gpt4o_, "gpt-4o"));
  // A principal's own tier wins over the default.
  EXPECT_TRUE(policy.ModelAllowed(WithTier("pro"), gpt4o_, "gpt-4o"));
  EXPECT_FALSE(policy.ModelAllowed(WithTier("free"), gpt4o_, "gpt-4o"));
}

TEST_F(AccessPolicyModels, NoTierAndNoDefaultTierMeansNoTierLimit) {
  AccessPolicy policy(config_);
  EXPECT_EQ(policy.default_tier(), "");
  EXPECT_TRUE(policy.ModelAllowed(WithTier(""), llama_, "llama-3"));
  EXPECT_TRUE(policy.ModelAllowed(WithTier(""), gpt4o_, "gpt-4o"));
}

TEST_F(AccessPolicyModels, ADefaultTierThatIsNotATierAllowsNothing) {
  config_.default_tier = "missing";
  AccessPolicy policy(config_);
  EXPECT_FALSE(policy.ModelAllowed(WithTier(""), mini_, "gpt-4o-mini"));
  EXPECT_TRUE(policy.ModelAllowed(WithTier("all"), mini_, "gpt-4o-mini"));
}

TEST_F(AccessPolicyModels, WithoutTiersEveryModelIsAllowed) {
  AccessPolicy policy{AuthConfig()};
  for (const ModelConfig* model : {&mini_, &gpt4o_, &claude_, &llama_}) {
    EXPECT_TRUE(policy.ModelAllowed(WithTier(""), *model, model->name)) << model->name;
    // A tier name means nothing when no tiers are configured.
    EXPECT_TRUE(policy.ModelAllowed(WithTier("gold"), *model, model->name)) << model->name;
  }
}

TEST_F(AccessPolicyModels, KeyAllowedModelsNarrowTheTier) {
  AccessPolicy policy(config_);
  struct Case {
    const char* tier;
    std::vector<std::string> allowed;
    const ModelConfig* model;
    const char* requested;
    bool expected;
  };
  const std::vector<Case> cases = {
      // Both the key and the tier allow it.
      {"pro", {"gpt-4o"}, &gpt4o_, "gpt-4o", true},
      // The tier allows it, the key does not: the key narrows.
      {"pro", {"gpt-4o"}, &claude_, "claude-3", false},
      {"pro", {"gpt-4o"}, &mini_, "gpt-4o-mini", false},
      // The key allows it, the tier does not: the key cannot widen its tier.
      {"free", {"gpt-4o", "llama-*"}, &gpt4o_, "gpt-4o", false},
      {"pro", {"llama-3"}, &llama_, "llama-3", false},
      // Globs and aliases in the key's list.
      {"all", {"llama-*"}, &llama_, "llama-3", true},
      {"all", {"fast"}, &mini_, "gpt-4o-mini", true},
      {"all", {"gpt-4o-mini"}, &mini_, "fast", true},
      {"all", {"sonnet"}, &gpt4o_, "gpt-4o", false},
      // An empty list is no restriction beyond the tier.
      {"pro", {}, &claude_, "claude-3", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(policy.ModelAllowed(WithTier(c.tier, c.allowed), *c.model, c.requested), c.expected)
        << c.tier << " / " << c.model->name << " as " << c.requested;
  }
}

TEST_F(AccessPolicyModels, KeyAllowedModelsApplyWithoutTiers) {
  AccessPolicy policy{AuthConfig()};
  Principal key = WithTier("", {"gpt-4o*"});
  EXPECT_TRUE(policy.ModelAllowed(key, gpt4o_, "gpt-4o"));
  EXPECT_TRUE(policy.ModelAllowed(key, mini_, "fast"));
  EXPECT_FALSE(policy.ModelAllowed(key, claude_, "claude-3"));
  EXPECT_FALSE(policy.ModelAllowed(key, llama_, "llama-3"));
}

}  // namespace
}  // namespace sluice
