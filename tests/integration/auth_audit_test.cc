// Integration: the audit trail and the access log of the data plane — rows for failed
// authentication, permission and model denials, and sign-ins (ok and failed), each with the
// client address and the request id the client saw; and neither the audit rows nor the
// access-log lines ever hold a key, a password or a token.
#include <gtest/gtest.h>

#include <set>

#include "tests/integration/auth_test_fixture.h"

namespace sluice::testing::auth_test {
namespace {

constexpr std::string_view kPassword = "audit-test password";

const AuditRecord* FindRow(const std::vector<AuditRecord>& rows, std::string_view action,
                           std::string_view request_id) {
  for (const AuditRecord& row : rows) {
    if (row.action == action && row.request_id == request_id) return &row;
  }
  return nullptr;
}

class AuthAuditTest : public ::testing::Test {
 protected:
  // The row for `action` written while serving the request that got `response`.
  AuditRecord RowFor(std::string_view action, const Response& response) {
    std::string request_id = response.Header("x-request-id");
    EXPECT_FALSE(request_id.empty());
    std::vector<AuditRecord> rows = gw_.WaitForAudit([&](const AuditRecord& row) {
      return row.action == action && row.request_id == request_id;
    });
    const AuditRecord* row = FindRow(rows, action, request_id);
    if (row == nullptr) return {};
    EXPECT_EQ(row->client_ip, "127.0.0.1");
    EXPECT_GT(row->time_ms, 0);
    return *row;
  }

  void ExpectNoSecretsInAudit(const std::vector<std::string>& secrets) {
    std::vector<AuditRecord> rows = gw_.WaitForAudit([](const AuditRecord&) { return true; });
    for (const AuditRecord& row : rows)
      ExpectNoSecrets("audit row " + row.action, AuditText(row), secrets);
  }

