// Tests of traffic splits: a 20% canary over 10,000 seeded random requests lands within
// ±2 percentage points; the experiment header forces an arm (and an unknown arm is a 400
// naming the allowed ones); sticky assignment is stable per principal, proportional to the
// weights across many principals, independent between experiments, and a canary ramp-up
// only moves principals into the canary; the resolver hands filters the arm's model, and
// the split model's own routing group is empty.
#include "routing/traffic_split.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "config/config_test_support.h"
#include "config/loader.h"
#include "routing/manual_clock.h"
#include "routing/model_resolver.h"
#include "routing/routing_runtime.h"

namespace sluice::routing {
namespace {

using config_test::LoadOkWithoutFilters;

// "chat" splits 80/20 between v1 (control) and v2 (canary); `experiment` is appended.
std::shared_ptr<const Snapshot> CanaryConfig(const std::string& experiment = "", int control = 80,
                                             int canary = 20) {
  return LoadOkWithoutFilters(
      "backends:\n  - {name: a, url: 'http://127.0.0.1:1'}\n"
      "models:\n"
      "  - {name: v1, backend: a}\n"
      "  - {name: v2, backend: a}\n"
      "  - name: chat\n"
      "    split:\n"
      "      - {name: control, model: v1, weight: " +
      std::to_string(control) +
      "}\n"
      "      - {name: canary, model: v2, weight: " +
      std::to_string(canary) + "}\n" + experiment);
}

// A request context over `request` (the caller keeps both alive).
class SplitTest : public testing::Test {
 protected:
  void Begin(const Snapshot& snapshot, std::string_view client_ip = "10.0.0.1") {
    ctx_.Begin(request_, &snapshot, &ModelTableResolver::Instance(), clock_.Now(),
               clock_.WallNow());
    ctx_.client_ip = client_ip;
  }
  static std::shared_ptr<const Principal> KeyPrincipal(const std::string& key_id,
                                                       const std::string& user_id = "") {
    auto p = std::make_shared<Principal>();
    p->kind = Principal::Kind::kApiKey;
    p->id = "key:" + key_id;
    p->key_id = key_id;
    p->user_id = user_id;
    return p;
  }

