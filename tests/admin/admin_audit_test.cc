// Integration: the audit trail of the admin API — every mutating route of AdminRoutes() (a
// non-empty action) writes one row naming the caller, its key prefix, the action, the
// target, the result, the client address and the request id the client saw; failed actions
// are audited with their error; no row and no response other than create/rotate carries a
// key secret or a password; and GET /admin/audit filters (action prefix, principal, result,
// since/until) and paginates.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "tests/admin/admin_test_fixture.h"

namespace sluice::testing::admin_test {
namespace {

constexpr std::string_view kPassword = "audited password 123";

// Waits (at most a millisecond) for the wall clock to tick, so the rows of what follows are
// strictly newer than those before: rows of the same millisecond are ordered by their
// random ids.
void NextMillisecond() {
  int64_t now = NowMillis();
  while (NowMillis() <= now) std::this_thread::yield();
}

// How to call one mutating route successfully, and the target its audit row must name.
struct MutationCall {
  std::string path;
  std::string body;
  std::string target;         // expected target; empty: `target_kind` + ":" + the response's id
  std::string target_kind;    // "key", "user", "team"
  bool shows_secret = false;  // create/rotate: the response carries a one-time secret
};

class AdminAuditTest : public ::testing::Test {
 protected:
  std::string CreateVia(std::string_view path, const json::object& body) {
    Response r = gw_.Admin("POST", path, body);
    EXPECT_EQ(r.status, 201) << r.body;
    json::object created = JsonOf(r);
    if (created.contains("secret")) secrets_.push_back(Str(created, "secret"));
    return Str(created, "id");
  }

