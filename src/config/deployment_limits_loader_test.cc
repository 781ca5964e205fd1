// Tests of a deployment's own `limits:` in YAML (config/routing_loader.cc): both keys, either
// one, none; every error at its file:line; one set of limits per deployment shared by groups.
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

const std::string kBackends =
    "backends:\n"
    "  - {name: a, url: 'http://h1'}\n"
    "  - {name: b, url: 'http://h2'}\n";

// Model "m" with deployments a/x and b/x, `a_extra` added to the first one's flow map.
std::string TwoDeployments(const std::string& a_extra) {
  return kBackends +
         "models:\n"
         "  - name: m\n"
         "    deployments:\n"
         "      - {backend: a, upstream_model: x" +
         a_extra +
         "}\n"
         "      - {backend: b, upstream_model: x}\n";
}

TEST(DeploymentLimitsLoader, BothLimitsAreRead) {
  LoadResult result = LoadWithoutFilters(
      TwoDeployments(", limits: {requests_per_minute: 60, tokens_per_minute: 90000}"));
  ASSERT_NE(result.snapshot, nullptr) << JoinedErrors(result.errors);
  const ModelConfig& m = *result.snapshot->models[0];
  EXPECT_EQ(m.deployments[0].limits.requests_per_minute, 60);
  EXPECT_EQ(m.deployments[0].limits.tokens_per_minute, 90'000);
  EXPECT_TRUE(m.deployments[0].limits.any());
  EXPECT_EQ(m.deployments[1].limits, DeploymentLimitsConfig{}) << "no limits: all zero";
  EXPECT_FALSE(m.deployments[1].limits.any());
}

TEST(DeploymentLimitsLoader, EitherLimitAloneIsEnough) {
  LoadResult requests = LoadWithoutFilters(TwoDeployments(", limits: {requests_per_minute: 5}"));
  ASSERT_NE(requests.snapshot, nullptr) << JoinedErrors(requests.errors);
  EXPECT_EQ(requests.snapshot->models[0]->deployments[0].limits,
            (DeploymentLimitsConfig{.requests_per_minute = 5, .tokens_per_minute = 0}));
  LoadResult tokens = LoadWithoutFilters(TwoDeployments(", limits: {tokens_per_minute: 1000}"));
  ASSERT_NE(tokens.snapshot, nullptr) << JoinedErrors(tokens.errors);
  EXPECT_EQ(tokens.snapshot->models[0]->deployments[0].limits,
            (DeploymentLimitsConfig{.requests_per_minute = 0, .tokens_per_minute = 1000}));
}

TEST(DeploymentLimitsLoader, AGroupSharingADeploymentWithTheSameLimitsIsFine) {
  LoadResult result =
      LoadWithoutFilters(kBackends +
                         "models:\n"
                         "  - name: m\n"
                         "    deployments: [{backend: a, limits: {requests_per_minute: 5}}]\n"
                         "  - name: n\n"
                         "    deployments:\n"
                         "      - {backend: a, upstream_model: m,\n"
                         "         limits: {requests_per_minute: 5}}\n");
  EXPECT_NE(result.snapshot, nullptr) << JoinedErrors(result.errors);
}

std::vector<ErrorCase> ErrorTable() {
  return {
      {"zero_requests", TwoDeployments(", limits: {requests_per_minute: 0}"), 7,
       "must be between 1 and 1000000000, not 0"},
      {"negative_tokens", TwoDeployments(", limits: {tokens_per_minute: -5}"), 7,
       "must be between 1 and 10000000000, not -5"},
      {"not_an_integer", TwoDeployments(", limits: {requests_per_minute: 2.5}"), 7,
       "must be an integer, not '2.5'"},
      {"empty_map", TwoDeployments(", limits: {}"), 7,
       "needs requests_per_minute, tokens_per_minute or both"},
      {"not_a_map", TwoDeployments(", limits: 5"), 7, "must be a mapping"},
      {"unknown_key", TwoDeployments(", limits: {rpm: 5}"), 7,
       "unknown key 'rpm' (expected one of: requests_per_minute, tokens_per_minute)"},
      {"on_the_shorthand",
       kBackends + "models:\n  - name: m\n    backend: a\n    limits: {requests_per_minute: 5}\n",
       7, "unknown key 'limits'"},
      {"shared_deployment_two_limits",
       kBackends +
           "models:\n"
           "  - name: m\n"
           "    deployments: [{backend: a, upstream_model: x, limits: {requests_per_minute: 5}}]\n"
           "  - name: n\n"
           "    deployments: [{backend: a, upstream_model: x, limits: {requests_per_minute: 9}}]\n",
       7, "deployment 'a/x' is also in model 'm' with other limits"},
  };
}

class DeploymentLimitsLoaderError : public testing::TestWithParam<ErrorCase> {};

TEST_P(DeploymentLimitsLoaderError, ReportsFileLineAndMessage) { ExpectRefusedAt(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Config, DeploymentLimitsLoaderError, testing::ValuesIn(ErrorTable()),
                         ErrorCaseName);

}  // namespace
}  // namespace sluice