  AuthGateway gw_;
};

TEST_F(AuthAuditTest, FailedAuthenticationIsAuditedWithoutTheKey) {
  std::string unknown = GenerateApiKey().secret;
  Response r = gw_.ChatWithKey("m", unknown);
  ASSERT_EQ(r.status, 401);
  AuditRecord row = RowFor("auth.failure", r);
  EXPECT_EQ(row.principal, "anonymous");
  EXPECT_EQ(row.result, "auth_invalid");
  EXPECT_EQ(row.target, "/v1/chat/completions");
  EXPECT_EQ(json::parse(row.details_json).at("credential"), json::value("api_key"));
  Response missing = gw_.Send(JsonRequest("/v1/chat/completions", kChatBody));
  AuditRecord missing_row = RowFor("auth.failure", missing);
  EXPECT_EQ(missing_row.result, "auth_missing");
  EXPECT_EQ(json::parse(missing_row.details_json).at("credential"), json::value("none"));
  ExpectNoSecretsInAudit({unknown, std::string(unknown, 0, 20)});
}

TEST_F(AuthAuditTest, RevokedKeyFailureIsAudited) {
  TestKey key = gw_.CreateKey({.revoked_at = NowSeconds() - 1});
  Response r = gw_.ChatWithKey("m", key.secret);
  ASSERT_EQ(r.status, 401);
  EXPECT_EQ(RowFor("auth.failure", r).result, "auth_revoked");
  ExpectNoSecretsInAudit({key.secret});
}

TEST_F(AuthAuditTest, PermissionDenialIsAuditedWithTheKeyPrefix) {
  TestKey key = gw_.CreateKey({.roles = {"readonly"}});
  Response r = gw_.ChatWithKey("m", key.secret);
  ASSERT_EQ(r.status, 403);
  AuditRecord row = RowFor("permission.denied", r);
  EXPECT_EQ(row.principal, "key:" + key.id);
  EXPECT_EQ(row.key_prefix, key.prefix);
  EXPECT_EQ(row.result, "denied");
  ExpectNoSecretsInAudit({key.secret});
}

TEST_F(AuthAuditTest, ModelDenialIsAuditedNamingTheModel) {
  TestKey key = gw_.CreateKey();
  Response r = gw_.ChatWithKey("pro", key.secret);
  ASSERT_EQ(r.status, 403);
  AuditRecord row = RowFor("model.denied", r);
  EXPECT_EQ(row.principal, "key:" + key.id);
  EXPECT_EQ(row.target, "model:pro");
  EXPECT_EQ(row.result, "denied");
  ExpectNoSecretsInAudit({key.secret});
}

TEST_F(AuthAuditTest, SignInsAreAuditedWithoutPasswordsOrTokens) {
  std::string user_id = gw_.CreateUser("erin", std::string(kPassword));
  json::object login;
  login["username"] = "erin";
  login["password"] = kPassword;
  Response ok = gw_.Send(JsonRequest("/auth/login", json::serialize(login)));
  ASSERT_EQ(ok.status, 200) << ok.body;
  json::value tokens = json::parse(ok.body);
  AuditRecord ok_row = RowFor("login", ok);
  EXPECT_EQ(ok_row.principal, "user:" + user_id);
  EXPECT_EQ(ok_row.result, "ok");

  login["password"] = "a wrong password";
  Response failed = gw_.Send(JsonRequest("/auth/login", json::serialize(login)));
  ASSERT_EQ(failed.status, 401);
  AuditRecord failed_row = RowFor("login", failed);
  EXPECT_EQ(failed_row.principal, "anonymous");
  EXPECT_EQ(failed_row.result, "denied");

  ExpectNoSecretsInAudit({std::string(kPassword), "a wrong password",
                          std::string(tokens.at("access_token").as_string()),
                          std::string(tokens.at("refresh_token").as_string())});
}

TEST(AuthAccessLog, AccessLogCarriesNoSecrets) {
  AuthGateway gw({.access_log_first = true});
  TestKey key = gw.CreateKey();
  TestKey reader = gw.CreateKey({.roles = {"readonly"}});
  std::string unknown = GenerateApiKey().secret;
  gw.CreateUser("frank", std::string(kPassword));
  json::object login;
  login["username"] = "frank";
  login["password"] = kPassword;

  std::vector<int> statuses;
  statuses.push_back(gw.ChatWithKey("m", key.secret).status);
  statuses.push_back(gw.Send(GetRequest("/v1/models", "X-API-Key: " + key.secret + "\r\n")).status);
  statuses.push_back(gw.ChatWithKey("m", unknown).status);
  statuses.push_back(gw.ChatWithKey("m", reader.secret).status);
  Response signed_in = gw.Send(JsonRequest("/auth/login", json::serialize(login)));
  statuses.push_back(signed_in.status);
  json::value tokens = json::parse(signed_in.body);
  std::string access(tokens.at("access_token").as_string());
  std::string refresh(tokens.at("refresh_token").as_string());
  statuses.push_back(gw.Chat("m", BearerHeader(access)).status);
  json::object refresh_body;
  refresh_body["refresh_token"] = refresh;
  Response refreshed = gw.Send(JsonRequest("/auth/refresh", json::serialize(refresh_body)));
  statuses.push_back(refreshed.status);
  json::value rotated = json::parse(refreshed.body);
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 401, 403, 200, 200, 200}));

  std::vector<json::object> lines = gw.harness().AccessLog(statuses.size());
  ASSERT_EQ(lines.size(), statuses.size());
  std::multiset<int64_t> logged;
  for (const json::object& line : lines) {
    logged.insert(line.at("status").as_int64());
    ExpectNoSecrets("access log line", json::serialize(line),
                    {key.secret, reader.secret, unknown, std::string(kPassword), access, refresh,
                     std::string(rotated.at("access_token").as_string()),
                     std::string(rotated.at("refresh_token").as_string())});
  }
  EXPECT_EQ(logged, (std::multiset<int64_t>(statuses.begin(), statuses.end())));
}

}  // namespace
}  // namespace sluice::testing::auth_test
