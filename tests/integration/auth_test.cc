// Integration: authentication on the data plane through the real server — missing and
// invalid credentials (401 with WWW-Authenticate), the three headers a key is accepted in,
// every state of an API key (valid, unknown, malformed, bad checksum, expired, revoked,
// disabled or deleted owner), the gateway key never reaching the upstream, public routes,
// the default chain of a config with an auth: section, and the models:invoke permission.
#include <gtest/gtest.h>

#include "tests/integration/auth_test_fixture.h"

namespace sluice::testing::auth_test {
namespace {

constexpr std::string_view kChallenge = "Bearer realm=\"sluice\"";
constexpr std::string_view kInvalidTokenChallenge =
    "Bearer realm=\"sluice\", error=\"invalid_token\"";

class AuthTest : public ::testing::Test {
 protected:
  // A rejected key: 401 in OpenAI's shape with `code`, the invalid_token challenge, no trace
  // of the key in the body, and nothing sent upstream.
  void ExpectKeyRejected(const std::string& secret, std::string_view code) {
    Response r = gw_.ChatWithKey("m", secret);
    ExpectOpenAiError(r, 401, "authentication_error", code);
    EXPECT_EQ(r.Header("www-authenticate"), kInvalidTokenChallenge);
    ExpectNoSecrets("401 body", r.body, {secret});
    EXPECT_EQ(gw_.upstream().requests(), 0);
  }

