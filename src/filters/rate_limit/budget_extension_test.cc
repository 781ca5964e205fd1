// Tests of BudgetExtension, the stream allowance past a reservation: extra tokens are
// granted only while every budget of a cutting policy has room (tokens, or their price in
// micro-dollars); a counter with less room than asked grants exactly what is left; grants
// are added to the planned checks so that settlement sees the whole charge; policies that
// `finish` are not watched; two streams on one budget never take it past its limit.
#include "filters/rate_limit/budget_extension.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "config/limits_config.h"
#include "config/snapshot.h"
#include "core/request_context.h"
#include "limits/check_builders.h"
#include "limits/limits_runtime.h"

namespace sluice::filters {
namespace {

namespace asio = boost::asio;
using limits::CheckRole;

constexpr int64_t kWindowEnd = 4'102'444'800'000'000;  // 2100-01-01: never reached here

LimitsConfig OnePolicy(BudgetAction action) {
  LimitsConfig config;
  config.configured = true;
  LimitPolicyConfig& policy = config.policies.emplace_back();
  policy.name = "wallet";
  policy.on_budget_exceeded = action;
  return config;
}

class BudgetExtensionTest : public ::testing::Test {
 protected:
  void Start(BudgetAction action) {
    config_ = OnePolicy(action);
    std::string error;
    runtime_ = limits::LimitsRuntime::Create(config_, error);
    ASSERT_NE(runtime_, nullptr) << error;
    ctx_.wall_start = WallTime(std::chrono::hours(24 * 365 * 50));
  }

  // Adds a budget check (policy 0) charged `reserved` at admission, as the filter does.
  void AddBudget(std::string key, int64_t limit, int64_t reserved, CheckRole role) {
    planned_.checks.push_back(limits::BudgetCheck(std::move(key), limit, kWindowEnd, reserved));
    planned_.meta.push_back({role, TokenCount::kTotal, 0});
  }

  bool Admit() {
    std::optional<limits::Decision> d = runtime_->store().AcquireNow(planned_.checks, Now());
    return d && d->allowed;
  }

  int64_t Now() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(ctx_.wall_start.time_since_epoch())
        .count();
  }

  int64_t Extend(BudgetExtension& extension, int64_t wanted) {
    asio::io_context io;
    auto result = asio::co_spawn(io, extension.Extend(ctx_, wanted), asio::use_future);
    io.run();
    return result.get();
  }

  LimitsConfig config_;
  std::unique_ptr<limits::LimitsRuntime> runtime_;
  RequestContext ctx_;
  limits::PlannedChecks planned_;
};

TEST_F(BudgetExtensionTest, GrantsWhileTheBudgetHasRoomThenExactlyWhatIsLeft) {
  Start(BudgetAction::kCut);
  AddBudget("sl:{all}:wallet:tok:x", 100, 60, CheckRole::kBudgetTokens);
  ASSERT_TRUE(Admit());
  BudgetExtension extension(*runtime_);
  ASSERT_TRUE(extension.Arm(planned_, nullptr, {.prompt_tokens = 10, .completion_tokens = 50}));
  EXPECT_EQ(Extend(extension, 16), 16);
  EXPECT_EQ(Extend(extension, 16), 16);
  EXPECT_EQ(Extend(extension, 16), 8) << "100 - 60 - 32: what is left, not a refusal";
  EXPECT_EQ(Extend(extension, 16), 0) << "spent: the stream is cut";
  EXPECT_EQ(planned_.checks[0].amount, 100) << "settlement sees the reservation + grants";
}

TEST_F(BudgetExtensionTest, MoneyBudgetsGrantWhatTheOutputPriceAllows) {
  Start(BudgetAction::kCut);
  ModelConfig model;
  model.name = "m";
  // $1 per 1M input tokens, $10 per 1M output tokens: 10 micro-USD per output token.
  model.price = limits::ModelPrice::FromUsdPerMillion(1.0, 10.0, 0.5);
  // Reservation: 100 prompt (100 µUSD) + 10 completion (100 µUSD) = 200 µUSD of 255.
  AddBudget("sl:{all}:wallet:usd:x", 255, 200, CheckRole::kBudgetMoney);
  ASSERT_TRUE(Admit());
  BudgetExtension extension(*runtime_);
  ASSERT_TRUE(extension.Arm(planned_, &model, {.prompt_tokens = 100, .completion_tokens = 10}));
  EXPECT_EQ(Extend(extension, 4), 4);  // 40 µUSD
  EXPECT_EQ(Extend(extension, 4), 1) << "15 µUSD left: one more 10 µUSD token";
  EXPECT_EQ(Extend(extension, 4), 0);
  EXPECT_EQ(planned_.checks[0].amount, 250);
}

TEST_F(BudgetExtensionTest, EveryCuttingBudgetMustGrant) {
  Start(BudgetAction::kCut);
  AddBudget("sl:{all}:wallet:tok:day", 1000, 20, CheckRole::kBudgetTokens);
  AddBudget("sl:{all}:wallet:tok:month", 30, 20, CheckRole::kBudgetTokens);
  ASSERT_TRUE(Admit());
  BudgetExtension extension(*runtime_);
  ASSERT_TRUE(extension.Arm(planned_, nullptr, {.prompt_tokens = 5, .completion_tokens = 15}));
  EXPECT_EQ(Extend(extension, 16), 10) << "the tighter counter decides";
  EXPECT_EQ(Extend(extension, 16), 0);
  EXPECT_EQ(planned_.checks[0].amount, 30);
  EXPECT_EQ(planned_.checks[1].amount, 30);
}

TEST_F(BudgetExtensionTest, TwoStreamsOnOneBudgetNeverExceedIt) {
  Start(BudgetAction::kCut);
  AddBudget("sl:{all}:wallet:tok:x", 100, 40, CheckRole::kBudgetTokens);
  ASSERT_TRUE(Admit());
  limits::PlannedChecks first = planned_;
  ASSERT_TRUE(Admit());  // a second stream reserving 40 more: 80 of 100 charged
  BudgetExtension a(*runtime_);
  BudgetExtension b(*runtime_);
  ASSERT_TRUE(a.Arm(first, nullptr, {.prompt_tokens = 0, .completion_tokens = 40}));
  ASSERT_TRUE(b.Arm(planned_, nullptr, {.prompt_tokens = 0, .completion_tokens = 40}));
  int64_t granted = 0;
  for (int step = 0; step < 10; ++step) granted += Extend(a, 3) + Extend(b, 3);
  EXPECT_EQ(granted, 20) << "the 20 left, shared, and not one more";
}

TEST_F(BudgetExtensionTest, PoliciesThatFinishAndOtherCountersAreNotWatched) {
  Start(BudgetAction::kFinish);
  AddBudget("sl:{all}:wallet:tok:x", 100, 60, CheckRole::kBudgetTokens);
  planned_.checks.push_back(limits::RateCheck("sl:{all}:wallet:req", 10, 60'000'000));
  planned_.meta.push_back({CheckRole::kRequests, TokenCount::kTotal, 0});
  BudgetExtension extension(*runtime_);
  EXPECT_FALSE(extension.Arm(planned_, nullptr, {.prompt_tokens = 10, .completion_tokens = 50}));
  EXPECT_EQ(Extend(extension, 16), 0) << "an unarmed extension grants nothing";
}

}  // namespace
}  // namespace sluice::filters
