// Integration: which models a principal may use — tiers (the default tier, a premium tier,
// an unknown tier), a key's own allowed-model globs narrowing its tier, aliases matching
// either way, 403 model_not_allowed naming the model (param "model"), and GET /v1/models
// and /v1/models/{id} showing only what the principal may call.
#include <gtest/gtest.h>

#include <set>

#include "tests/integration/auth_test_fixture.h"

namespace sluice::testing::auth_test {
namespace {

class AuthModelsTest : public ::testing::Test {
 protected:
  void ExpectModelNotAllowed(std::string_view model, const TestKey& key) {
    int before = gw_.upstream().requests();
    Response r = gw_.ChatWithKey(model, key.secret);
    json::object error = ExpectOpenAiError(r, 403, "permission_error", "model_not_allowed");
    EXPECT_EQ(error["param"], json::value("model"));
    EXPECT_NE(r.body.find("`" + std::string(model) + "`"), std::string::npos) << r.body;
    ExpectNoSecrets("403 body", r.body, {key.secret});
    EXPECT_EQ(gw_.upstream().requests(), before) << "a denied request reached the upstream";
  }

  void ExpectAllowed(std::string_view model, const TestKey& key) {
    int before = gw_.upstream().requests();
    Response r = gw_.ChatWithKey(model, key.secret);
    EXPECT_EQ(r.status, 200) << model << ": " << r.body;
    EXPECT_EQ(gw_.upstream().requests(), before + 1);
  }

  std::set<std::string> ListedModels(const TestKey& key) {
    Response r = gw_.Send(GetRequest("/v1/models", BearerHeader(key.secret)));
    EXPECT_EQ(r.status, 200) << r.body;
    std::set<std::string> ids;
    json::value body = json::parse(r.body);
    EXPECT_EQ(body.at("object").as_string(), "list");
    for (const json::value& model : body.at("data").as_array()) {
      ids.insert(std::string(model.at("id").as_string()));
    }
    return ids;
  }

  AuthGateway gw_;
};

TEST_F(AuthModelsTest, DefaultTierAllowsAModelListedByItsAlias) {
  TestKey key = gw_.CreateKey();
  ExpectAllowed("m", key);
  ExpectAllowed("m-alias", key);
  EXPECT_EQ(json::parse(gw_.upstream().requests_seen().back().body).at("model").as_string(),
            "up-m");
}

TEST_F(AuthModelsTest, DefaultTierAllowsModelsMatchingItsGlob) {
  TestKey key = gw_.CreateKey();
  ExpectAllowed("text-small", key);
  ExpectAllowed("text-large", key);
}

TEST_F(AuthModelsTest, DefaultTierDeniesAPremiumModel) {
  ExpectModelNotAllowed("pro", gw_.CreateKey());
}

TEST_F(AuthModelsTest, ExplicitBasicTierDeniesAPremiumModel) {
  ExpectModelNotAllowed("pro", gw_.CreateKey({.tier = "basic"}));
}

TEST_F(AuthModelsTest, PremiumTierAllowsEveryModel) {
  TestKey key = gw_.CreateKey({.tier = "premium"});
  ExpectAllowed("pro", key);
  ExpectAllowed("m", key);
}

TEST_F(AuthModelsTest, UnknownTierAllowsNothing) {
  ExpectModelNotAllowed("m", gw_.CreateKey({.tier = "gold"}));
}

TEST_F(AuthModelsTest, OwnersTierAppliesToItsKeys) {
  std::string owner = gw_.CreateUser("premium-owner", "correct horse battery");
  UserRecord user = *gw_.OnStore([&] { return gw_.auth().store().GetUser(owner); }).value();
  user.tier = "premium";
  ASSERT_TRUE(gw_.OnStore([&] { return gw_.auth().store().UpdateUser(user); }).ok());
  ExpectAllowed("pro", gw_.CreateKey({.user_id = owner}));
}

TEST_F(AuthModelsTest, KeyAllowedModelsNarrowItsTier) {
  TestKey key = gw_.CreateKey({.tier = "premium", .allowed_models = {"text-*"}});
  ExpectAllowed("text-small", key);
  ExpectAllowed("text-large", key);
  ExpectModelNotAllowed("pro", key);
  ExpectModelNotAllowed("m", key);
}

TEST_F(AuthModelsTest, KeyAllowedModelsCannotWidenItsTier) {
  ExpectModelNotAllowed("pro", gw_.CreateKey({.allowed_models = {"pro"}}));
}

TEST_F(AuthModelsTest, KeyAllowedModelsMatchAliasesEitherWay) {
  TestKey by_alias = gw_.CreateKey({.tier = "premium", .allowed_models = {"m-alias"}});
  ExpectAllowed("m", by_alias);
  TestKey by_name = gw_.CreateKey({.tier = "premium", .allowed_models = {"m"}});
  ExpectAllowed("m-alias", by_name);
  ExpectModelNotAllowed("text-small", by_name);
}

TEST_F(AuthModelsTest, UnknownModelIsStill404ForARestrictedKey) {
  TestKey key = gw_.CreateKey({.allowed_models = {"m"}});
  ExpectOpenAiError(gw_.ChatWithKey("no-such-model", key.secret), 404, "invalid_request_error",
                    "model_not_found");
}

TEST_F(AuthModelsTest, ListModelsShowsOnlyAllowedModels) {
  EXPECT_EQ(ListedModels(gw_.CreateKey()),
            (std::set<std::string>{"m", "text-small", "text-large"}));
  EXPECT_EQ(ListedModels(gw_.CreateKey({.tier = "premium"})),
            (std::set<std::string>{"m", "text-small", "text-large", "pro"}));
  EXPECT_EQ(ListedModels(gw_.CreateKey({.tier = "premium", .allowed_models = {"text-*"}})),
            (std::set<std::string>{"text-small", "text-large"}));
  EXPECT_EQ(ListedModels(gw_.CreateKey({.tier = "gold"})), std::set<std::string>{});
}

TEST_F(AuthModelsTest, RetrieveModelHonoursPermissions) {
  TestKey key = gw_.CreateKey();
  Response allowed = gw_.Send(GetRequest("/v1/models/m", BearerHeader(key.secret)));
  EXPECT_EQ(allowed.status, 200) << allowed.body;
  EXPECT_EQ(json::parse(allowed.body).at("id").as_string(), "m");
  Response denied = gw_.Send(GetRequest("/v1/models/pro", BearerHeader(key.secret)));
  json::object error = ExpectOpenAiError(denied, 403, "permission_error", "model_not_allowed");
  EXPECT_NE(denied.body.find("`pro`"), std::string::npos) << denied.body;
}

}  // namespace
}  // namespace sluice::testing::auth_test
