// Integration: the admin API's access control and HTTP surface, route by route from
// AdminRoutes() — no credentials is a 401 with WWW-Authenticate on every route; each built-in
// role (user, readonly, operator, admin) is allowed exactly the routes its permissions cover
// and gets 403 permission_denied (audited) on the others; wrong methods are 405 with Allow,
// unknown paths 404, bodies that are not JSON objects 400; and the data-plane and admin
// listeners do not serve each other's routes.
#include <gtest/gtest.h>

#include <set>

#include "tests/admin/admin_test_fixture.h"

namespace sluice::testing::admin_test {
namespace {

constexpr std::string_view kUnknownId = "zz_000000000000000000000000";

// A request on `route` that changes nothing when allowed: ids that do not exist, and a body
// ({}) that every create rejects for a missing required field.
Response CallRoute(AdminGateway& gw, const AdminRouteInfo& route, std::string_view credential) {
  std::string_view method = MethodName(route.method);
  std::string body = route.method == Method::kGet || route.method == Method::kDelete ? "" : "{}";
  return gw.Call(method, ConcretePath(route.pattern, kUnknownId), body, credential);
}

TEST(AdminApiAccess, EveryRouteWithoutCredentialsIs401WithWwwAuthenticate) {
  AdminGateway gw;
  ASSERT_FALSE(AdminRoutes().empty());
  for (const AdminRouteInfo& route : AdminRoutes()) {
    SCOPED_TRACE(RouteName(route));
    Response r = CallRoute(gw, route, "");
    ExpectOpenAiError(r, 401, "authentication_error", "missing_api_key");
    EXPECT_EQ(r.Header("www-authenticate"), "Bearer realm=\"sluice\"");
    AuditRecord row = gw.RowFor("auth.failure", r);
    EXPECT_EQ(row.principal, "anonymous");
    EXPECT_EQ(row.result, "auth_missing");
    EXPECT_EQ(row.target, ConcretePath(route.pattern, kUnknownId));
    EXPECT_EQ(row.client_ip, "127.0.0.1");
  }
  // Wrong credentials: a well-formed key nobody issued, and something that is no key at all.
  for (const std::string& credential : {GenerateApiKey().secret, std::string("not-a-key")}) {
    Response r = gw.Call("GET", "/admin/keys", "", credential);
    ExpectOpenAiError(r, 401, "authentication_error", "invalid_api_key");
    EXPECT_EQ(r.Header("www-authenticate"), "Bearer realm=\"sluice\", error=\"invalid_token\"");
    EXPECT_EQ(gw.RowFor("auth.failure", r).result, "auth_invalid");
  }
  // A revoked admin key is refused too.
  ASSERT_EQ(
      gw.OnStore([&] { return gw.auth().store().RevokeKey(gw.admin_key().id, NowSeconds()); }).ok(),
      true);
  gw.auth().keys().Clear();
  ExpectOpenAiError(gw.Admin("GET", "/admin/keys"), 401, "authentication_error",
                    "revoked_credentials");
}

class AdminApiRoleTest : public ::testing::TestWithParam<const char*> {};

TEST_P(AdminApiRoleTest, EachRouteIsAllowedExactlyWhenTheRoleHasItsPermission) {
  const std::string role = GetParam();
  AdminGateway gw;
  TestKey key = role == "admin" ? gw.admin_key() : gw.CreateKey({.roles = {role}});
  const uint64_t granted = BuiltInRolePermissions(role);
  std::set<std::string> allowed;
  for (const AdminRouteInfo& route : AdminRoutes()) {
    SCOPED_TRACE(role + ": " + RouteName(route));
    Response r = CallRoute(gw, route, key.secret);
    if ((granted & route.permission) == route.permission) {
      allowed.insert(RouteName(route));
      EXPECT_NE(r.status, 401) << r.body;
      EXPECT_NE(r.status, 403) << r.body;
      EXPECT_LT(r.status, 500) << r.body;
      if (route.method == Method::kGet && route.pattern.find('{') == std::string_view::npos) {
        EXPECT_EQ(r.status, 200) << r.body;
      }
      continue;
    }
    json::object error = ExpectOpenAiError(r, 403, "permission_error", "permission_denied");
    for (std::string_view needed : PermissionNames(route.permission & ~granted)) {
      EXPECT_NE(Str(error, "message").find(needed), std::string::npos) << r.body;
    }
    AuditRecord row = gw.RowFor("permission.denied", r);
    EXPECT_EQ(row.principal, "key:" + key.id);
    EXPECT_EQ(row.key_prefix, key.prefix);
    EXPECT_EQ(row.target, ConcretePath(route.pattern, kUnknownId));
    EXPECT_EQ(row.result, "denied");
    EXPECT_EQ(row.client_ip, "127.0.0.1");
  }

  // The same, stated per role without the permission table.
  std::set<std::string> expected;
  for (const AdminRouteInfo& route : AdminRoutes()) {
    std::string name = RouteName(route);
    bool is_read = route.method == Method::kGet;
    bool users_write = route.pattern.starts_with("/admin/users") && !is_read;
    if (role == "admin" || (role == "readonly" && is_read) ||
        (role == "operator" && !users_write) || name == "GET /admin/whoami") {
      expected.insert(name);
    }
  }
  EXPECT_EQ(allowed, expected);
}

INSTANTIATE_TEST_SUITE_P(BuiltInRoles, AdminApiRoleTest,
                         ::testing::Values("user", "readonly", "operator", "admin"),
                         [](const auto& info) { return std::string(info.param); });

TEST(AdminApiAccess, WhoAmIDescribesTheCaller) {
  AdminGateway gw;
  TestKey reader = gw.CreateKey({.roles = {"readonly"}});
  Response r = gw.Call("GET", "/admin/whoami", "", reader.secret);
  ASSERT_EQ(r.status, 200) << r.body;
  json::object me = JsonOf(r);
  EXPECT_EQ(Str(me, "object"), "principal");
  EXPECT_EQ(Str(me, "id"), "key:" + reader.id);
  EXPECT_EQ(Str(me, "key_prefix"), reader.prefix);
  EXPECT_EQ(me["roles"], (json::array{"readonly"}));
  json::array permissions;
  for (std::string_view p : PermissionNames(BuiltInRolePermissions("readonly"))) {
    permissions.emplace_back(p);
  }
  EXPECT_EQ(me["permissions"], permissions);
  ExpectNoSecrets("whoami", r.body, {reader.secret});
}

// The methods AdminRoutes() serves on `path`, as an Allow header lists them.
std::string AllowFor(std::string_view pattern) {
  std::string allow;
  for (const AdminRouteInfo& route : AdminRoutes()) {
    if (route.pattern != pattern) continue;
    if (!allow.empty()) allow += ", ";
    allow += MethodName(route.method);
  }
  return allow;
}

TEST(AdminApiHttp, WrongMethodIs405WithAllow) {
  AdminGateway gw;
  std::set<std::string> patterns;
  for (const AdminRouteInfo& route : AdminRoutes()) patterns.insert(std::string(route.pattern));
  for (const std::string& pattern : patterns) {
    std::string allow = AllowFor(pattern);
    for (std::string_view method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      if (allow.find(method) != std::string::npos) continue;
      SCOPED_TRACE(std::string(method) + " " + pattern);
      Response r = gw.Admin(method, ConcretePath(pattern, kUnknownId));
      ExpectOpenAiError(r, 405, "invalid_request_error", "method_not_allowed");
      EXPECT_EQ(r.Header("allow"), allow);
    }
  }
  EXPECT_EQ(AllowFor("/admin/keys"), "GET, POST");
  EXPECT_EQ(AllowFor("/admin/keys/{id}"), "GET, PATCH, DELETE");
}

TEST(AdminApiHttp, UnknownPathsAre404) {
  AdminGateway gw;
  for (std::string_view path : {"/admin", "/admin/", "/admin/nope", "/admin/keys/a/b",
                                "/admin/teams/t/members", "/admin/keys/a/revoke/x", "/nope"}) {
    SCOPED_TRACE(path);
    Response r = gw.Admin("GET", path);
    json::object error = ExpectOpenAiError(r, 404, "invalid_request_error", "");
    EXPECT_NE(Str(error, "message").find(path), std::string::npos) << r.body;
  }
}

TEST(AdminApiHttp, BodiesThatAreNotJsonObjectsAre400) {
  AdminGateway gw;
  for (std::string_view body : {"{\"name\":", "not json", "[\"name\"]", "\"name\"", "42"}) {
    SCOPED_TRACE(body);
    ExpectOpenAiError(gw.Admin("POST", "/admin/keys", body), 400, "invalid_request_error",
                      "invalid_json");
    ExpectOpenAiError(gw.Admin("PATCH", "/admin/users/usr_x", body), 400, "invalid_request_error",
                      "invalid_json");
  }
  // Nothing was created.
  EXPECT_EQ(JsonOf(gw.Admin("GET", "/admin/keys"))["data"].as_array().size(), 1u);
}

TEST(AdminApiHttp, TheListenersDoNotServeEachOthersRoutes) {
  AdminGateway gw;
  const std::string& admin = gw.admin_key().secret;
  // The data plane has no admin API, whoever asks.
  for (std::string_view path : {"/admin/keys", "/admin/whoami", "/openapi.json"}) {
    SCOPED_TRACE(path);
    Response r = gw.Call("GET", path, "", admin, gw.data_port());
    ExpectOpenAiError(r, 404, "invalid_request_error", "");
  }
  Response create = gw.Call("POST", "/admin/keys", R"({"name":"x"})", admin, gw.data_port());
  ExpectOpenAiError(create, 404, "invalid_request_error", "");
  EXPECT_EQ(JsonOf(gw.Admin("GET", "/admin/keys"))["data"].as_array().size(), 1u);
  // The admin listener has no model API (the admin key may invoke models elsewhere).
  Response chat =
      gw.Send(gw.admin_port(),
              JsonRequest("/v1/chat/completions", auth_test::ChatBody("m"), BearerHeader(admin)));
  ExpectOpenAiError(chat, 404, "invalid_request_error", "");
  EXPECT_EQ(gw.Call("GET", "/v1/models", "", admin).status, 404);
  EXPECT_EQ(gw.upstream().requests(), 0);
  EXPECT_EQ(gw.ChatWithKey("m", admin).status, 200);
  EXPECT_EQ(gw.upstream().requests(), 1);
}

}  // namespace
}  // namespace sluice::testing::admin_test