  AuthGateway gw_;
};

TEST_F(AuthTest, MissingCredentialsIs401WithBearerChallenge) {
  Response r = gw_.Send(JsonRequest("/v1/chat/completions", kChatBody));
  ExpectOpenAiError(r, 401, "authentication_error", "missing_api_key");
  EXPECT_EQ(r.Header("www-authenticate"), kChallenge);
  EXPECT_EQ(gw_.upstream().requests(), 0);
}

TEST_F(AuthTest, NonBearerAuthorizationCountsAsMissing) {
  Response r = gw_.Chat("m", "Authorization: Basic dXNlcjpwYXNz\r\n");
  ExpectOpenAiError(r, 401, "authentication_error", "missing_api_key");
  EXPECT_EQ(r.Header("www-authenticate"), kChallenge);
}

TEST_F(AuthTest, InvalidCredentialIs401WithInvalidTokenChallenge) {
  Response r = gw_.Chat("m", BearerHeader("not-a-gateway-credential"));
  ExpectOpenAiError(r, 401, "authentication_error", "invalid_api_key");
  EXPECT_EQ(r.Header("www-authenticate"), kInvalidTokenChallenge);
  ExpectNoSecrets("401 body", r.body, {"not-a-gateway-credential"});
}

TEST_F(AuthTest, KeyIsAcceptedInEachSupportedHeader) {
  TestKey key = gw_.CreateKey();
  for (const std::string& header : {BearerHeader(key.secret), "X-API-Key: " + key.secret + "\r\n",
                                    "api-key: " + key.secret + "\r\n"}) {
    Response r = gw_.Chat("m", header);
    EXPECT_EQ(r.status, 200) << header << r.body;
    EXPECT_FALSE(r.Header("x-request-id").empty());
  }
  EXPECT_EQ(gw_.upstream().requests(), 3);
}

TEST_F(AuthTest, ValidKeyReachesUpstreamWhichNeverSeesTheGatewayKey) {
  TestKey key = gw_.CreateKey();
  std::string headers = BearerHeader(key.secret) + "X-API-Key: " + key.secret + "\r\n" +
                        "api-key: " + key.secret + "\r\n";
  Response r = gw_.Chat("m", headers);
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectNoSecrets("response body", r.body, {key.secret});
  std::vector<FakeRequest> seen = gw_.upstream().requests_seen();
  ASSERT_EQ(seen.size(), 1u);
  const FakeRequest& upstream = seen[0];
  EXPECT_EQ(json::parse(upstream.body).at("model").as_string(), "up-m");
  // The upstream gets the provider's credential, never the client's.
  EXPECT_EQ(upstream.Header("authorization"), "Bearer " + std::string(kProviderKey));
  EXPECT_EQ(upstream.Header("x-api-key"), "");
  EXPECT_EQ(upstream.Header("api-key"), "");
  for (const auto& [name, value] : upstream.headers) {
    ExpectNoSecrets("upstream header " + name, value, {key.secret, key.hash});
  }
  ExpectNoSecrets("upstream body", upstream.body, {key.secret});
}

TEST_F(AuthTest, UnknownKeyIs401) { ExpectKeyRejected(GenerateApiKey().secret, "invalid_api_key"); }

TEST_F(AuthTest, MalformedKeyIs401) {
  ExpectKeyRejected(std::string(kApiKeyPrefix) + "tooShort", "invalid_api_key");
  ExpectKeyRejected(std::string(kApiKeyPrefix) + std::string(49, '!'), "invalid_api_key");
}

TEST_F(AuthTest, KeyWithBadChecksumIs401) {
  TestKey key = gw_.CreateKey();
  std::string typo = key.secret;
  typo.back() = typo.back() == 'A' ? 'B' : 'A';
  ASSERT_EQ(CheckApiKeyFormat(typo), ApiKeyFormat::kBadChecksum);
  ExpectKeyRejected(typo, "invalid_api_key");
  // The same key without the typo works.
  EXPECT_EQ(gw_.ChatWithKey("m", key.secret).status, 200);
}

TEST_F(AuthTest, ExpiredKeyIs401) {
  TestKey key = gw_.CreateKey({.expires_at = NowSeconds() - 60});
  ExpectKeyRejected(key.secret, "expired_credentials");
}

TEST_F(AuthTest, KeyExpiringLaterStillWorks) {
  TestKey key = gw_.CreateKey({.expires_at = NowSeconds() + 3600});
  EXPECT_EQ(gw_.ChatWithKey("m", key.secret).status, 200);
}

TEST_F(AuthTest, RevokedKeyIs401) {
  TestKey key = gw_.CreateKey({.revoked_at = NowSeconds() - 1});
  ExpectKeyRejected(key.secret, "revoked_credentials");
}

TEST_F(AuthTest, KeyOfDisabledOwnerIs401) {
  std::string owner = gw_.CreateUser("disabled-owner", "correct horse battery", {"user"}, true);
  TestKey key = gw_.CreateKey({.user_id = owner});
  ExpectKeyRejected(key.secret, "account_disabled");
}

TEST_F(AuthTest, KeyOfDeletedOwnerIs401) {
  TestKey key = gw_.CreateKey({.user_id = NewId("usr")});
  ExpectKeyRejected(key.secret, "account_disabled");
}

TEST_F(AuthTest, KeyOfEnabledOwnerWorks) {
  std::string owner = gw_.CreateUser("owner", "correct horse battery");
  TestKey key = gw_.CreateKey({.user_id = owner});
  EXPECT_EQ(gw_.ChatWithKey("m", key.secret).status, 200);
}

TEST_F(AuthTest, HealthAndSignInRoutesArePublic) {
  EXPECT_EQ(gw_.Send(GetRequest("/health/live")).status, 200);
  EXPECT_EQ(gw_.Send(GetRequest("/health/ready")).status, 200);
  // Reaches the sign-in handler (which asks for the fields), not the 401 of the auth filter.
  Response login = gw_.Send(JsonRequest("/auth/login", "{}"));
  ExpectOpenAiError(login, 400, "invalid_request_error", "");
  EXPECT_EQ(login.Header("www-authenticate"), "");
}

TEST_F(AuthTest, PrincipalWithoutModelsInvokeIs403PermissionDenied) {
  TestKey key = gw_.CreateKey({.roles = {"readonly"}});
  Response chat = gw_.ChatWithKey("m", key.secret);
  ExpectOpenAiError(chat, 403, "permission_error", "permission_denied");
  EXPECT_EQ(chat.Header("www-authenticate"), "");
  ExpectNoSecrets("403 body", chat.body, {key.secret});
  Response models = gw_.Send(GetRequest("/v1/models", BearerHeader(key.secret)));
  ExpectOpenAiError(models, 403, "permission_error", "permission_denied");
  EXPECT_EQ(gw_.upstream().requests(), 0);
}

TEST_F(AuthTest, KeyWithoutRolesInheritsItsOwnersRoles) {
  std::string owner = gw_.CreateUser("reader", "correct horse battery", {"readonly"});
  TestKey key = gw_.CreateKey({.user_id = owner});
  ExpectOpenAiError(gw_.ChatWithKey("m", key.secret), 403, "permission_error", "permission_denied");
}

TEST_F(AuthTest, CustomRoleWithModelsInvokeMayCallModels) {
  TestKey key = gw_.CreateKey({.roles = {"invoker"}});
  EXPECT_EQ(gw_.ChatWithKey("m", key.secret).status, 200);
}

TEST(AuthDefaultChain, ConfigWithAuthSectionAndNoFiltersEnforcesAuth) {
  AuthGateway gw({.explicit_filters = false});
  ExpectOpenAiError(gw.Send(JsonRequest("/v1/chat/completions", kChatBody)), 401,
                    "authentication_error", "missing_api_key");
  TestKey reader = gw.CreateKey({.roles = {"readonly"}});
  ExpectOpenAiError(gw.ChatWithKey("m", reader.secret), 403, "permission_error",
                    "permission_denied");
  TestKey key = gw.CreateKey();
  Response ok = gw.ChatWithKey("m", key.secret);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_FALSE(ok.Header("x-request-id").empty());
  EXPECT_EQ(gw.upstream().requests(), 1);
}

}  // namespace
}  // namespace sluice::testing::auth_test
