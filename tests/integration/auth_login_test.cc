// Integration: sign-in for people on the client listener — POST /auth/login with JSON and
// with an OAuth2 password-grant form, the access token accepted on /v1/chat/completions,
// /auth/refresh rotation and reuse detection (the whole family is revoked), /auth/logout,
// failures that do not tell whether a user exists, and self-registration (404 while
// disabled, the default; working when enabled).
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/integration/auth_test_fixture.h"

namespace sluice::testing::auth_test {
namespace {

constexpr std::string_view kPassword = "s3cret pass@word&more";
constexpr std::string_view kPasswordForm = "s3cret+pass%40word%26more";

struct Tokens {
  std::string access;
  std::string refresh;
};

// Checks a token response and returns its tokens.
Tokens ExpectTokens(const Response& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("cache-control"), "no-store");
  EXPECT_FALSE(r.Header("x-request-id").empty());
  boost::system::error_code ec;
  json::value body = json::parse(r.body, ec);
  if (ec || !body.is_object()) {
    ADD_FAILURE() << "not a token response: " << r.body;
    return {};
  }
  const json::object& o = body.as_object();
  EXPECT_EQ(o.at("token_type").as_string(), "bearer");
  EXPECT_EQ(o.at("expires_in").as_int64(), 900);  // the default access token TTL, 15 min
  Tokens tokens{std::string(o.at("access_token").as_string()),
                std::string(o.at("refresh_token").as_string())};
  EXPECT_EQ(std::count(tokens.access.begin(), tokens.access.end(), '.'), 2) << "a JWT";
  EXPECT_FALSE(tokens.refresh.empty());
  ExpectNoSecrets("token response", r.body, {std::string(kPassword)});
  return tokens;
}

std::string LoginJson(std::string_view username, std::string_view password) {
  json::object body;
  body["username"] = username;
  body["password"] = password;
  return json::serialize(body);
}

std::string RefreshJson(std::string_view refresh_token) {
  json::object body;
  body["refresh_token"] = refresh_token;
  return json::serialize(body);
}

class AuthLoginTest : public ::testing::Test {
 protected:
  void SetUp() override { user_id_ = gw_.CreateUser("alice", std::string(kPassword)); }

  Response Login(std::string_view username, std::string_view password) {
    return gw_.Send(JsonRequest("/auth/login", LoginJson(username, password)));
  }
  Response Refresh(std::string_view refresh_token) {
    return gw_.Send(JsonRequest("/auth/refresh", RefreshJson(refresh_token)));
  }

