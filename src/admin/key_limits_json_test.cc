// Tests of a key's `limits` object (key_limits_json.h): the table of accepted and refused
// inputs with the field each error names, merge-patch semantics (null clears, fields merge,
// budgets replace), and the JSON view round-tripping through ApplyKeyLimits.
#include "admin/key_limits_json.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace sluice {
namespace {

namespace json = boost::json;

KeyLimits Apply(std::string_view patch, KeyLimits limits = {}) {
  std::optional<KeyLimitsError> problem = ApplyKeyLimits(json::parse(patch), limits);
  EXPECT_FALSE(problem.has_value()) << patch << ": " << (problem ? problem->message : "");
  return limits;
}

TEST(KeyLimitsJson, TheDocumentedExampleSetsEveryField) {
  KeyLimits limits = Apply(R"({"requests_per_minute":600,"tokens_per_minute":200000,
      "concurrency":8,"budgets":[{"usd":25.5,"per":"month"},{"tokens":1000000,"per":"day"}]})");
  EXPECT_EQ(limits.requests_per_minute, 600);
  EXPECT_EQ(limits.tokens_per_minute, 200000);
  EXPECT_EQ(limits.concurrency, 8);
  EXPECT_EQ(limits.budget_usd_micros, 25'500'000);
  EXPECT_EQ(limits.budget_usd_period, KeyLimitPeriod::kMonth);
  EXPECT_EQ(limits.budget_tokens, 1'000'000);
  EXPECT_EQ(limits.budget_tokens_period, KeyLimitPeriod::kDay);
}

TEST(KeyLimitsJson, RefusedInputsNameTheirField) {
  struct Case {
    const char* patch;
    const char* param;
  };
  const Case cases[] = {
      {R"(5)", "limits"},
      {R"("600/minute")", "limits"},
      {R"([])", "limits"},
      {R"({"requests_per_minute":0})", "limits.requests_per_minute"},
      {R"({"requests_per_minute":-1})", "limits.requests_per_minute"},
      {R"({"requests_per_minute":1.5})", "limits.requests_per_minute"},
      {R"({"requests_per_minute":600.0})", "limits.requests_per_minute"},
      {R"({"requests_per_minute":"600"})", "limits.requests_per_minute"},
      {R"({"tokens_per_minute":1125899906842625})", "limits.tokens_per_minute"},
      {R"({"tokens_per_minute":18446744073709551615})", "limits.tokens_per_minute"},
      {R"({"concurrency":true})", "limits.concurrency"},
      {R"({"rpm_limit":5})", "limits.rpm_limit"},
      {R"({"budgets":{"usd":5}})", "limits.budgets"},
      {R"({"budgets":[5]})", "limits.budgets[0]"},
      {R"({"budgets":[{"per":"day"}]})", "limits.budgets[0]"},
      {R"({"budgets":[{"usd":1,"tokens":5}]})", "limits.budgets[0]"},
      {R"({"budgets":[{"usd":1,"per":"year"}]})", "limits.budgets[0].per"},
      {R"({"budgets":[{"usd":1,"per":7}]})", "limits.budgets[0].per"},
      {R"({"budgets":[{"usd":0}]})", "limits.budgets[0].usd"},
      {R"({"budgets":[{"usd":-3}]})", "limits.budgets[0].usd"},
      {R"({"budgets":[{"usd":0.0000001}]})", "limits.budgets[0].usd"},
      {R"({"budgets":[{"usd":1e300}]})", "limits.budgets[0].usd"},
      {R"({"budgets":[{"usd":"25"}]})", "limits.budgets[0].usd"},
      {R"({"budgets":[{"tokens":0}]})", "limits.budgets[0].tokens"},
      {R"({"budgets":[{"tokens":2.5}]})", "limits.budgets[0].tokens"},
      {R"({"budgets":[{"usd":1},{"usd":2}]})", "limits.budgets[1]"},
      {R"({"budgets":[{"tokens":1},{"usd":2},{"tokens":3}]})", "limits.budgets[2]"},
      {R"({"budgets":[{"usd":1,"period":"day"}]})", "limits.budgets[0].period"},
  };
  for (const Case& c : cases) {
    KeyLimits limits;
    limits.concurrency = 3;  // unchanged by a refused patch
    std::optional<KeyLimitsError> problem = ApplyKeyLimits(json::parse(c.patch), limits);
    ASSERT_TRUE(problem.has_value()) << c.patch;
    EXPECT_EQ(problem->param, c.param) << c.patch;
    EXPECT_NE(problem->message.find("'" + std::string(c.param) + "'"), std::string::npos)
        << c.patch << ": " << problem->message;
    KeyLimits expected;
    expected.concurrency = 3;
    EXPECT_EQ(limits, expected) << c.patch;
  }
}

