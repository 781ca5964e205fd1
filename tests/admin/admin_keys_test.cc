// Integration: API keys through the admin listener — create (the secret shown once, then
// never again), the created key on the data plane, list with keyset pagination and filters,
// get, PATCH with field validation, revoke (POST .../revoke and DELETE) and rotate taking
// effect on the very next data-plane request (the key cache is invalidated, its TTL here is
// 10 s), and 404/409 answers.
#include <gtest/gtest.h>

#include <set>

#include "tests/admin/admin_test_fixture.h"

namespace sluice::testing::admin_test {
namespace {

class AdminKeysTest : public ::testing::Test {
 protected:
  // Creates a key through the API and returns {id, secret}.
  std::pair<std::string, std::string> NewKey(json::object request = {{"name", "app"}}) {
    json::object created = gw_.CreateKeyViaApi(request);
    return {Str(created, "id"), Str(created, "secret")};
  }

  // Every page of GET /admin/keys?<query>&limit=<limit>, checking the page invariants.
  std::vector<std::string> WalkKeys(const std::string& query, int limit, int* pages) {
    std::vector<std::string> ids;
    std::string after;
    *pages = 0;
    while (true) {
      std::string path = "/admin/keys?limit=" + std::to_string(limit) + query;
      if (!after.empty()) path += "&after=" + after;
      Response r = gw_.Admin("GET", path);
      EXPECT_EQ(r.status, 200) << r.body;
      json::object page = JsonOf(r);
      EXPECT_EQ(Str(page, "object"), "list");
      const json::array& data = page["data"].as_array();
      EXPECT_LE(data.size(), static_cast<size_t>(limit));
      for (const json::value& key : data) ids.push_back(Str(key.as_object(), "id"));
      ++(*pages);
      if (!page["has_more"].as_bool()) {
        EXPECT_TRUE(page["next_after"].is_null()) << r.body;
        break;
      }
      EXPECT_EQ(data.size(), static_cast<size_t>(limit)) << "has_more on a short page";
      after = Str(page, "next_after");
      EXPECT_EQ(after, ids.back()) << "next_after is the last id of the page";
      if (after.empty() || *pages > 20) {
        ADD_FAILURE() << "pagination does not end";
        break;
      }
    }
    return ids;
  }

  std::set<std::string> ListedIds(const std::string& query) {
    Response r = gw_.Admin("GET", "/admin/keys?limit=1000" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    std::set<std::string> ids;
    json::object list = JsonOf(r);
    if (!list.contains("data")) return ids;
    for (const json::value& key : list["data"].as_array()) ids.insert(Str(key.as_object(), "id"));
    return ids;
  }

  AdminGateway gw_;
};

TEST_F(AdminKeysTest, CreateShowsTheSecretOnceAndTheKeyWorksOnTheDataPlane) {
  json::object request{{"name", "billing app"},
                       {"allowed_models", json::array{"m"}},
                       {"metadata", json::object{{"owner", "billing"}}}};
  Response r = gw_.Admin("POST", "/admin/keys", request);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Header("cache-control"), "no-store");
  json::object created = JsonOf(r);
  std::string secret = Str(created, "secret");
  std::string id = Str(created, "id");
  EXPECT_TRUE(secret.starts_with("sk-sl-")) << secret;
  EXPECT_EQ(secret.size(), kApiKeyLength);
  EXPECT_EQ(CheckApiKeyFormat(secret), ApiKeyFormat::kValid);
  EXPECT_TRUE(id.starts_with("key_")) << id;
  EXPECT_EQ(Str(created, "object"), "api_key");
  EXPECT_EQ(Str(created, "name"), "billing app");
  EXPECT_EQ(Str(created, "prefix"), DisplayPrefix(secret));
  EXPECT_EQ(created["roles"], (json::array{"user"}));
  EXPECT_EQ(created["allowed_models"], (json::array{"m"}));
  EXPECT_EQ(created["metadata"], (json::object{{"owner", "billing"}}));
  EXPECT_TRUE(created["revoked_at"].is_null());

