// Tests of active health check settings: routing.health_check defaults, a backend's own
// block over them (or false/true), expected_status forms, the refusal of paid endpoints,
// and errors at their file:LINE (the style of loader_test.cc).
#include "config/health_check_loader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config_test_support.h"
#include "config/loader.h"

namespace sluice {
namespace {

using config_test::ErrorCase;
using config_test::ErrorCaseName;
using config_test::ExpectRefusedAt;
using config_test::HasErrorAt;

using config_test::JoinedErrors;
using config_test::LoadWithoutFilters;
using std::chrono::milliseconds;

// Like LoadOkWithoutFilters, but never null so a test can read it after a failed load.
std::shared_ptr<const Snapshot> Ok(std::string_view yaml) {
  std::shared_ptr<const Snapshot> snap = config_test::LoadOkWithoutFilters(yaml);
  return snap ? snap : std::make_shared<const Snapshot>();
}

const BackendConfig* Backend(const Snapshot& snap, std::string_view name) {
  for (const auto& b : snap.backends) {
    if (b->name == name) return b.get();
  }
  ADD_FAILURE() << "no backend " << name;
  static const BackendConfig none;
  return &none;
}

TEST(HealthCheckConfig, OffUnlessConfigured) {
  auto snap = Ok("backends:\n  - {name: a, url: 'http://127.0.0.1:1/v1'}\n");
  const HealthCheckConfig& c = Backend(*snap, "a")->health_check;
  EXPECT_FALSE(c.enabled);
  EXPECT_EQ(c, HealthCheckConfig{});
  EXPECT_EQ(c.path, "/health");
  EXPECT_EQ(c.method, "GET");
  EXPECT_EQ(c.interval, milliseconds(10'000));
  EXPECT_EQ(c.timeout, milliseconds(2'000));
  EXPECT_EQ(c.healthy_threshold, 2u);
  EXPECT_EQ(c.unhealthy_threshold, 3u);
  ASSERT_EQ(c.expected_status.size(), 1u);
  EXPECT_EQ(c.expected_status[0], (HealthStatusRange{200, 299}));
}

TEST(HealthCheckConfig, BackendBlocksApplyOverRoutingDefaults) {
  auto snap =
      Ok("routing:\n"
         "  health_check: {interval: 5s, timeout: 1s, unhealthy_threshold: 4}\n"
         "backends:\n"
         "  - {name: plain, url: 'http://127.0.0.1:1/v1'}\n"
         "  - name: own\n"
         "    url: 'http://127.0.0.1:2/v1'\n"
         "    health_check:\n"
         "      path: /v1/models\n"
         "      method: head\n"
         "      healthy_threshold: 1\n"
         "      expected_status: [200, 204, 3xx, 401-403]\n"
         "  - {name: off, url: 'http://127.0.0.1:3', health_check: false}\n"
         "  - {name: disabled, url: 'http://127.0.0.1:4', health_check: {enabled: false}}\n"
         "  - {name: yes, url: 'http://127.0.0.1:5', health_check: true}\n");
  const HealthCheckConfig& plain = Backend(*snap, "plain")->health_check;
  EXPECT_TRUE(plain.enabled) << "routing.health_check turns checks on for every backend";
  EXPECT_EQ(plain.path, "/health");
  EXPECT_EQ(plain.interval, milliseconds(5'000));
  EXPECT_EQ(plain.timeout, milliseconds(1'000));
  EXPECT_EQ(plain.unhealthy_threshold, 4u);

  const HealthCheckConfig& own = Backend(*snap, "own")->health_check;
  EXPECT_TRUE(own.enabled);
  EXPECT_EQ(own.path, "/v1/models");
  EXPECT_EQ(own.method, "HEAD");
  EXPECT_EQ(own.interval, milliseconds(5'000)) << "keys not given come from routing:";
  EXPECT_EQ(own.unhealthy_threshold, 4u);
  EXPECT_EQ(own.healthy_threshold, 1u);
  std::vector<HealthStatusRange> expected{{200, 200}, {204, 204}, {300, 399}, {401, 403}};
  EXPECT_EQ(own.expected_status, expected);
  EXPECT_TRUE(HealthStatusExpected(own, 302));
  EXPECT_TRUE(HealthStatusExpected(own, 402));
  EXPECT_FALSE(HealthStatusExpected(own, 201));
  EXPECT_FALSE(HealthStatusExpected(own, 503));

  EXPECT_FALSE(Backend(*snap, "off")->health_check.enabled);
  EXPECT_FALSE(Backend(*snap, "disabled")->health_check.enabled);
  EXPECT_TRUE(Backend(*snap, "yes")->health_check.enabled);
  EXPECT_EQ(Backend(*snap, "yes")->health_check.interval, milliseconds(5'000));
  EXPECT_TRUE(snap->routing.health_check.enabled);
}

TEST(HealthCheckConfig, ABackendBlockAloneEnablesChecksForThatBackend) {
  auto snap =
      Ok("backends:\n"
         "  - {name: a, url: 'http://127.0.0.1:1/v1', health_check: {expected_status: 2xx}}\n"
         "  - {name: b, url: 'http://127.0.0.1:2/v1'}\n");
  EXPECT_TRUE(Backend(*snap, "a")->health_check.enabled);
  EXPECT_EQ(Backend(*snap, "a")->health_check.path, "/health");
  EXPECT_FALSE(Backend(*snap, "b")->health_check.enabled);
  EXPECT_FALSE(snap->routing.health_check.enabled);
}

TEST(HealthCheckConfig, PathsThatWouldCostMoneyAreRefused) {
  EXPECT_EQ(HealthPathProblem("/health"), "");
  EXPECT_EQ(HealthPathProblem("/v1/models"), "");
  EXPECT_EQ(HealthPathProblem("/healthz?deep=1"), "");
  for (const char* paid :
       {"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses",
        "/v1/messages", "/V1/Chat/Completions/", "/v1/completions?x=1", "/v1/images/generations"}) {
    EXPECT_NE(HealthPathProblem(paid).find("never make paid calls"), std::string::npos) << paid;
  }
  EXPECT_NE(HealthPathProblem("health").find("must start with '/'"), std::string::npos);
  EXPECT_NE(HealthPathProblem("/a b").find("spaces"), std::string::npos);
  EXPECT_NE(HealthPathProblem("/a#b").find("fragment"), std::string::npos);
}

// A backend entry whose health_check block starts on line 4.
std::string WithCheck(const std::string& block) {
  return "backends:\n  - name: a\n    url: 'http://127.0.0.1:1/v1'\n    health_check:\n" + block;
}

const std::vector<ErrorCase>& ErrorTable() {
  static const std::vector<ErrorCase> table = {
      {"unknown_key", WithCheck("      pth: /health\n"), 5, "unknown key 'pth'"},
      {"relative_path", WithCheck("      path: health\n"), 5, "must start with '/'"},
      {"completion_path", WithCheck("      path: /v1/chat/completions\n"), 5,
       "health checks never make paid calls"},
      {"post", WithCheck("      method: POST\n"), 5, "must be GET or HEAD"},
      {"short_interval", WithCheck("      interval: 1ms\n"), 5, "must be at least 10ms"},
      {"bad_timeout", WithCheck("      timeout: soon\n"), 5, "must be a duration"},
      {"zero_threshold", WithCheck("      unhealthy_threshold: 0\n"), 5,
       "must be between 1 and 1000"},
      {"bad_status", WithCheck("      expected_status: [200, ok]\n"), 5,
       "must be a status (200), a class (2xx) or a range (200-299)"},
      {"status_out_of_range", WithCheck("      expected_status: 600\n"), 5,
       "within 100-599, not '600'"},
      {"reversed_range", WithCheck("      expected_status: 299-200\n"), 5, "not '299-200'"},
      {"empty_status_list", WithCheck("      expected_status: []\n"), 5,
       "must name at least one status"},
      {"not_a_map",
       "backends:\n  - name: a\n    url: 'http://127.0.0.1:1'\n"
       "    health_check: often\n",
       4, "must be a mapping of health check settings, true or false"},
      {"routing_default_not_a_map", "routing:\n  health_check: yes\n", 2, "must be a mapping"},
      {"routing_default_paid", "routing:\n  health_check:\n    path: /v1/embeddings\n", 3,
       "health checks never make paid calls"},
  };
  return table;
}

class HealthCheckErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(HealthCheckErrorTest, ReportsFileLineAndMessage) { ExpectRefusedAt(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Config, HealthCheckErrorTest, testing::ValuesIn(ErrorTable()),
                         ErrorCaseName);

}  // namespace
}  // namespace sluice
