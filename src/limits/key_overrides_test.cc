// Tests of ApplyKeyOverrides: a key's stored limits replace the limits of per-key policies
// (rates, concurrency; budgets with their window), are enforced by the implicit `key`
// policy when no per-key policy counts the same thing, and leave other policies alone.
#include "limits/key_overrides.h"

#include <gtest/gtest.h>

#include "limits/calendar_window.h"
#include "limits/check_builders.h"

namespace sluice::limits {
namespace {

// 2026-11-26T12:00:00Z
constexpr int64_t kNowUs = 1'795'694'400'000'000;

class KeyOverridesTest : public ::testing::Test {
 protected:
  KeyOverridesTest() : zone_(TimeZone::Fixed("UTC", 0)) {}

  LimitPolicyConfig& Policy(std::string name, std::vector<LimitSubject> per) {
    LimitPolicyConfig& p = policies_.emplace_back();
    p.name = std::move(name);
    p.per = std::move(per);
    return p;
  }
  void Add(Check check, CheckRole role, uint16_t policy) {
    out_.checks.push_back(std::move(check));
    out_.meta.push_back({role, TokenCount::kTotal, policy});
  }
  void Apply(const KeyLimits& limits) {
    ApplyKeyOverrides(limits, "key_ab", policies_, *zone_, estimate_, kNowUs, out_);
  }
  const Check* Find(std::string_view key) const {
    for (const Check& c : out_.checks) {
      if (c.key == key) return &c;
    }
    return nullptr;
  }

  std::shared_ptr<const TimeZone> zone_;
  std::vector<LimitPolicyConfig> policies_;
  RequestEstimate estimate_{.prompt_tokens = 30, .completion_tokens = 70, .cost_micro_usd = 900};
  PlannedChecks out_;
};

TEST_F(KeyOverridesTest, ReplacesTheLimitsOfPerKeyPoliciesOnly) {
  Policy("per-key", {LimitSubject::kKey});
  Policy("per-model", {LimitSubject::kModel});
  Add(RateCheck("sl:{key=key_ab}:per-key:req", 600, 60'000'000), CheckRole::kRequests, 0);
  Add(ConcurrencyCheck("sl:{key=key_ab}:per-key:conc", 64), CheckRole::kConcurrency, 0);
  Add(RateCheck("sl:{model=m}:per-model:req", 1000, 1'000'000), CheckRole::kRequests, 1);
  Apply({.requests_per_minute = 5, .concurrency = 2});
  ASSERT_EQ(out_.checks.size(), 3u) << "nothing implicit: the per-key policy counts both";
  EXPECT_EQ(out_.checks[0].limit, 5);
  EXPECT_EQ(out_.checks[0].burst, 5);
  EXPECT_EQ(out_.checks[0].period_us, 60'000'000);
  EXPECT_EQ(out_.checks[1].limit, 2);
  EXPECT_EQ(out_.checks[2].limit, 1000) << "a policy per model is not the key's";
}

TEST_F(KeyOverridesTest, WhatNoPerKeyPolicyCountsGoesToTheImplicitKeyPolicy) {
  Policy("per-model", {LimitSubject::kModel});
  Add(RateCheck("sl:{model=m}:per-model:req", 1000, 1'000'000), CheckRole::kRequests, 0);
  Apply({.requests_per_minute = 5, .tokens_per_minute = 500, .concurrency = 3});
  ASSERT_EQ(out_.checks.size(), 4u);
  const Check* req = Find("sl:{key=key_ab}:key:req");
  const Check* tok = Find("sl:{key=key_ab}:key:tok");
  const Check* conc = Find("sl:{key=key_ab}:key:conc");
  ASSERT_TRUE(req && tok && conc);
  EXPECT_EQ(req->limit, 5);
  EXPECT_EQ(req->amount, 1);
  EXPECT_EQ(tok->limit, 500);
  EXPECT_EQ(tok->amount, 100) << "the request's reservation, prompt + completion";
  EXPECT_EQ(conc->kind, CounterKind::kConcurrency);
  EXPECT_EQ(conc->limit, 3);
  EXPECT_EQ(out_.meta[1].policy, 1u) << "the implicit policy's index is policies.size()";
  EXPECT_EQ(KeyOverridePolicy().name, "key");
}

TEST_F(KeyOverridesTest, AKeyBudgetReplacesThePolicysBudgetWindowIncluded) {
  LimitPolicyConfig& p = Policy("per-key", {LimitSubject::kKey});
  p.budget_on_store_failure = StoreFailurePolicy::kFailOpen;
  Add(RateCheck("sl:{key=key_ab}:per-key:req", 600, 60'000'000), CheckRole::kRequests, 0);
  Add(BudgetCheck("sl:{key=key_ab}:per-key:usd:2026-11-26", 50'000'000, 1, 900),
      CheckRole::kBudgetMoney, 0);
  Apply({.budget_usd_micros = 25'000'000, .budget_usd_period = KeyLimitPeriod::kMonth});
  ASSERT_EQ(out_.checks.size(), 2u);
  EXPECT_EQ(Find("sl:{key=key_ab}:per-key:usd:2026-11-26"), nullptr) << "the daily one is gone";
  const Check* monthly = Find("sl:{key=key_ab}:per-key:usd:2026-11");
  ASSERT_NE(monthly, nullptr);
  EXPECT_EQ(monthly->limit, 25'000'000);
  EXPECT_EQ(monthly->amount, 900);
  EXPECT_EQ(monthly->window_end_us, WindowContaining(*zone_, WindowUnit::kMonth, kNowUs).end_us);
  EXPECT_EQ(monthly->on_store_failure, OnStoreFailure::kFailOpen) << "the policy's own";
  EXPECT_EQ(out_.meta[1].role, CheckRole::kBudgetMoney);
  EXPECT_EQ(out_.meta[1].policy, 0u);
}

TEST_F(KeyOverridesTest, ATokenBudgetWithoutAPolicyIsTheKeysOwnAndFailsClosed) {
  Apply({.budget_tokens = 10'000, .budget_tokens_period = KeyLimitPeriod::kDay});
  ASSERT_EQ(out_.checks.size(), 1u);
  EXPECT_EQ(out_.checks[0].key, "sl:{key=key_ab}:key:tok:2026-11-26");
  EXPECT_EQ(out_.checks[0].kind, CounterKind::kBudget);
  EXPECT_EQ(out_.checks[0].amount, 100);
  EXPECT_EQ(out_.checks[0].on_store_failure, OnStoreFailure::kFailClosed);
  EXPECT_EQ(out_.meta[0].role, CheckRole::kBudgetTokens);
}

}  // namespace
}  // namespace sluice::limits
