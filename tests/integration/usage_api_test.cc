// Integration: GET /v1/usage through the real server with auth, a store and limits — the
// caller's own usage today and this month (from its exported usage records) and the state
// of its limits, read without charging them; usage:read is required and each key sees only
// its own usage.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "tests/integration/auth_test_fixture.h"

namespace sluice::testing::auth_test {
namespace {

AuthOptions WithLimits() {
  AuthOptions options;
  options.explicit_filters = false;  // default chain: ... auth, authorize, rate_limit
  options.extra_yaml =
      "limits:\n"
      "  default_max_tokens: 100\n"  // the reservation of a request without max_tokens
      "  policies:\n"
      "    - name: per-key\n"
      "      per: [key]\n"
      "      requests: 10/minute\n"
      "      budget: {tokens: 1000, per: day}\n";
  return options;
}

Response Usage(AuthGateway& gateway, std::string_view secret) {
  return gateway.Send("GET /v1/usage HTTP/1.1\r\nHost: t\r\n" + BearerHeader(secret) + "\r\n");
}

// The caller's usage once `requests` of its records are exported (every 200 ms).
json::value WaitForUsage(AuthGateway& gateway, std::string_view secret, int64_t requests) {
  json::value body;
  for (int attempt = 0; attempt < 150; ++attempt) {
    Response response = Usage(gateway, secret);
    EXPECT_EQ(response.status, 200) << response.body;
    if (response.status != 200) break;
    body = json::parse(response.body);
    if (body.at("usage").at("day").at("requests").as_int64() >= requests) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return body;
}

TEST(UsageApi, ReportsOwnUsageAndRemainingQuotaWithoutCharging) {
  AuthGateway gateway(WithLimits());
  TestKey key = gateway.CreateKey();
  TestKey other = gateway.CreateKey();
  for (int i = 0; i < 2; ++i) EXPECT_EQ(gateway.ChatWithKey("m", key.secret).status, 200);
  EXPECT_EQ(gateway.ChatWithKey("m", other.secret).status, 200);

  json::value body = WaitForUsage(gateway, key.secret, 2);
  EXPECT_EQ(body.at("object").as_string(), "usage");
  EXPECT_EQ(body.at("principal").at("key_id").as_string(), key.id);
  const json::value& day = body.at("usage").at("day");
  EXPECT_EQ(day.at("requests").as_int64(), 2) << "only this key's requests";
  EXPECT_EQ(day.at("prompt_tokens").as_int64(), 6);  // the fake upstream: 3 + 2 per request
  EXPECT_EQ(day.at("completion_tokens").as_int64(), 4);
  EXPECT_EQ(body.at("usage").at("month").at("requests").as_int64(), 2);

  const json::array& limits = body.at("limits").as_array();
  ASSERT_EQ(limits.size(), 2u) << json::serialize(body);
  EXPECT_EQ(limits[0].at("policy").as_string(), "per-key");
  EXPECT_EQ(limits[0].at("kind").as_string(), "requests");
  EXPECT_EQ(limits[0].at("limit").as_int64(), 10);
  EXPECT_EQ(limits[0].at("remaining").as_int64(), 8);
  EXPECT_EQ(limits[1].at("kind").as_string(), "budget_tokens");
  EXPECT_EQ(limits[1].at("remaining").as_int64(), 1000 - 10);

  // Reading it charged nothing.
  json::value again = json::parse(Usage(gateway, key.secret).body);
  EXPECT_EQ(again.at("limits").at(0).at("remaining").as_int64(), 8);
}

TEST(UsageApi, NeedsCredentialsAndUsageRead) {
  AuthGateway gateway(WithLimits());
  EXPECT_EQ(gateway.Send("GET /v1/usage HTTP/1.1\r\nHost: t\r\n\r\n").status, 401);
  KeySpec spec;
  spec.roles = {"invoker"};  // models:invoke only
  TestKey invoker = gateway.CreateKey(spec);
  Response denied = Usage(gateway, invoker.secret);
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("usage:read"), std::string::npos) << denied.body;
}

}  // namespace
}  // namespace sluice::testing::auth_test