  ManualClock clock_;
  HttpRequest request_;
  RequestContext ctx_;
  Xoshiro256 random_{42};
};

TEST_F(SplitTest, ATwentyPercentCanaryIsWithinTwoPointsOverTenThousandRequests) {
  auto snapshot = CanaryConfig("    experiment: {sticky: none}\n");
  ASSERT_NE(snapshot, nullptr);
  const ModelConfig& chat = *snapshot->FindModel("chat");
  Begin(*snapshot);
  constexpr int kRequests = 10'000;
  int canary = 0;
  for (int i = 0; i < kRequests; ++i) {
    ArmChoice choice = ChooseArm(chat, ctx_, random_);
    ASSERT_NE(choice.arm, nullptr);
    canary += choice.arm->name == "canary";
  }
  double share = 100.0 * canary / kRequests;
  EXPECT_NEAR(share, 20.0, 2.0) << canary << " of " << kRequests;
}

TEST_F(SplitTest, WeightPointsCoverTheWholeWeightSpaceInProportion) {
  auto snapshot = CanaryConfig("", 3, 1);
  ASSERT_NE(snapshot, nullptr);
  const SplitConfig& split = snapshot->FindModel("chat")->split;
  EXPECT_EQ(WeightPoint(split, 0), 0u);
  EXPECT_EQ(WeightPoint(split, ~uint64_t{0}), 3u) << "the largest draw is the last point";
  EXPECT_EQ(ArmAt(split, 0).name, "control");
  EXPECT_EQ(ArmAt(split, 2).name, "control");
  EXPECT_EQ(ArmAt(split, 3).name, "canary");
  EXPECT_EQ(FindArm(split, "canary"), &split.arms[1]);
  EXPECT_EQ(FindArm(split, "Canary"), nullptr) << "arm names are case-sensitive";
}

TEST_F(SplitTest, TheExperimentHeaderForcesAnArm) {
  auto snapshot = CanaryConfig("", 99'999, 1);
  ASSERT_NE(snapshot, nullptr);
  const ModelConfig& chat = *snapshot->FindModel("chat");
  request_.headers.Add("x-experiment", "canary");
  Begin(*snapshot);
  for (int i = 0; i < 100; ++i) {
    ArmChoice choice = ChooseArm(chat, ctx_, random_);
    ASSERT_NE(choice.arm, nullptr);
    EXPECT_EQ(choice.arm->name, "canary") << "the header beats a weight of 1 in 100,000";
  }
}

TEST_F(SplitTest, AnUnknownArmInTheHeaderIsA400NamingTheAllowedArms) {
  auto snapshot = CanaryConfig();
  ASSERT_NE(snapshot, nullptr);
  const ModelConfig& chat = *snapshot->FindModel("chat");
  request_.headers.Add("X-Experiment", "blue");
  Begin(*snapshot);
  ArmChoice choice = ChooseArm(chat, ctx_, random_);
  EXPECT_EQ(choice.arm, nullptr);
  EXPECT_EQ(choice.header_value, "blue");
  LocalReply reply = UnknownArmReply(chat, choice.header_value);
  EXPECT_EQ(reply.status, 400);
  boost::json::value body = boost::json::parse(reply.body);
  EXPECT_EQ(body.at("error").at("type").as_string(), "invalid_request_error");
  std::string message(body.at("error").at("message").as_string());
  EXPECT_NE(message.find("'blue'"), std::string::npos) << message;
  EXPECT_NE(message.find("control, canary"), std::string::npos) << message;
}

TEST_F(SplitTest, AConfiguredHeaderReplacesTheDefaultAndAnEmptyOneTurnsItOff) {
  auto custom = CanaryConfig("    experiment: {header: X-Arm, sticky: none}\n", 1, 99'999);
  ASSERT_NE(custom, nullptr);
  request_.headers.Add("X-Experiment", "control");  // not the configured header: ignored
  request_.headers.Add("X-Arm", "control");
  Begin(*custom);
  EXPECT_EQ(ChooseArm(*custom->FindModel("chat"), ctx_, random_).arm->name, "control");

  auto off = CanaryConfig("    experiment: {header: '', sticky: none}\n", 1, 99'999);
  ASSERT_NE(off, nullptr);
  HttpRequest forcing;
  forcing.headers.Add("X-Experiment", "control");
  ctx_.Begin(forcing, off.get(), nullptr, clock_.Now(), clock_.WallNow());
  int control = 0;
  for (int i = 0; i < 100; ++i) {
    control += ChooseArm(*off->FindModel("chat"), ctx_, random_).arm->name == "control";
  }
  EXPECT_LE(control, 1) << "with the header off, the weights decide";
}

TEST_F(SplitTest, StickyAssignmentIsStableAndProportionalAcrossPrincipals) {
  auto snapshot = CanaryConfig();  // default sticky: the API key when authenticated
  ASSERT_NE(snapshot, nullptr);
  const ModelConfig& chat = *snapshot->FindModel("chat");
  Begin(*snapshot);
  constexpr int kPrincipals = 10'000;
  int canary = 0;
  for (int i = 0; i < kPrincipals; ++i) {
    ctx_.principal = KeyPrincipal("key-" + std::to_string(i));
    const SplitArm* first = ChooseArm(chat, ctx_, random_).arm;
    ASSERT_NE(first, nullptr);
    for (int again = 0; again < 3; ++again) {
      ASSERT_EQ(ChooseArm(chat, ctx_, random_).arm, first) << "key-" << i << " moved";
    }
    canary += first->name == "canary";
  }
  EXPECT_NEAR(100.0 * canary / kPrincipals, 20.0, 2.0) << canary << " of " << kPrincipals;
}

TEST_F(SplitTest, StickyKeysFollowTheSetting) {
  Begin(*CanaryConfig());
  EXPECT_EQ(StickyKey(SplitSticky::kAuto, ctx_), "10.0.0.1") << "no principal: the address";
  EXPECT_EQ(StickyKey(SplitSticky::kNone, ctx_), "");
  ctx_.principal = KeyPrincipal("k1", "u1");
  EXPECT_EQ(StickyKey(SplitSticky::kAuto, ctx_), "k1");
  EXPECT_EQ(StickyKey(SplitSticky::kApiKey, ctx_), "k1");
  EXPECT_EQ(StickyKey(SplitSticky::kUser, ctx_), "u1");
  EXPECT_EQ(StickyKey(SplitSticky::kClientIp, ctx_), "10.0.0.1");
  auto anonymous = std::make_shared<Principal>();
  anonymous->id = "anonymous";
  ctx_.principal = anonymous;
  EXPECT_EQ(StickyKey(SplitSticky::kAuto, ctx_), "10.0.0.1")
      << "anonymous callers share one id: the address tells them apart";
}

TEST_F(SplitTest, ClientAddressesAreStickyToo) {
  auto snapshot = CanaryConfig("    experiment: {sticky: client_ip}\n");
  ASSERT_NE(snapshot, nullptr);
  const ModelConfig& chat = *snapshot->FindModel("chat");
  for (int i = 0; i < 200; ++i) {
    std::string ip = "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250);
    Begin(*snapshot, ip);
    const SplitArm* first = ChooseArm(chat, ctx_, random_).arm;
    EXPECT_EQ(first, &ArmAt(chat.split, WeightPoint(chat.split, StickyHash("chat", ip))));
    EXPECT_EQ(ChooseArm(chat, ctx_, random_).arm, first);
  }
}

TEST_F(SplitTest, ExperimentsOnDifferentModelsAssignIndependently) {
  // Without a salt, the same 20% of principals would be the canary of every experiment.
  auto snapshot = CanaryConfig();
  ASSERT_NE(snapshot, nullptr);
  const SplitConfig& split = snapshot->FindModel("chat")->split;
  constexpr int kPrincipals = 10'000;
  int both = 0;
  for (int i = 0; i < kPrincipals; ++i) {
    std::string key = "key-" + std::to_string(i);
    bool in_a = ArmAt(split, WeightPoint(split, StickyHash("chat", key))).name == "canary";
    bool in_b = ArmAt(split, WeightPoint(split, StickyHash("embed", key))).name == "canary";
    both += in_a && in_b;
  }
  EXPECT_NEAR(100.0 * both / kPrincipals, 4.0, 1.0) << "20% of 20%, not 20%";
}

TEST_F(SplitTest, RampingUpTheCanaryOnlyMovesPrincipalsIntoIt) {
  auto at10 = CanaryConfig("", 90, 10);
  auto at20 = CanaryConfig("", 80, 20);
  ASSERT_NE(at10, nullptr);
  ASSERT_NE(at20, nullptr);
  const SplitConfig& before = at10->FindModel("chat")->split;
  const SplitConfig& after = at20->FindModel("chat")->split;
  int moved_in = 0;
  for (int i = 0; i < 10'000; ++i) {
    uint64_t hash = StickyHash("chat", "key-" + std::to_string(i));
    bool was_canary = ArmAt(before, WeightPoint(before, hash)).name == "canary";
    bool is_canary = ArmAt(after, WeightPoint(after, hash)).name == "canary";
    EXPECT_FALSE(was_canary && !is_canary) << "key-" << i << " left the canary";
    moved_in += !was_canary && is_canary;
  }
  EXPECT_NEAR(moved_in / 100.0, 10.0, 2.0) << "about 10% of principals joined the canary";
}

TEST_F(SplitTest, TheResolverHandsFiltersTheArmsModel) {
  auto snapshot = CanaryConfig();
  ASSERT_NE(snapshot, nullptr);
  request_.body = R"({"model":"chat","messages":[]})";
  request_.headers.Add("X-Experiment", "canary");
  Begin(*snapshot);
  ctx_.route = RouteKind::kChatCompletions;
  const ModelConfig* model = ctx_.Model();
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->name, "v2") << "the canary arm's model";
  EXPECT_EQ(ctx_.split_model, snapshot->FindModel("chat"));
  EXPECT_EQ(ctx_.experiment_arm, "canary");
  EXPECT_EQ(ctx_.experiment_label, "chat=canary");
  EXPECT_EQ(ctx_.requested_model, "chat");

  HttpRequest unknown;
  unknown.body = R"({"model":"chat"})";
  unknown.headers.Add("X-Experiment", "green");
  ctx_.Begin(unknown, snapshot.get(), &ModelTableResolver::Instance(), clock_.Now(),
             clock_.WallNow());
  ctx_.route = RouteKind::kChatCompletions;
  EXPECT_EQ(ctx_.Model(), nullptr);
  ASSERT_TRUE(ctx_.pending_error());
  EXPECT_EQ(ctx_.pending_error()->status, 400);
  EXPECT_EQ(ctx_.split_model, nullptr);
  EXPECT_TRUE(ctx_.experiment_label.empty());

  HttpRequest plain;
  plain.body = R"({"model":"v1"})";
  ctx_.Begin(plain, snapshot.get(), &ModelTableResolver::Instance(), clock_.Now(),
             clock_.WallNow());
  ctx_.route = RouteKind::kChatCompletions;
  ASSERT_NE(ctx_.Model(), nullptr);
  EXPECT_EQ(ctx_.split_model, nullptr) << "a model without a split is served as itself";
}

TEST_F(SplitTest, ASplitModelHasAnEmptyGroupThatNeverPicks) {
  auto snapshot = CanaryConfig();
  ASSERT_NE(snapshot, nullptr);
  std::string error;
  auto runtime = RoutingRuntime::Create(snapshot, clock_, error);
  ASSERT_NE(runtime, nullptr) << error;
  const ModelGroup* group = runtime->Group(*snapshot->FindModel("chat"));
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->size(), 0u);
  EXPECT_FALSE(group->Begin({}, 0, random_, clock_.Now()));
  const ModelGroup* arm = runtime->Group(*snapshot->FindModel("v2"));
  ASSERT_NE(arm, nullptr);
  EXPECT_EQ(arm->size(), 1u) << "arms keep their own groups";
}

}  // namespace
}  // namespace sluice::routing
