// Shared fixture for the identity-and-access integration tests (auth_*_test.cc): a real
// gateway in-process with an auth: section, a SQLite store in a temporary file and the
// chain request_id, auth, authorize, access_log; a fake upstream that answers every request
// with a chat completion and records what it saw. Helpers create keys and users directly
// in the store (on the store's thread), send requests, check OpenAI-shaped errors, poll the
// audit table and check that no text carries a secret. The admin tests derive their fixture
// from AuthGateway (tests/admin/admin_test_fixture.h). Header-only, test code.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "auth/api_key.h"
#include "auth/auth_runtime.h"
#include "auth/login_service.h"
#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"

namespace sluice::testing::auth_test {

namespace json = boost::json;
namespace asio = boost::asio;

inline constexpr std::string_view kProviderKeyEnv = "SLUICE_AUTH_TEST_PROVIDER_KEY";
inline constexpr std::string_view kProviderKey = "provider-secret-for-upstream-only";
inline constexpr std::string_view kChatBody = R"({"model":"m","messages":[]})";

struct AuthOptions {
  std::string key_cache_ttl = "10s";
  bool self_registration = false;
  // false: no filters: section, so the gateway builds its default chain with auth.
  bool explicit_filters = true;
  // access_log before auth: a filter after the one that replied never runs, so only then
  // are the 401/403 replies of auth and authorize (and their GET /v1/models) logged.
  bool access_log_first = false;
  // Appended to the config as is, e.g. an admin: section.
  std::string extra_yaml;
};

// Models m (alias m-alias, upstream name up-m), text-small, text-large and pro; tier basic
// (the default) allows m through its alias and text-* by glob, premium allows everything;
// a custom role "invoker" has only models:invoke.
inline std::string AuthConfigYaml(const AuthOptions& options, const std::string& db_path) {
  std::string yaml =
      "server:\n"
      "  listen: 127.0.0.1:0\n"
      "  workers: 1\n"
      "backends:\n"
      "  - name: up\n"
      "    url: http://{upstream}/v1\n"
      "    api_key_env: " +
      std::string(kProviderKeyEnv) +
      "\n"
      "models:\n"
      "  - name: m\n"
      "    aliases: [m-alias]\n"
      "    backend: up\n"
      "    upstream_model: up-m\n"
      "  - name: text-small\n"
      "    backend: up\n"
      "  - name: text-large\n"
      "    backend: up\n"
      "  - name: pro\n"
      "    backend: up\n"
      "auth:\n"
      "  key_cache_ttl: " +
      options.key_cache_ttl +
      "\n"
      "  bootstrap: {admin_key: false}\n"
      "  login:\n"
      "    self_registration: " +
      (options.self_registration ? "true" : "false") +
      "\n"
      "  tiers:\n"
      "    basic: [m-alias, \"text-*\"]\n"
      "    premium: [\"*\"]\n"
      "  default_tier: basic\n"
      "  roles:\n"
      "    invoker: [models:invoke]\n"
      "store:\n"
      "  sqlite: " +
      db_path + "\n";
  if (options.explicit_filters) {
    const std::string access_log = "  - access_log:\n      output: {access_log}\n";
    yaml += "filters:\n  - request_id: {}\n";
    if (options.access_log_first) yaml += access_log;
    yaml += "  - auth: {}\n  - authorize: {}\n";
    if (!options.access_log_first) yaml += access_log;
  }
  return yaml + options.extra_yaml;
}

inline std::string TempDbPath() {
  static int counter = 0;
  return "/tmp/sluice-auth-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) +
         ".db";
}

struct KeySpec {
  std::vector<std::string> roles;  // empty: the owner's roles, else "user"
  std::string tier;
  std::vector<std::string> allowed_models;
  std::string user_id;
  int64_t expires_at = 0;
  int64_t revoked_at = 0;
};

struct TestKey {
  std::string secret;
  std::string id;
  std::string hash;
  std::string prefix;
};

inline std::string BearerHeader(std::string_view credential) {
  return "Authorization: Bearer " + std::string(credential) + "\r\n";
}

inline std::string ChatBody(std::string_view model) {
  return R"({"model":")" + std::string(model) + R"(","messages":[]})";
}

inline std::string FormRequest(std::string_view path, std::string_view body) {
  std::string out = "POST " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n";
  out += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ";
  out += std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

// Checks status, the OpenAI error shape and X-Request-Id; returns the error object.
inline json::object ExpectOpenAiError(const Response& response, int status, std::string_view type,
                                      std::string_view code) {
  EXPECT_EQ(response.status, status) << response.body;
  EXPECT_EQ(response.Header("content-type"), "application/json");
  EXPECT_FALSE(response.Header("x-request-id").empty());
  boost::system::error_code ec;
  json::value body = json::parse(response.body, ec);
  if (ec || !body.is_object() || !body.as_object().contains("error") ||
      !body.at("error").is_object()) {
    ADD_FAILURE() << "not an OpenAI error: " << response.body;
    return {};
  }
  json::object error = body.at("error").as_object();
  EXPECT_TRUE(error.contains("message") && error.at("message").is_string() &&
              !error.at("message").as_string().empty())
      << response.body;
  EXPECT_EQ(error["type"], json::value(type)) << response.body;
  EXPECT_TRUE(error.contains("param")) << response.body;
  if (code.empty()) {
    EXPECT_TRUE(error.contains("code") && error.at("code").is_null()) << response.body;
  } else {
    EXPECT_EQ(error["code"], json::value(code)) << response.body;
  }
  return error;
}

inline void ExpectNoSecrets(std::string_view where, std::string_view text,
                            const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    EXPECT_EQ(text.find(secret), std::string_view::npos) << where << " carries a secret";
  }
}

inline std::string AuditText(const AuditRecord& r) {
  return r.principal + "|" + r.key_prefix + "|" + r.action + "|" + r.target + "|" + r.result + "|" +
         r.client_ip + "|" + r.request_id + "|" + r.details_json;
}

// A gateway with auth in front of a fake upstream, over a fresh SQLite file.
// Creates an API key in `auth`'s store (on its blocking pool) and returns it with its secret.
inline TestKey InsertTestKey(AuthRuntime& auth, const KeySpec& spec = {},
                             std::string name = "test key") {
  NewApiKey generated = GenerateApiKey();
  ApiKeyRecord record;
  record.id = NewId("key");
  record.name = std::move(name);
  record.hash = generated.hash;
  record.prefix = generated.prefix;
  record.user_id = spec.user_id;
  record.roles = spec.roles;
  record.tier = spec.tier;
  record.allowed_models = spec.allowed_models;
  record.created_at = NowSeconds();
  record.expires_at = spec.expires_at;
  record.revoked_at = spec.revoked_at;
  StoreResult<void> inserted =
      auth.store_pool().RunSync([&] { return auth.store().InsertKey(record); });
  EXPECT_TRUE(inserted.ok());
  return TestKey{generated.secret, record.id, generated.hash, generated.prefix};
}

class AuthGateway {
 public:
  explicit AuthGateway(const AuthOptions& options = {}) : db_path_(TempDbPath()) {
    ::setenv(std::string(kProviderKeyEnv).c_str(), std::string(kProviderKey).c_str(), 1);
    harness_ =
        std::make_unique<GatewayHarness>(AuthConfigYaml(options, db_path_), upstream_.address());
    EXPECT_NE(harness_->auth(), nullptr);
  }
  ~AuthGateway() {
    harness_.reset();
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      ::unlink((db_path_ + suffix).c_str());
    }
    std::error_code ignored;
    std::filesystem::remove_all(db_path_ + ".usage", ignored);  // the usage journal
  }