  // All audit rows, newest first, through the API with `query`.
  std::vector<json::object> AuditRows(const std::string& query) {
    gw_.FlushAudit();
    Response r = gw_.Admin("GET", "/admin/audit?limit=1000" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    ExpectNoSecrets("audit list", r.body, secrets_);
    std::vector<json::object> rows;
    json::object list = JsonOf(r);
    if (!list.contains("data")) return rows;
    for (const json::value& row : list["data"].as_array()) rows.push_back(row.as_object());
    return rows;
  }

  std::vector<std::string> Actions(const std::vector<json::object>& rows) {
    std::vector<std::string> out;
    for (const json::object& row : rows) out.push_back(Str(row, "action"));
    return out;
  }

  AdminGateway gw_;
  std::vector<std::string> secrets_{gw_.admin_key().secret, std::string(kPassword)};
};

TEST_F(AdminAuditTest, EveryMutatingRouteWritesARowWithoutSecrets) {
  std::string user = CreateVia("/admin/users", {{"username", "target"}, {"password", kPassword}});
  std::string team = CreateVia("/admin/teams", {{"name", "target team"}});
  auto new_key = [&] { return CreateVia("/admin/keys", {{"name", "target key"}}); };
  std::map<std::string, std::function<MutationCall()>> calls = {
      {"POST /admin/keys",
       [&] {
         return MutationCall{"/admin/keys", R"({"name":"audited"})", "", "key", true};
       }},
      {"PATCH /admin/keys/{id}",
       [&] {
         std::string id = new_key();
         return MutationCall{"/admin/keys/" + id, R"({"name":"renamed"})", "key:" + id};
       }},
      {"DELETE /admin/keys/{id}",
       [&] {
         std::string id = new_key();
         return MutationCall{"/admin/keys/" + id, "", "key:" + id};
       }},
      {"POST /admin/keys/{id}/revoke",
       [&] {
         std::string id = new_key();
         return MutationCall{"/admin/keys/" + id + "/revoke", "", "key:" + id};
       }},
      {"POST /admin/keys/{id}/rotate",
       [&] {
         std::string id = new_key();
         return MutationCall{"/admin/keys/" + id + "/rotate", "", "key:" + id, "", true};
       }},
      {"POST /admin/users",
       [&] {
         json::object body{{"username", "audited"}, {"password", kPassword}};
         return MutationCall{"/admin/users", json::serialize(body), "", "user"};
       }},
      {"PATCH /admin/users/{id}",
       [&] {
         json::object body{{"password", kPassword}, {"disabled", false}};
         return MutationCall{"/admin/users/" + user, json::serialize(body), "user:" + user};
       }},
      {"POST /admin/teams",
       [&] {
         return MutationCall{"/admin/teams", R"({"name":"audited"})", "", "team"};
       }},
      {"PATCH /admin/teams/{id}",
       [&] {
         return MutationCall{"/admin/teams/" + team, R"({"tier":"premium"})", "team:" + team};
       }},
      {"PUT /admin/teams/{id}/members/{user_id}",
       [&] {
         return MutationCall{"/admin/teams/" + team + "/members/" + user, "", "team:" + team};
       }},
      {"DELETE /admin/teams/{id}/members/{user_id}",
       [&] {
         // A member already (the PUT case ran first) or not: a member now.
         gw_.OnStore([&] { return gw_.auth().store().AddTeamMember(team, user); });
         return MutationCall{"/admin/teams/" + team + "/members/" + user, "", "team:" + team};
       }},
      {"POST /admin/tokens/revoke",
       [&] {
         return MutationCall{"/admin/tokens/revoke", R"({"jti":"jti_audited"})",
                             "token:jti_audited"};
       }},
      {"POST /admin/config/reload",
       [&] {
         return MutationCall{"/admin/config/reload", "", "config"};
       }},
  };

  std::vector<Response> plain_responses;
  std::set<std::string> covered;
  for (const AdminRouteInfo& route : AdminRoutes()) {
    if (route.action.empty()) continue;
    std::string name = RouteName(route);
    SCOPED_TRACE(name);
    auto found = calls.find(name);
    if (found == calls.end()) {
      ADD_FAILURE() << "no test call for the mutating route " << name;
      continue;
    }
    covered.insert(name);
    MutationCall call = found->second();
    Response r = gw_.Admin(MethodName(route.method), call.path, call.body);
    ASSERT_LT(r.status, 300) << r.body;
    json::object body = JsonOf(r);
    if (call.shows_secret) {
      ASSERT_TRUE(Str(body, "secret").starts_with("sk-sl-")) << r.body;
      secrets_.push_back(Str(body, "secret"));
    } else {
      EXPECT_FALSE(body.contains("secret")) << r.body;
      plain_responses.push_back(r);
    }
    std::string target =
        call.target.empty() ? call.target_kind + ":" + Str(body, "id") : call.target;

    AuditRecord row = gw_.RowFor(route.action, r);
    EXPECT_EQ(row.request_id, r.Header("x-request-id"));
    EXPECT_EQ(row.principal, "key:" + gw_.admin_key().id);
    EXPECT_EQ(row.key_prefix, gw_.admin_key().prefix);
    EXPECT_EQ(row.action, route.action);
    EXPECT_EQ(row.target, target);
    EXPECT_EQ(row.result, "ok");
    EXPECT_EQ(row.client_ip, "127.0.0.1");
    EXPECT_GT(row.time_ms, 0);
    EXPECT_EQ(json::parse(row.details_json).at("status").as_int64(), r.status) << row.details_json;
  }
  EXPECT_EQ(covered.size(), calls.size()) << "a call in the table matches no mutating route";

  // Secrets: the created and rotated keys, the admin key, the password; also the hash.
  gw_.FlushAudit();
  std::vector<std::string> forbidden = secrets_;
  forbidden.push_back("argon2");
  for (const Response& r : plain_responses) ExpectNoSecrets("response", r.body, forbidden);
  std::vector<AuditRecord> rows = gw_.WaitForAudit([](const AuditRecord&) { return true; });
  for (const AuditRecord& row : rows) {
    ExpectNoSecrets("audit row " + row.action, auth_test::AuditText(row), forbidden);
  }
  AuditRows("");  // checks the list response too
}

TEST_F(AdminAuditTest, FailedActionsAreAuditedWithTheirError) {
  struct Case {
    const char* method;
    const char* path;
    const char* body;
    const char* action;
    const char* result;
  };
  CreateVia("/admin/teams", {{"name", "taken"}});
  for (const Case& c : {
           Case{"PATCH", "/admin/keys/key_000000000000000000000000", R"({"name":"x"})",
                "key.update", "not_found"},
           Case{"POST", "/admin/keys", R"({"name":"x","roles":["root"]})", "key.create",
                "invalid_request"},
           Case{"POST", "/admin/teams", R"({"name":"taken"})", "team.create", "conflict"},
           Case{"POST", "/admin/users", R"({"username":"x","password":"short"})", "user.create",
                "invalid_request"},
           Case{"POST", "/admin/keys", R"({"name":)", "key.create", "invalid_json"},
       }) {
    SCOPED_TRACE(std::string(c.method) + " " + c.path + " " + c.body);
    Response r = gw_.Admin(c.method, c.path, c.body);
    ASSERT_GE(r.status, 400);
    AuditRecord row = gw_.RowFor(c.action, r);
    EXPECT_EQ(row.result, c.result);
    EXPECT_EQ(row.principal, "key:" + gw_.admin_key().id);
    EXPECT_EQ(json::parse(row.details_json).at("status").as_int64(), r.status);
  }
  for (const json::object& row : AuditRows("&action=user.create")) {
    ExpectNoSecrets("user.create row", json::serialize(row), {"short"});
  }
}

TEST_F(AdminAuditTest, QueryFiltersByActionPrincipalResultAndTime) {
  TestKey reader = gw_.CreateKey({.roles = {"readonly"}});
  std::string key = CreateVia("/admin/keys", {{"name", "k"}});
  NextMillisecond();
  ASSERT_EQ(gw_.Admin("POST", "/admin/keys/" + key + "/revoke").status, 200);
  NextMillisecond();
  ASSERT_EQ(gw_.Call("POST", "/admin/keys", R"({"name":"x"})", reader.secret).status, 403);
  NextMillisecond();
  ASSERT_EQ(gw_.Call("GET", "/admin/keys", "", "").status, 401);
  NextMillisecond();
  // The rows of the second batch are at `boundary` or later, those of the first before it.
  int64_t boundary = NowMillis();
  std::string team = CreateVia("/admin/teams", {{"name", "later"}});
  NextMillisecond();
  ASSERT_EQ(gw_.Admin("PATCH", "/admin/teams/" + team, R"({"tier":"basic"})").status, 200);

  EXPECT_EQ(Actions(AuditRows("")),
            (std::vector<std::string>{"team.update", "team.create", "auth.failure",
                                      "permission.denied", "key.revoke", "key.create"}));
  EXPECT_EQ(Actions(AuditRows("&action=key.")),
            (std::vector<std::string>{"key.revoke", "key.create"}));
  EXPECT_EQ(Actions(AuditRows("&action=team.create")), std::vector<std::string>{"team.create"});
  EXPECT_EQ(Actions(AuditRows("&principal=key:" + reader.id)),
            std::vector<std::string>{"permission.denied"});
  EXPECT_EQ(Actions(AuditRows("&principal=anonymous&result=auth_missing")),
            std::vector<std::string>{"auth.failure"});
  EXPECT_EQ(Actions(AuditRows("&result=denied")), std::vector<std::string>{"permission.denied"});
  EXPECT_EQ(Actions(AuditRows("&result=ok&action=key.")),
            (std::vector<std::string>{"key.revoke", "key.create"}));
  EXPECT_EQ(Actions(AuditRows("&target=key:" + key)),
            (std::vector<std::string>{"key.revoke", "key.create"}));
  std::string b = std::to_string(boundary);
  EXPECT_EQ(Actions(AuditRows("&since=" + b)),
            (std::vector<std::string>{"team.update", "team.create"}));
  EXPECT_EQ(
      Actions(AuditRows("&until=" + b)),
      (std::vector<std::string>{"auth.failure", "permission.denied", "key.revoke", "key.create"}));
  EXPECT_EQ(Actions(AuditRows("&since=" + b + "&action=key.")), std::vector<std::string>{});

  // A row as the API shows it.
  std::vector<json::object> denied = AuditRows("&action=permission.denied");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(Str(denied[0], "object"), "audit_event");
  EXPECT_EQ(Str(denied[0], "principal"), "key:" + reader.id);
  EXPECT_EQ(Str(denied[0], "key_prefix"), reader.prefix);
  EXPECT_EQ(Str(denied[0], "target"), "/admin/keys");
  EXPECT_EQ(Str(denied[0], "client_ip"), "127.0.0.1");
  EXPECT_FALSE(Str(denied[0], "request_id").empty());
  EXPECT_TRUE(denied[0]["details"].is_object());

  for (std::string_view query : {"since=-1", "until=soon", "limit=0", "after=aud_nothing"}) {
    SCOPED_TRACE(query);
    std::string param(query.substr(0, query.find('=')));
    Response r = gw_.Admin("GET", "/admin/audit?" + std::string(query));
    EXPECT_EQ(ExpectOpenAiError(r, 400, "invalid_request_error", "")["param"], json::value(param));
  }
}

TEST_F(AdminAuditTest, QueryPaginatesNewestFirst) {
  std::vector<std::string> teams;
  for (int i = 0; i < 5; ++i) {
    NextMillisecond();
    teams.push_back(CreateVia("/admin/teams", {{"name", "team " + std::to_string(i)}}));
  }
  std::vector<json::object> all = AuditRows("");
  ASSERT_EQ(all.size(), 5u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(Str(all[i], "target"), "team:" + teams[teams.size() - 1 - i]) << "newest first";
  }
  std::vector<std::string> walked;
  std::string after;
  int pages = 0;
  while (pages < 10) {
    std::string path = "/admin/audit?limit=2";
    if (!after.empty()) path += "&after=" + after;
    Response r = gw_.Admin("GET", path);
    ASSERT_EQ(r.status, 200) << r.body;
    json::object page = JsonOf(r);
    ++pages;
    for (const json::value& row : page["data"].as_array()) {
      walked.push_back(Str(row.as_object(), "id"));
    }
    if (!page["has_more"].as_bool()) {
      EXPECT_TRUE(page["next_after"].is_null());
      break;
    }
    after = Str(page, "next_after");
    EXPECT_EQ(after, walked.back());
  }
  EXPECT_EQ(pages, 3);
  std::vector<std::string> expected;
  for (const json::object& row : all) expected.push_back(Str(row, "id"));
  EXPECT_EQ(walked, expected);
  // Filters and pages combine.
  Response first = gw_.Admin("GET", "/admin/audit?limit=1&action=team.create");
  json::object page = JsonOf(first);
  ASSERT_EQ(page["data"].as_array().size(), 1u) << first.body;
  Response second =
      gw_.Admin("GET", "/admin/audit?limit=10&action=team.create&after=" + Str(page, "next_after"));
  EXPECT_EQ(JsonOf(second)["data"].as_array().size(), 4u) << second.body;
}

}  // namespace
}  // namespace sluice::testing::admin_test