TEST(KeyLimitsJson, LiteLlmNamesPointToOurs) {
  KeyLimits limits;
  std::optional<KeyLimitsError> problem =
      ApplyKeyLimits(json::parse(R"({"max_parallel_requests":4})"), limits);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->message.find("use 'concurrency'"), std::string::npos) << problem->message;
}

TEST(KeyLimitsJson, PatchesMergeFieldsClearWithNullAndReplaceBudgets) {
  KeyLimits limits =
      Apply(R"({"requests_per_minute":10,"concurrency":2,"budgets":[{"usd":5},{"tokens":100}]})");
  EXPECT_EQ(limits.budget_usd_period, KeyLimitPeriod::kMonth);  // per defaults to month

  limits = Apply(R"({"tokens_per_minute":50})", limits);  // others kept
  EXPECT_EQ(limits.requests_per_minute, 10);
  EXPECT_EQ(limits.tokens_per_minute, 50);
  EXPECT_EQ(limits.budget_usd_micros, 5'000'000);

  limits = Apply(R"({"requests_per_minute":null})", limits);
  EXPECT_EQ(limits.requests_per_minute, 0);
  EXPECT_EQ(limits.concurrency, 2);

  limits = Apply(R"({"budgets":[{"tokens":7,"per":"week"}]})", limits);  // usd budget gone
  EXPECT_EQ(limits.budget_usd_micros, 0);
  EXPECT_EQ(limits.budget_tokens, 7);
  EXPECT_EQ(limits.budget_tokens_period, KeyLimitPeriod::kWeek);

  limits = Apply(R"({"budgets":null})", limits);
  EXPECT_EQ(limits.budget_tokens, 0);
  EXPECT_EQ(limits.concurrency, 2);

  limits = Apply(R"({})", limits);
  EXPECT_EQ(limits.concurrency, 2);
  limits = Apply(R"(null)", limits);
  EXPECT_TRUE(limits.empty());
}

TEST(KeyLimitsJson, TheViewIsNullWithoutOverridesAndRoundTrips) {
  EXPECT_TRUE(KeyLimitsJson(KeyLimits{}).is_null());
  const char* inputs[] = {
      R"({"concurrency":1})",
      R"({"requests_per_minute":600,"tokens_per_minute":200000,"concurrency":8,)"
      R"("budgets":[{"usd":25,"per":"month"},{"tokens":1000000,"per":"day"}]})",
      R"({"budgets":[{"usd":0.5,"per":"week"}]})",
      R"({"budgets":[{"tokens":3,"per":"month"}]})",
  };
  for (const char* input : inputs) {
    KeyLimits limits = Apply(input);
    json::value view = KeyLimitsJson(limits);
    EXPECT_EQ(view, json::parse(input)) << json::serialize(view);
    EXPECT_EQ(Apply(json::serialize(view)), limits) << input;
  }
  // Whole dollars print as an integer; other amounts keep their micro-dollars.
  KeyLimits cents;
  cents.budget_usd_micros = 1'230'000;
  const json::value view = KeyLimitsJson(cents);
  const json::value& usd = view.at("budgets").at(0).at("usd");
  ASSERT_TRUE(usd.is_double());
  EXPECT_DOUBLE_EQ(usd.get_double(), 1.23);
  KeyLimits whole;
  whole.budget_usd_micros = 25'000'000;
  whole.budget_usd_period = KeyLimitPeriod::kWeek;
  EXPECT_EQ(json::serialize(KeyLimitsJson(whole)), R"({"budgets":[{"usd":25,"per":"week"}]})");
}

}  // namespace
}  // namespace sluice
