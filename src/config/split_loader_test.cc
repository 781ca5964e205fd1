// Tests of traffic splits in YAML: arms and experiment settings are read with their
// defaults and running weight sums, arm models resolve by name or alias, and every invalid
// split (unknown or self arm model, chains of splits, zero weights, duplicate or malformed
// arm names, serving keys on a split model, experiment without split, fallbacks to a split
// model) is reported at its file:line.
#include "config/split_loader.h"

#include <gtest/gtest.h>

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

// Lines 1-4: one backend; models from line 5.
const std::string kBackend =
    "backends:\n"
    "  - {name: a, url: 'http://127.0.0.1:1'}\n"
    "  - {name: b, url: 'http://127.0.0.1:2'}\n"
    "models:\n";
// Lines 5-8: the arm models v1 (alias "stable") and v2.
const std::string kArmModels =
    "  - name: v1\n"
    "    aliases: [stable]\n"
    "    backend: a\n"
    "  - {name: v2, backend: b}\n";

TEST(SplitLoader, ArmsAndExperimentSettingsAreRead) {
  LoadResult result = LoadWithoutFilters(kBackend + kArmModels +
                                         "  - name: chat\n"
                                         "    aliases: [chat-latest]\n"
                                         "    split:\n"
                                         "      - {name: control, model: stable, weight: 80}\n"
                                         "      - {name: canary, model: v2, weight: 20}\n"
                                         "    experiment: {header: X-Arm, sticky: user}\n");
  ASSERT_NE(result.snapshot, nullptr) << JoinedErrors(result.errors);
  const Snapshot& snap = *result.snapshot;
  const ModelConfig* chat = snap.FindModel("chat-latest");
  ASSERT_NE(chat, nullptr);
  ASSERT_TRUE(chat->split.active());
  EXPECT_TRUE(chat->deployments.empty()) << "a split model is served by its arms";
  const SplitConfig& split = chat->split;
  ASSERT_EQ(split.arms.size(), 2u);
  EXPECT_EQ(split.arms[0].name, "control");
  EXPECT_EQ(split.arms[0].model, snap.FindModel("v1")) << "resolved through the alias";
  EXPECT_EQ(split.arms[0].weight_end, 80u);
  EXPECT_EQ(split.arms[0].label, "chat=control");
  EXPECT_EQ(split.arms[1].model, snap.FindModel("v2"));
  EXPECT_EQ(split.arms[1].weight_end, 100u);
  EXPECT_EQ(split.arms[1].label, "chat=canary");
  EXPECT_EQ(split.total_weight, 100u);
  EXPECT_EQ(split.header, "X-Arm");
  EXPECT_EQ(split.sticky, SplitSticky::kUser);
  EXPECT_FALSE(snap.FindModel("v1")->split.active());
}

TEST(SplitLoader, ExperimentDefaultsAndStickyValues) {
  LoadResult result =
      LoadWithoutFilters(kBackend + kArmModels +
                         "  - name: chat\n"
                         "    split: [{name: x, model: v1}, {name: y, model: v2}]\n");
  ASSERT_NE(result.snapshot, nullptr) << JoinedErrors(result.errors);
  const SplitConfig& split = result.snapshot->FindModel("chat")->split;
  EXPECT_EQ(split.header, "X-Experiment");
  EXPECT_EQ(split.sticky, SplitSticky::kAuto);
  EXPECT_EQ(split.arms[0].weight, 1u) << "weight defaults to 1";
  EXPECT_EQ(split.total_weight, 2u);

  const std::pair<const char*, SplitSticky> kSticky[] = {{"none", SplitSticky::kNone},
                                                         {"user", SplitSticky::kUser},
                                                         {"api_key", SplitSticky::kApiKey},
                                                         {"client_ip", SplitSticky::kClientIp}};
  for (const auto& [text, kind] : kSticky) {
    LoadResult r = LoadWithoutFilters(kBackend + kArmModels +
                                      "  - name: chat\n    split: [{name: x, model: v1}]\n"
                                      "    experiment: {sticky: " +
                                      text + ", header: ''}\n");
    ASSERT_NE(r.snapshot, nullptr) << text << "\n" << JoinedErrors(r.errors);
    EXPECT_EQ(r.snapshot->FindModel("chat")->split.sticky, kind) << text;
    EXPECT_EQ(r.snapshot->FindModel("chat")->split.header, "") << "'' turns the header off";
  }
}

std::vector<ErrorCase> ErrorTable() {
  const std::string m = kBackend + kArmModels + "  - name: chat\n";  // chat is line 9
  return {
      {"unknown_arm_model", m + "    split:\n      - {name: x, model: nope}\n", 11,
       "unknown model 'nope'"},
      {"arm_is_itself", m + "    split:\n      - {name: x, model: chat}\n", 11,
       "cannot be the split model 'chat' itself"},
      {"chain_of_splits",
       m + "    split: [{name: x, model: v1}]\n  - name: outer\n    split:\n"
           "      - {name: y, model: chat}\n",
       13, "chains of splits are not allowed"},
      {"zero_weight", m + "    split:\n      - {name: x, model: v1, weight: 0}\n", 11,
       "must be between 1 and 1000000"},
      {"duplicate_arm",
       m + "    split:\n      - {name: x, model: v1}\n      - {name: x, model: v2}\n", 12,
       "arm 'x' is listed twice"},
      {"bad_arm_name", m + "    split:\n      - {name: 'a b', model: v1}\n", 11,
       "an arm needs a name of 1 to 64 letters"},
      {"arm_without_model", m + "    split:\n      - {name: x}\n", 11,
       "arm 'x' needs `model: <model name>`"},
      {"arm_unknown_key", m + "    split:\n      - {name: x, model: v1, share: 3}\n", 11,
       "unknown key 'share'"},
      {"empty_split", m + "    split: []\n", 10, "must be a non-empty list"},
      {"split_with_backend", m + "    backend: a\n    split: [{name: x, model: v1}]\n", 10,
       "served by its arms' models; set 'backend'"},
      {"split_with_price",
       m + "    split: [{name: x, model: v1}]\n    price: {input: 1, output: 2}\n", 11,
       "set 'price' on those models"},
      {"experiment_without_split", m + "    backend: a\n    experiment: {sticky: user}\n", 11,
       "applies only to a model with a split"},
      {"bad_sticky", m + "    split: [{name: x, model: v1}]\n    experiment: {sticky: cookie}\n",
       11, "must be none, user, api_key or client_ip"},
      {"bad_header", m + "    split: [{name: x, model: v1}]\n    experiment: {header: 'X Arm'}\n",
       11, "must be a header name"},
      {"experiment_unknown_key",
       m + "    split: [{name: x, model: v1}]\n    experiment: {seed: 1}\n", 11,
       "unknown key 'seed'"},
      {"fallback_to_split",
       m + "    split: [{name: x, model: v1}]\n  - name: other\n    backend: a\n"
           "    fallbacks:\n      - to: chat\n",
       14, "cannot fall back to 'chat', which splits its traffic"},
  };
}

class SplitLoaderErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(SplitLoaderErrorTest, ReportsFileLineAndMessage) { ExpectRefusedAt(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Config, SplitLoaderErrorTest, testing::ValuesIn(ErrorTable()),
                         ErrorCaseName);

}  // namespace
}  // namespace sluice