  Response chat = gw_.ChatWithKey("m", secret);
  EXPECT_EQ(chat.status, 200) << chat.body;
  EXPECT_EQ(gw_.upstream().requests(), 1);

  // Never shown again: neither by GET nor in a list.
  Response got = gw_.Admin("GET", "/admin/keys/" + id);
  ASSERT_EQ(got.status, 200) << got.body;
  json::object key = JsonOf(got);
  EXPECT_FALSE(key.contains("secret"));
  EXPECT_EQ(Str(key, "prefix"), DisplayPrefix(secret));
  Response listed = gw_.Admin("GET", "/admin/keys");
  ASSERT_EQ(listed.status, 200) << listed.body;
  json::object list = JsonOf(listed);
  for (const json::value& item : list["data"].as_array()) {
    EXPECT_FALSE(item.as_object().contains("secret")) << listed.body;
  }
  ExpectNoSecrets("GET key", got.body, {secret, gw_.admin_key().secret});
  ExpectNoSecrets("key list", listed.body, {secret, gw_.admin_key().secret});
}

TEST_F(AdminKeysTest, CreateValidatesItsFields) {
  auto bad = [&](const json::object& request, std::string_view param) {
    Response r = gw_.Admin("POST", "/admin/keys", request);
    json::object error = ExpectOpenAiError(r, 400, "invalid_request_error", "");
    EXPECT_EQ(error["param"], json::value(param)) << r.body;
  };
  bad({}, "name");
  bad({{"name", "x"}, {"secret", "sk-sl-mine"}}, "secret");
  bad({{"name", "x"}, {"roles", json::array{"root"}}}, "roles");
  bad({{"name", "x"}, {"tier", "gold"}}, "tier");
  bad({{"name", "x"}, {"user_id", "usr_000000000000000000000000"}}, "user_id");
  bad({{"name", "x"}, {"expires_in", "soon"}}, "expires_in");
  bad({{"name", "x"}, {"metadata", "not an object"}}, "metadata");
  // None of them created anything: only the fixture's admin key exists.
  EXPECT_EQ(ListedIds(""), std::set<std::string>{gw_.admin_key().id});
}

TEST_F(AdminKeysTest, ListPaginatesInIdOrderAndFilters) {
  json::object user =
      JsonOf(gw_.Admin("POST", "/admin/users", json::object{{"username", "owner"}}));
  json::object team = JsonOf(gw_.Admin("POST", "/admin/teams", json::object{{"name", "owners"}}));
  std::string user_id = Str(user, "id");
  std::string team_id = Str(team, "id");
  ASSERT_FALSE(user_id.empty());
  ASSERT_FALSE(team_id.empty());
  std::set<std::string> all{gw_.admin_key().id};
  std::set<std::string> of_user;
  std::set<std::string> of_team;
  for (int i = 0; i < 2; ++i) of_user.insert(NewKey({{"name", "u"}, {"user_id", user_id}}).first);
  of_team.insert(NewKey({{"name", "t"}, {"team_id", team_id}}).first);
  std::string revoked = NewKey().first;
  std::string plain = NewKey().first;
  all.insert(of_user.begin(), of_user.end());
  all.insert(of_team.begin(), of_team.end());
  all.insert({revoked, plain});
  ASSERT_EQ(all.size(), 6u);
  ASSERT_EQ(gw_.Admin("POST", "/admin/keys/" + revoked + "/revoke").status, 200);

  int pages = 0;
  std::vector<std::string> walked = WalkKeys("", 4, &pages);
  EXPECT_EQ(pages, 2);
  EXPECT_TRUE(std::is_sorted(walked.begin(), walked.end()));
  EXPECT_EQ(std::set<std::string>(walked.begin(), walked.end()), all);
  EXPECT_EQ(walked.size(), all.size()) << "no key twice";
  walked = WalkKeys("", 1, &pages);
  EXPECT_EQ(std::set<std::string>(walked.begin(), walked.end()), all);
  EXPECT_EQ(walked.size(), all.size());

  EXPECT_EQ(ListedIds("&user_id=" + user_id), of_user);
  EXPECT_EQ(ListedIds("&team_id=" + team_id), of_team);
  EXPECT_EQ(ListedIds("&revoked=true"), std::set<std::string>{revoked});
  std::set<std::string> live = all;
  live.erase(revoked);
  EXPECT_EQ(ListedIds("&revoked=false"), live);
  walked = WalkKeys("&user_id=" + user_id, 1, &pages);
  EXPECT_EQ(std::set<std::string>(walked.begin(), walked.end()), of_user);

  for (std::string_view query : {"limit=0", "limit=1001", "limit=ten"}) {
    Response r = gw_.Admin("GET", "/admin/keys?" + std::string(query));
    EXPECT_EQ(ExpectOpenAiError(r, 400, "invalid_request_error", "")["param"], "limit") << query;
  }
  Response r = gw_.Admin("GET", "/admin/keys?revoked=maybe");
  EXPECT_EQ(ExpectOpenAiError(r, 400, "invalid_request_error", "")["param"], "revoked");
}

TEST_F(AdminKeysTest, UnknownIdsAre404NotFound) {
  const std::string path = "/admin/keys/key_000000000000000000000000";
  for (auto [method, suffix, body] : {std::tuple{"GET", "", ""},
                                      {"PATCH", "", R"({"name":"x"})"},
                                      {"DELETE", "", ""},
                                      {"POST", "/revoke", ""},
                                      {"POST", "/rotate", ""}}) {
    Response r = gw_.Admin(method, path + suffix, body);
    ExpectOpenAiError(r, 404, "invalid_request_error", "not_found");
    EXPECT_NE(r.body.find("key_000000000000000000000000"), std::string::npos) << r.body;
  }
}

TEST_F(AdminKeysTest, PatchChangesFieldsAndTakesEffectAtOnce) {
  auto [id, secret] = NewKey();
  ASSERT_EQ(gw_.ChatWithKey("m", secret).status, 200);  // now cached for key_cache_ttl (10 s)

  json::object patch{
      {"name", "renamed"}, {"allowed_models", json::array{"text-*"}}, {"tier", "premium"}};
  Response r = gw_.Admin("PATCH", "/admin/keys/" + id, patch);
  ASSERT_EQ(r.status, 200) << r.body;
  json::object updated = JsonOf(r);
  EXPECT_EQ(Str(updated, "name"), "renamed");
  EXPECT_EQ(updated["allowed_models"], (json::array{"text-*"}));
  EXPECT_EQ(Str(updated, "tier"), "premium");
  EXPECT_FALSE(updated.contains("secret"));
  ExpectNoSecrets("PATCH response", r.body, {secret});
  json::object got = JsonOf(gw_.Admin("GET", "/admin/keys/" + id));
  EXPECT_EQ(Str(got, "name"), "renamed");
  EXPECT_EQ(got["allowed_models"], (json::array{"text-*"}));
  EXPECT_EQ(Str(got, "tier"), "premium");

  // The cached principal was dropped: model "m" is no longer in the key's own list.
  Response denied = gw_.ChatWithKey("m", secret);
  json::object error = ExpectOpenAiError(denied, 403, "permission_error", "model_not_allowed");
  EXPECT_EQ(error["param"], "model");
  EXPECT_NE(Str(error, "message").find("`m`"), std::string::npos) << denied.body;
}

TEST_F(AdminKeysTest, PatchRejectsUnknownFieldsRolesAndTiers) {
  auto [id, secret] = NewKey();
  for (auto [body, param] : {std::pair{R"({"nmae":"typo"})", "nmae"},
                             {R"({"roles":["superuser"]})", "roles"},
                             {R"({"tier":"gold"})", "tier"},
                             {R"({"name":""})", "name"},
                             {R"({"allowed_models":"m"})", "allowed_models"},
                             {R"({"secret":"sk-sl-x"})", "secret"}}) {
    Response r = gw_.Admin("PATCH", "/admin/keys/" + id, body);
    json::object error = ExpectOpenAiError(r, 400, "invalid_request_error", "");
    EXPECT_EQ(error["param"], json::value(param)) << body << " → " << r.body;
  }
  json::object got = JsonOf(gw_.Admin("GET", "/admin/keys/" + id));
  EXPECT_EQ(Str(got, "name"), "app");
  EXPECT_EQ(got["roles"], (json::array{"user"}));
  EXPECT_TRUE(got["tier"].is_null());
  EXPECT_EQ(gw_.ChatWithKey("m", secret).status, 200);
}

// Both revoke routes: the key is refused on the very next request, and revoking twice is
// harmless (the first revocation time stays).
class AdminRevokeTest : public AdminKeysTest,
                        public ::testing::WithParamInterface<std::pair<const char*, const char*>> {
};

TEST_P(AdminRevokeTest, RevokedKeyFailsAtOnceOnTheDataPlane) {
  auto [method, suffix] = GetParam();
  auto [id, secret] = NewKey();
  ASSERT_EQ(gw_.ChatWithKey("m", secret).status, 200);  // cached

  Response r = gw_.Admin(method, "/admin/keys/" + id + suffix);
  ASSERT_EQ(r.status, 200) << r.body;
  json::object revoked = JsonOf(r);
  EXPECT_EQ(Str(revoked, "id"), id);
  ASSERT_TRUE(revoked["revoked_at"].is_int64()) << r.body;
  int64_t revoked_at = revoked["revoked_at"].as_int64();
  EXPECT_GE(revoked_at, NowSeconds() - 5);
  EXPECT_FALSE(revoked.contains("secret"));

  ExpectOpenAiError(gw_.ChatWithKey("m", secret), 401, "authentication_error",
                    "revoked_credentials");
  EXPECT_EQ(gw_.upstream().requests(), 1);

  Response again = gw_.Admin(method, "/admin/keys/" + id + suffix);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(JsonOf(again)["revoked_at"], json::value(revoked_at));
  EXPECT_EQ(JsonOf(gw_.Admin("GET", "/admin/keys/" + id))["revoked_at"], json::value(revoked_at));
}

INSTANTIATE_TEST_SUITE_P(Routes, AdminRevokeTest,
                         ::testing::Values(std::pair{"POST", "/revoke"}, std::pair{"DELETE", ""}),
                         [](const auto& info) {
                           return std::string(info.param.first) == "POST" ? "PostRevoke" : "Delete";
                         });

TEST_F(AdminKeysTest, RotateIssuesANewSecretAndTheOldOneFailsAtOnce) {
  auto [id, old_secret] = NewKey({{"name", "rotating"}, {"tier", "premium"}});
  ASSERT_EQ(gw_.ChatWithKey("m", old_secret).status, 200);  // cached

  Response r = gw_.Admin("POST", "/admin/keys/" + id + "/rotate");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("cache-control"), "no-store");
  json::object rotated = JsonOf(r);
  std::string new_secret = Str(rotated, "secret");
  EXPECT_EQ(Str(rotated, "id"), id);
  EXPECT_EQ(Str(rotated, "name"), "rotating");
  EXPECT_EQ(Str(rotated, "tier"), "premium");
  EXPECT_TRUE(new_secret.starts_with("sk-sl-")) << new_secret;
  EXPECT_NE(new_secret, old_secret);
  EXPECT_EQ(Str(rotated, "prefix"), DisplayPrefix(new_secret));
  ExpectNoSecrets("rotate response", r.body, {old_secret});

  EXPECT_EQ(gw_.ChatWithKey("m", new_secret).status, 200);
  ExpectOpenAiError(gw_.ChatWithKey("m", old_secret), 401, "authentication_error",
                    "invalid_api_key");
  Response got = gw_.Admin("GET", "/admin/keys/" + id);
  EXPECT_FALSE(JsonOf(got).contains("secret"));
  ExpectNoSecrets("GET rotated key", got.body, {old_secret, new_secret});

  ASSERT_EQ(gw_.Admin("DELETE", "/admin/keys/" + id).status, 200);
  Response conflict = gw_.Admin("POST", "/admin/keys/" + id + "/rotate");
  ExpectOpenAiError(conflict, 409, "invalid_request_error", "conflict");
  ExpectOpenAiError(gw_.ChatWithKey("m", new_secret), 401, "authentication_error",
                    "revoked_credentials");
}

}  // namespace
}  // namespace sluice::testing::admin_test