  AuthGateway gw_;
  std::string user_id_;
};

TEST_F(AuthLoginTest, JsonLoginReturnsTokensAndTheAccessTokenCallsModels) {
  Tokens tokens = ExpectTokens(Login("alice", kPassword));
  Response chat = gw_.Chat("m", BearerHeader(tokens.access));
  EXPECT_EQ(chat.status, 200) << chat.body;
  EXPECT_EQ(gw_.upstream().requests(), 1);
  std::vector<FakeRequest> seen = gw_.upstream().requests_seen();
  ASSERT_EQ(seen.size(), 1u);
  for (const auto& [name, value] : seen[0].headers) {
    ExpectNoSecrets("upstream header " + name, value, {tokens.access});
  }
}

TEST_F(AuthLoginTest, OAuth2PasswordFormLoginWorks) {
  Tokens tokens = ExpectTokens(gw_.Send(FormRequest(
      "/auth/login", "grant_type=password&username=alice&password=" + std::string(kPasswordForm))));
  EXPECT_EQ(gw_.Chat("m", BearerHeader(tokens.access)).status, 200);
}

TEST_F(AuthLoginTest, WrongPasswordAndUnknownUserAreIndistinguishable) {
  Response wrong = Login("alice", "not the password");
  Response unknown = Login("nobody", "not the password");
  json::object wrong_error =
      ExpectOpenAiError(wrong, 401, "authentication_error", "invalid_api_key");
  json::object unknown_error =
      ExpectOpenAiError(unknown, 401, "authentication_error", "invalid_api_key");
  EXPECT_EQ(wrong_error, unknown_error);
  for (const Response* r : {&wrong, &unknown}) {
    ExpectNoSecrets("login failure", r->body, {"not the password", "alice", "nobody"});
  }
}

TEST_F(AuthLoginTest, DisabledUserCannotSignIn) {
  gw_.CreateUser("bob", std::string(kPassword), {"user"}, true);
  ExpectOpenAiError(Login("bob", kPassword), 401, "authentication_error", "account_disabled");
}

TEST_F(AuthLoginTest, LoginWithoutPasswordIs400NamingTheField) {
  json::object error =
      ExpectOpenAiError(gw_.Send(JsonRequest("/auth/login", R"({"username":"alice"})")), 400,
                        "invalid_request_error", "");
  EXPECT_EQ(error["param"], json::value("password"));
}

TEST_F(AuthLoginTest, TamperedAccessTokenIs401InvalidToken) {
  Tokens tokens = ExpectTokens(Login("alice", kPassword));
  std::string tampered = tokens.access;
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
  Response r = gw_.Chat("m", BearerHeader(tampered));
  ExpectOpenAiError(r, 401, "authentication_error", "invalid_api_key");
  EXPECT_EQ(r.Header("www-authenticate"), "Bearer realm=\"sluice\", error=\"invalid_token\"");
  ExpectNoSecrets("401 body", r.body, {tampered});
}

TEST_F(AuthLoginTest, TokenOfAUserWithoutModelsInvokeIs403) {
  gw_.CreateUser("reader", std::string(kPassword), {"readonly"});
  Tokens tokens = ExpectTokens(Login("reader", kPassword));
  ExpectOpenAiError(gw_.Chat("m", BearerHeader(tokens.access)), 403, "permission_error",
                    "permission_denied");
}

TEST_F(AuthLoginTest, RefreshRotatesBothTokens) {
  Tokens first = ExpectTokens(Login("alice", kPassword));
  Tokens second = ExpectTokens(Refresh(first.refresh));
  EXPECT_NE(second.refresh, first.refresh);
  EXPECT_NE(second.access, first.access);
  EXPECT_EQ(gw_.Chat("m", BearerHeader(second.access)).status, 200);
  // The new refresh token is good for exactly one more rotation.
  ExpectTokens(Refresh(second.refresh));
}

TEST_F(AuthLoginTest, ReusedRefreshTokenRevokesTheWholeFamily) {
  Tokens first = ExpectTokens(Login("alice", kPassword));
  Tokens second = ExpectTokens(Refresh(first.refresh));
  Response reuse = Refresh(first.refresh);
  ExpectOpenAiError(reuse, 401, "authentication_error", "revoked_credentials");
  ExpectNoSecrets("reuse reply", reuse.body, {first.refresh, second.refresh});
  // The newer token, descended from the same login, died with it: a revoked token that
  // was never used is simply invalid (it was not reused).
  ExpectOpenAiError(Refresh(second.refresh), 401, "authentication_error", "invalid_api_key");
  gw_.WaitForAudit([&](const AuditRecord& row) {
    return row.action == "auth.refresh_reused" && row.principal == "user:" + user_id_;
  });
  // A separate login is another family, unaffected.
  Tokens other = ExpectTokens(Login("alice", kPassword));
  ExpectTokens(Refresh(other.refresh));
}

TEST_F(AuthLoginTest, UnknownRefreshTokenIs401) {
  ExpectOpenAiError(Refresh("rt-sl-not-a-real-token"), 401, "authentication_error",
                    "invalid_api_key");
}

TEST_F(AuthLoginTest, LogoutRevokesTheRefreshAndTheAccessToken) {
  Tokens tokens = ExpectTokens(Login("alice", kPassword));
  ASSERT_EQ(gw_.Chat("m", BearerHeader(tokens.access)).status, 200);
  Response out = gw_.Send(
      JsonRequest("/auth/logout", RefreshJson(tokens.refresh), BearerHeader(tokens.access)));
  EXPECT_EQ(out.status, 200) << out.body;
  EXPECT_EQ(json::parse(out.body).at("revoked"), json::value(true));
  ExpectOpenAiError(Refresh(tokens.refresh), 401, "authentication_error", "invalid_api_key");
  Response chat = gw_.Chat("m", BearerHeader(tokens.access));
  ExpectOpenAiError(chat, 401, "authentication_error", "revoked_credentials");
  ExpectNoSecrets("401 body", chat.body, {tokens.access});
}

TEST_F(AuthLoginTest, SelfRegistrationIsOffByDefaultAnd404) {
  Response r = gw_.Send(JsonRequest("/auth/register", LoginJson("mallory", kPassword)));
  ExpectOpenAiError(r, 404, "invalid_request_error", "");
  auto found = gw_.OnStore([&] { return gw_.auth().store().FindUserByName("mallory"); });
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found.value().has_value());
}

TEST(AuthRegistration, EnabledSelfRegistrationCreatesAUserWhoCanCallModels) {
  AuthGateway gw({.self_registration = true});
  Tokens tokens =
      ExpectTokens(gw.Send(JsonRequest("/auth/register", LoginJson("carol", kPassword))));
  EXPECT_EQ(gw.Chat("m", BearerHeader(tokens.access)).status, 200);
  // The default tier applies to the new user: no premium models.
  ExpectOpenAiError(gw.Chat("pro", BearerHeader(tokens.access)), 403, "permission_error",
                    "model_not_allowed");
  ExpectTokens(gw.Send(JsonRequest("/auth/login", LoginJson("carol", kPassword))));
  json::object taken = ExpectOpenAiError(
      gw.Send(JsonRequest("/auth/register", LoginJson("carol", "another password"))), 409,
      "invalid_request_error", "conflict");
  EXPECT_EQ(taken["param"], json::value("username"));
  json::object short_password =
      ExpectOpenAiError(gw.Send(JsonRequest("/auth/register", LoginJson("dave", "short"))), 400,
                        "invalid_request_error", "");
  EXPECT_EQ(short_password["param"], json::value("password"));
}

}  // namespace
}  // namespace sluice::testing::auth_test