  GatewayHarness& harness() { return *harness_; }
  AuthRuntime& auth() { return *harness_->auth(); }
  FakeUpstream& upstream() { return upstream_; }

  template <class F>
  auto OnStore(F work) {
    return auth().store_pool().RunSync(std::move(work));
  }

  TestKey CreateKey(const KeySpec& spec = {}) { return InsertTestKey(auth(), spec); }

  // Returns the new user's id.
  std::string CreateUser(const std::string& username, const std::string& password,
                         std::vector<std::string> roles = {"user"}, bool disabled = false) {
    UserRecord user;
    user.id = NewId("usr");
    user.username = username;
    user.password_hash = LoginService::HashPassword(password);
    user.disabled = disabled;
    user.roles = std::move(roles);
    user.created_at = user.updated_at = NowSeconds();
    EXPECT_FALSE(user.password_hash.empty());
    StoreResult<void> inserted = OnStore([&] { return auth().store().InsertUser(user); });
    EXPECT_TRUE(inserted.ok());
    return user.id;
  }

  // Sends `request` to `port` and reads one response (`head`: the reply to a HEAD request).
  Response Send(uint16_t port, const std::string& request, bool head = false) {
    TestClient client(port);
    client.Send(request);
    std::optional<Response> response = client.ReadResponse(head);
    EXPECT_TRUE(response) << "no response";
    return response.value_or(Response{});
  }
  // The same on the data plane.
  Response Send(const std::string& request) { return Send(harness_->port(), request); }

  Response Chat(std::string_view model, const std::string& headers) {
    return Send(JsonRequest("/v1/chat/completions", ChatBody(model), headers));
  }
  Response ChatWithKey(std::string_view model, std::string_view secret) {
    return Chat(model, BearerHeader(secret));
  }

  // Polls the audit table (flushing the queue each time) until `matches` accepts a row or 5 s
  // pass (a test failure); returns every row seen in the last poll, newest first.
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

 private:
  std::string db_path_;
  FakeUpstream upstream_{[](FakeExchange& ex) -> asio::awaitable<void> {
    const std::string body = ChatCompletionJson("hello", 3, 2);
    co_await ex.RespondJson(200, body);
  }};
  std::unique_ptr<GatewayHarness> harness_;
};

}  // namespace sluice::testing::auth_test
