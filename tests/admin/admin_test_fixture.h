// Shared fixture for the admin API integration tests (tests/admin/*_test.cc): the real
// gateway in-process with the identity config of the auth tests (SQLite store in a temporary
// file, tiers basic/premium, chain request_id, auth, authorize, access_log) plus an admin
// listener on a free loopback port. AdminGateway derives from the auth tests' AuthGateway,
// which creates keys in the store, sends requests to the data plane and polls the audit
// table; an admin key (roles ["admin"]) is created directly in the store at start, and
// helpers call the admin listener, parse JSON bodies and read back audit rows. Header-only,
// test code.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "admin/admin_api.h"
#include "core/principal.h"
#include "tests/integration/auth_test_fixture.h"

namespace sluice::testing::admin_test {

namespace json = boost::json;
using auth_test::BearerHeader;
using auth_test::ExpectNoSecrets;
using auth_test::ExpectOpenAiError;
using auth_test::TestKey;

// The permissions of the built-in roles, written out here as the specification the admin
// routes are checked against (src/auth/access_policy.cc must agree).
inline uint64_t BuiltInRolePermissions(std::string_view role) {
  const uint64_t reader = kPermKeysRead | kPermUsersRead | kPermTeamsRead | kPermUsageRead |
                          kPermUsageReadAll | kPermAuditRead | kPermConfigRead | kPermRolesRead;
  if (role == "admin") return AllPermissions();
  if (role == "operator") {
    return reader | kPermModelsInvoke | kPermKeysManage | kPermTeamsManage | kPermTokensRevoke |
           kPermConfigReload;
  }
  if (role == "user") return kPermModelsInvoke | kPermUsageRead;
  if (role == "readonly") return reader;
  ADD_FAILURE() << "not a built-in role: " << role;
  return 0;
}

// "/admin/keys/{id}" with {id} → `id` and {user_id} → `sub_id`.
inline std::string ConcretePath(std::string_view pattern, std::string_view id,
                                std::string_view sub_id = "usr_000000000000000000000000") {
  std::string path(pattern);
  for (auto [from, to] : {std::pair{std::string_view("{id}"), id},
                          std::pair{std::string_view("{user_id}"), sub_id}}) {
    if (size_t pos = path.find(from); pos != std::string::npos) path.replace(pos, from.size(), to);
  }
  return path;
}

inline std::string RouteName(const AdminRouteInfo& route) {
  return std::string(MethodName(route.method)) + " " + std::string(route.pattern);
}

// The body of a JSON response as an object (a test failure and {} when it is not one).
inline json::object JsonOf(const Response& response) {
  boost::system::error_code ec;
  json::value value = json::parse(response.body, ec);
  if (ec || !value.is_object()) {
    ADD_FAILURE() << "not a JSON object (status " << response.status << "): " << response.body;
    return {};
  }
  return value.as_object();
}

inline std::string Str(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

// AuthGateway (its store, upstream, key and audit helpers) with an admin: section, so the
// gateway also listens for the admin API; an admin key is created at start.
class AdminGateway : public auth_test::AuthGateway {
 public:
  AdminGateway() : AuthGateway({.extra_yaml = "admin:\n  listen: 127.0.0.1:0\n"}) {
    EXPECT_NE(admin_port(), 0);
    EXPECT_NE(admin_port(), data_port());
    admin_key_ = CreateKey({.roles = {"admin"}});
  }

  uint16_t admin_port() { return harness().server().admin_port(); }
  uint16_t data_port() { return harness().port(); }
  const TestKey& admin_key() const { return admin_key_; }

  // A request to the admin listener; `credential` goes in Authorization: Bearer unless empty.
  Response Call(std::string_view method, std::string_view path, std::string_view body = "",
                std::string_view credential = "", uint16_t port = 0) {
    std::string headers = credential.empty() ? "" : BearerHeader(credential);
    std::string request = body.empty() && (method == "GET" || method == "HEAD")
                              ? std::string(method) + " " + std::string(path) +
                                    " HTTP/1.1\r\nHost: test\r\n" + headers + "\r\n"
                              : JsonRequest(path, body, headers, method);
    return Send(port == 0 ? admin_port() : port, request, method == "HEAD");
  }
  // The same with the admin key.
  Response Admin(std::string_view method, std::string_view path, std::string_view body = "") {
    return Call(method, path, body, admin_key_.secret);
  }
  Response Admin(std::string_view method, std::string_view path, const json::object& body) {
    return Admin(method, path, json::serialize(body));
  }

  // Creates a key through the admin API; returns the 201 body (with "secret").
  json::object CreateKeyViaApi(const json::object& request) {
    Response r = Admin("POST", "/admin/keys", request);
    EXPECT_EQ(r.status, 201) << r.body;
    return JsonOf(r);
  }

  // The audit row with `action` written while serving the request that got `response`.
  AuditRecord RowFor(std::string_view action, const Response& response) {
    std::string request_id = response.Header("x-request-id");
    EXPECT_FALSE(request_id.empty());
    auto matches = [&](const AuditRecord& row) {
      return row.action == action && row.request_id == request_id;
    };
    for (const AuditRecord& row : WaitForAudit(matches)) {
      if (matches(row)) return row;
    }
    return {};
  }

  // Makes queued audit rows visible to the store (and so to GET /admin/audit).
  void FlushAudit() {
    auth().audit().Flush();
    // The flush hands the rows to the store thread; a no-op behind it waits for them.
    OnStore([] { return 0; });
  }

 private:
  TestKey admin_key_;
};

}  // namespace sluice::testing::admin_test
