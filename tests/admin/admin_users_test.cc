// Integration: users, teams, roles and token revocation through the admin listener — a user
// created with a password signs in on the data plane (the hash never leaves the gateway),
// validation and conflicts, disabling a user stops sign-in and the user's keys at once, team
// membership (PUT/DELETE) and the users-by-team filter, the role table, and revoking the jti
// of a gateway access token.
#include <gtest/gtest.h>

#include "auth/jwt/jwt.h"
#include "tests/admin/admin_test_fixture.h"

namespace sluice::testing::admin_test {
namespace {

constexpr std::string_view kPassword = "correct horse battery staple";

class AdminUsersTest : public ::testing::Test {
 protected:
  Response Login(std::string_view username, std::string_view password) {
    json::object body{{"username", username}, {"password", password}};
    return gw_.Send(gw_.data_port(), JsonRequest("/auth/login", json::serialize(body)));
  }

  // Creates a user through the API; returns its id.
  std::string NewUser(std::string_view username, std::string_view password = kPassword) {
    json::object body{{"username", username}};
    if (!password.empty()) body["password"] = password;
    Response r = gw_.Admin("POST", "/admin/users", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return Str(JsonOf(r), "id");
  }

  std::string NewTeam(std::string_view name) {
    Response r = gw_.Admin("POST", "/admin/teams", json::object{{"name", name}});
    EXPECT_EQ(r.status, 201) << r.body;
    return Str(JsonOf(r), "id");
  }

  std::vector<std::string> UserIdsOfTeam(const std::string& team_id) {
    Response r = gw_.Admin("GET", "/admin/users?team_id=" + team_id);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    json::object list = JsonOf(r);
    for (const json::value& user : list["data"].as_array()) {
      ids.push_back(Str(user.as_object(), "id"));
    }
    return ids;
  }

  AdminGateway gw_;
};

TEST_F(AdminUsersTest, CreatedUserSignsInAndTheHashIsNeverShown) {
  json::object body{{"username", "alice"},
                    {"password", kPassword},
                    {"email", "alice@example.com"},
                    {"roles", json::array{"user"}}};
  Response r = gw_.Admin("POST", "/admin/users", body);
  ASSERT_EQ(r.status, 201) << r.body;
  json::object user = JsonOf(r);
  std::string id = Str(user, "id");
  EXPECT_TRUE(id.starts_with("usr_")) << id;
  EXPECT_EQ(Str(user, "object"), "user");
  EXPECT_EQ(Str(user, "username"), "alice");
  EXPECT_EQ(Str(user, "email"), "alice@example.com");
  EXPECT_EQ(user["has_password"], json::value(true));
  EXPECT_EQ(user["disabled"], json::value(false));
  EXPECT_FALSE(user.contains("password"));
  EXPECT_FALSE(user.contains("password_hash"));
  Response got = gw_.Admin("GET", "/admin/users/" + id);
  ASSERT_EQ(got.status, 200) << got.body;
  Response listed = gw_.Admin("GET", "/admin/users");
  ASSERT_EQ(listed.status, 200) << listed.body;
  for (const Response* response : {&r, &got, &listed}) {
    ExpectNoSecrets("user response", response->body, {std::string(kPassword), "argon2"});
  }
  // The stored hash is a real argon2id hash of the password.
  auto stored = gw_.OnStore([&] { return gw_.auth().store().GetUser(id); });
  ASSERT_TRUE(stored.ok() && stored.value());
  EXPECT_TRUE((*stored.value()).password_hash.starts_with("$argon2id$"));

  Response login = Login("alice", kPassword);
  EXPECT_EQ(login.status, 200) << login.body;
  ExpectOpenAiError(Login("alice", "not the password"), 401, "authentication_error",
                    "invalid_api_key");

  // A user created without a password cannot sign in.
  NewUser("nopass", "");
  EXPECT_EQ(JsonOf(gw_.Admin("GET", "/admin/users?limit=1000"))["data"].as_array().size(), 2u);
  ExpectOpenAiError(Login("nopass", kPassword), 401, "authentication_error", "invalid_api_key");
}

TEST_F(AdminUsersTest, CreateRejectsHashesShortPasswordsAndDuplicates) {
  auto bad = [&](const json::object& body, std::string_view param) {
    Response r = gw_.Admin("POST", "/admin/users", body);
    json::object error = ExpectOpenAiError(r, 400, "invalid_request_error", "");
    EXPECT_EQ(error["param"], json::value(param)) << r.body;
    ExpectNoSecrets("error", r.body, {"$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA"});
  };
  bad({{"username", "bob"}, {"password_hash", "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA"}},
      "password_hash");
  bad({{"username", "bob"}, {"password", "short"}}, "password");
  bad({{"username", "bob"}, {"password", 12345678}}, "password");
  bad({{"username", "bob smith"}}, "username");
  bad({{"username", "bob"}, {"roles", json::array{"root"}}}, "roles");
  bad({{"username", "bob"}, {"tier", "gold"}}, "tier");
  bad({{"username", "bob"}, {"nickname", "b"}}, "nickname");
  EXPECT_TRUE(JsonOf(gw_.Admin("GET", "/admin/users"))["data"].as_array().empty());

  NewUser("bob");
  Response duplicate = gw_.Admin("POST", "/admin/users", json::object{{"username", "bob"}});
  ExpectOpenAiError(duplicate, 409, "invalid_request_error", "conflict");
  ExpectOpenAiError(gw_.Admin("GET", "/admin/users/usr_000000000000000000000000"), 404,
                    "invalid_request_error", "not_found");
  ExpectOpenAiError(
      gw_.Admin("PATCH", "/admin/users/usr_000000000000000000000000", R"({"disabled":true})"), 404,
      "invalid_request_error", "not_found");
}

TEST_F(AdminUsersTest, DisablingAUserStopsSignInAndTheirKeysAtOnce) {
  std::string id = NewUser("carol");
  json::object key = gw_.CreateKeyViaApi({{"name", "carol's app"}, {"user_id", id}});
  std::string secret = Str(key, "secret");
  ASSERT_EQ(gw_.ChatWithKey("m", secret).status, 200);  // cached for key_cache_ttl (10 s)
  ASSERT_EQ(Login("carol", kPassword).status, 200);

  Response r = gw_.Admin("PATCH", "/admin/users/" + id, R"({"disabled":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(JsonOf(r)["disabled"], json::value(true));

  ExpectOpenAiError(Login("carol", kPassword), 401, "authentication_error", "account_disabled");
  ExpectOpenAiError(gw_.ChatWithKey("m", secret), 401, "authentication_error", "account_disabled");
  EXPECT_EQ(gw_.upstream().requests(), 1);
  Response disabled = gw_.Admin("GET", "/admin/users?disabled=true");
  ASSERT_EQ(JsonOf(disabled)["data"].as_array().size(), 1u) << disabled.body;

  ASSERT_EQ(gw_.Admin("PATCH", "/admin/users/" + id, R"({"disabled":false})").status, 200);
  EXPECT_EQ(gw_.ChatWithKey("m", secret).status, 200);
  EXPECT_EQ(Login("carol", kPassword).status, 200);
}

TEST_F(AdminUsersTest, PatchPasswordReplacesTheOldOne) {
  std::string id = NewUser("dave");
  constexpr std::string_view kNew = "a brand new passphrase";
  Response r = gw_.Admin("PATCH", "/admin/users/" + id,
                         json::object{{"password", kNew}, {"email", "dave@example.com"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(JsonOf(r), "email"), "dave@example.com");
  ExpectNoSecrets("PATCH user", r.body, {std::string(kNew), "argon2"});
  EXPECT_EQ(Login("dave", kPassword).status, 401);
  EXPECT_EQ(Login("dave", kNew).status, 200);
  for (auto [body, param] : {std::pair{R"({"password":"short"})", "password"},
                             {R"({"password_hash":"x"})", "password_hash"},
                             {R"({"username":"renamed"})", "username"}}) {
    Response bad = gw_.Admin("PATCH", "/admin/users/" + id, body);
    EXPECT_EQ(ExpectOpenAiError(bad, 400, "invalid_request_error", "")["param"], json::value(param))
        << bad.body;
  }
  EXPECT_EQ(Login("dave", kNew).status, 200);
}

TEST_F(AdminUsersTest, TeamsAndMembership) {
  Response created =
      gw_.Admin("POST", "/admin/teams", json::object{{"name", "research"}, {"tier", "premium"}});
  ASSERT_EQ(created.status, 201) << created.body;
  json::object team = JsonOf(created);
  std::string team_id = Str(team, "id");
  EXPECT_TRUE(team_id.starts_with("team_")) << team_id;
  EXPECT_EQ(Str(team, "object"), "team");
  EXPECT_EQ(Str(team, "tier"), "premium");
  ExpectOpenAiError(gw_.Admin("POST", "/admin/teams", json::object{{"name", "research"}}), 409,
                    "invalid_request_error", "conflict");
  EXPECT_EQ(ExpectOpenAiError(gw_.Admin("POST", "/admin/teams", json::object{{"tier", "basic"}}),
                              400, "invalid_request_error", "")["param"],
            "name");
  EXPECT_EQ(JsonOf(gw_.Admin("GET", "/admin/teams/" + team_id)), team);

  std::string erin = NewUser("erin");
  std::string frank = NewUser("frank");
  std::string member_path = "/admin/teams/" + team_id + "/members/" + erin;
  Response added = gw_.Admin("PUT", member_path);
  ASSERT_EQ(added.status, 200) << added.body;
  EXPECT_EQ(JsonOf(added)["teams"], (json::array{json::string(team_id)}));
  EXPECT_EQ(UserIdsOfTeam(team_id), std::vector<std::string>{erin});
  EXPECT_EQ(JsonOf(gw_.Admin("GET", "/admin/users/" + erin))["teams"],
            (json::array{json::string(team_id)}));
  EXPECT_EQ(JsonOf(gw_.Admin("GET", "/admin/users/" + frank))["teams"], json::array{});

  Response removed = gw_.Admin("DELETE", member_path);
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(JsonOf(removed)["teams"], json::array{});
  EXPECT_TRUE(UserIdsOfTeam(team_id).empty());
  ExpectOpenAiError(gw_.Admin("DELETE", member_path), 404, "invalid_request_error", "not_found");

  const std::string nobody = "usr_000000000000000000000000";
  ExpectOpenAiError(gw_.Admin("PUT", "/admin/teams/" + team_id + "/members/" + nobody), 404,
                    "invalid_request_error", "not_found");
  ExpectOpenAiError(gw_.Admin("PUT", "/admin/teams/team_000000000000000000000000/members/" + erin),
                    404, "invalid_request_error", "not_found");

  // A user created straight into a team.
  Response grace = gw_.Admin("POST", "/admin/users",
                             json::object{{"username", "grace"}, {"teams", json::array{team_id}}});
  ASSERT_EQ(grace.status, 201) << grace.body;
  EXPECT_EQ(UserIdsOfTeam(team_id), std::vector<std::string>{Str(JsonOf(grace), "id")});

  Response renamed = gw_.Admin("PATCH", "/admin/teams/" + team_id, R"({"name":"labs"})");
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(Str(JsonOf(renamed), "name"), "labs");
  Response teams = gw_.Admin("GET", "/admin/teams");
  ASSERT_EQ(JsonOf(teams)["data"].as_array().size(), 1u) << teams.body;
  EXPECT_EQ(Str(JsonOf(teams)["data"].as_array()[0].as_object(), "name"), "labs");
}

TEST_F(AdminUsersTest, RolesListsBuiltInAndConfiguredRoles) {
  Response r = gw_.Admin("GET", "/admin/roles");
  ASSERT_EQ(r.status, 200) << r.body;
  json::object list = JsonOf(r);
  EXPECT_EQ(Str(list, "object"), "list");
  std::map<std::string, json::object> roles;
  for (const json::value& role : list["data"].as_array()) {
    roles[Str(role.as_object(), "name")] = role.as_object();
  }
  ASSERT_EQ(roles.size(), 5u) << r.body;
  for (std::string_view name : {"admin", "operator", "user", "readonly"}) {
    json::object& role = roles[std::string(name)];
    EXPECT_EQ(role["built_in"], json::value(true)) << name;
    json::array expected;
    for (std::string_view p : PermissionNames(BuiltInRolePermissions(name)))
      expected.emplace_back(p);
    EXPECT_EQ(role["permissions"], expected) << name;
  }
  EXPECT_EQ(roles["invoker"]["built_in"], json::value(false));
  EXPECT_EQ(roles["invoker"]["permissions"], (json::array{"models:invoke"}));
}

// The jti claim of a compact JWT.
std::string JtiOf(const std::string& token) {
  size_t first = token.find('.');
  size_t second = token.find('.', first + 1);
  if (first == std::string::npos || second == std::string::npos) return "";
  auto payload =
      jwt::Base64UrlDecode(std::string_view(token).substr(first + 1, second - first - 1));
  if (!payload) return "";
  boost::system::error_code ec;
  json::value claims = json::parse(*payload, ec);
  if (ec || !claims.is_object()) return "";
  return Str(claims.as_object(), "jti");
}

TEST_F(AdminUsersTest, RevokingAnAccessTokenJtiRejectsTheToken) {
  NewUser("heidi");
  Response login = Login("heidi", kPassword);
  ASSERT_EQ(login.status, 200) << login.body;
  std::string access = Str(JsonOf(login), "access_token");
  std::string jti = JtiOf(access);
  ASSERT_FALSE(jti.empty()) << access;
  ASSERT_EQ(gw_.ChatWithKey("m", access).status, 200);

  Response r = gw_.Admin("POST", "/admin/tokens/revoke", json::object{{"jti", jti}});
  ASSERT_EQ(r.status, 200) << r.body;
  json::object revoked = JsonOf(r);
  EXPECT_EQ(Str(revoked, "object"), "revoked_token");
  EXPECT_EQ(Str(revoked, "jti"), jti);
  EXPECT_GT(revoked["expires_at"].as_int64(), NowSeconds());
  ExpectNoSecrets("revoke response", r.body, {access});

  ExpectOpenAiError(gw_.ChatWithKey("m", access), 401, "authentication_error",
                    "revoked_credentials");
  // A fresh sign-in gets a new jti and works.
  Response again = Login("heidi", kPassword);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(gw_.ChatWithKey("m", Str(JsonOf(again), "access_token")).status, 200);
  // The revocation is persisted for other instances and restarts.
  auto ids = gw_.OnStore([&] { return gw_.auth().store().ListRevokedTokenIds(NowSeconds()); });
  ASSERT_TRUE(ids.ok());
  EXPECT_NE(std::find(ids.value().begin(), ids.value().end(), jti), ids.value().end());

  EXPECT_EQ(ExpectOpenAiError(gw_.Admin("POST", "/admin/tokens/revoke", "{}"), 400,
                              "invalid_request_error", "")["param"],
            "jti");
}

}  // namespace
}  // namespace sluice::testing::admin_test
