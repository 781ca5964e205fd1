// Shared fixture for the admin API integration tests (tests/admin/*_test.cc): the real
// gateway in-process with the identity config of the auth tests (SQLite store in a temporary
// file, tiers basic/premium, chain request_id, auth, authorize, access_log) plus an admin
// listener on a free loopback port. An admin key (roles ["admin"]) is created directly in
// the store at start; helpers create keys of other roles, call the admin listener and the
// data plane, parse JSON bodies and read back audit rows. Header-only, test code.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <thread>
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
    return reader | kPermModelsInvoke | kPermKeysManage | kPermTeamsManage | kPermTokensRevoke;
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

class AdminGateway {
 public:
  AdminGateway() : db_path_(auth_test::TempDbPath()) {
    ::setenv(std::string(auth_test::kProviderKeyEnv).c_str(),
             std::string(auth_test::kProviderKey).c_str(), 1);
    std::string yaml = auth_test::AuthConfigYaml({}, db_path_) +
                       "admin:\n"
                       "  listen: 127.0.0.1:0\n";
    harness_ = std::make_unique<GatewayHarness>(yaml, upstream_.address());
    EXPECT_NE(harness_->auth(), nullptr);
    EXPECT_NE(admin_port(), 0);
    EXPECT_NE(admin_port(), data_port());
    admin_key_ = CreateKey({"admin"});
  }
  ~AdminGateway() {
    harness_.reset();
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      ::unlink((db_path_ + suffix).c_str());
    }
  }

  GatewayHarness& harness() { return *harness_; }
  AuthRuntime& auth() { return *harness_->auth(); }
  FakeUpstream& upstream() { return upstream_; }
  uint16_t admin_port() { return harness_->server().admin_port(); }
  uint16_t data_port() { return harness_->port(); }
  const TestKey& admin_key() const { return admin_key_; }

  template <class F>
  auto OnStore(F work) {
    return auth().store_pool().RunSync(std::move(work));
  }

  // A key with `roles` inserted directly in the store (like `sluice keys create`).
  TestKey CreateKey(std::vector<std::string> roles, std::string user_id = "") {
    NewApiKey generated = GenerateApiKey();
    ApiKeyRecord record;
    record.id = NewId("key");
    record.name = "fixture key";
    record.hash = generated.hash;
    record.prefix = generated.prefix;
    record.roles = std::move(roles);
    record.user_id = std::move(user_id);
    record.created_at = NowSeconds();
    StoreResult<void> inserted = OnStore([&] { return auth().store().InsertKey(record); });
    EXPECT_TRUE(inserted.ok());
    return TestKey{generated.secret, record.id, generated.hash, generated.prefix};
  }

  // Sends `request` to `port` and reads one response.
  Response Send(uint16_t port, const std::string& request, bool head = false) {
    TestClient client(port);
    client.Send(request);
    std::optional<Response> response = client.ReadResponse(head);
    EXPECT_TRUE(response) << "no response";
    return response.value_or(Response{});
  }

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

  // POST /v1/chat/completions on the data plane with `credential` as a bearer token.
  Response Chat(std::string_view credential) {
    return Send(data_port(), JsonRequest("/v1/chat/completions", auth_test::ChatBody("m"),
                                         BearerHeader(credential)));
  }

  // Creates a key through the admin API; returns the 201 body (with "secret").
  json::object CreateKeyViaApi(const json::object& request) {
    Response r = Admin("POST", "/admin/keys", request);
    EXPECT_EQ(r.status, 201) << r.body;
    return JsonOf(r);
  }

  // Every audit row (newest first) once `matches` accepts one, flushing the queue while it
  // polls; a test failure when none does within 5 s.
  std::vector<AuditRecord> WaitForAudit(const std::function<bool(const AuditRecord&)>& matches) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::vector<AuditRecord> rows;
    while (true) {
      auth().audit().Flush();
      Page page;
      page.limit = 1000;
      auto listed = OnStore([&] { return auth().store().ListAudit(AuditFilter{}, page); });
      EXPECT_TRUE(listed.ok());
      if (listed.ok()) rows = listed.value();
      for (const AuditRecord& row : rows) {
        if (matches(row)) return rows;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "no matching audit row among " << rows.size();
        return rows;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
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
  std::string db_path_;
  FakeUpstream upstream_{[](FakeExchange& ex) -> boost::asio::awaitable<void> {
    const std::string body = ChatCompletionJson("hello", 3, 2);
    co_await ex.RespondJson(200, body);
  }};
  std::unique_ptr<GatewayHarness> harness_;
  TestKey admin_key_;
};

}  // namespace sluice::testing::admin_test
