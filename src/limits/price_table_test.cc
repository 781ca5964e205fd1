// Prices: exact micro-dollar costs, rounding up once, cached tokens, lookups.
#include "limits/price_table.h"

#include <gtest/gtest.h>

namespace sluice::limits {
namespace {

TEST(PriceTableTest, PricesResolveToMicroDollarsPerMillion) {
  const ModelPrice p = ModelPrice::FromUsdPerMillion(2.50, 10.00, 1.25);
  EXPECT_EQ(p.input_micro_usd_per_mtok, 2'500'000);
  EXPECT_EQ(p.output_micro_usd_per_mtok, 10'000'000);
  EXPECT_EQ(p.cached_input_micro_usd_per_mtok, 1'250'000);
  const ModelPrice tiny = ModelPrice::FromUsdPerMillion(0.075, 0.0000004, -1);
  EXPECT_EQ(tiny.input_micro_usd_per_mtok, 75'000);
  EXPECT_EQ(tiny.output_micro_usd_per_mtok, 0);  // below 1e-6 USD per 1M
  EXPECT_EQ(tiny.cached_input_micro_usd_per_mtok, 0);
}

TEST(PriceTableTest, CostIsExactWhenItDividesAndRoundsUpOnceOtherwise) {
  const ModelPrice p = ModelPrice::FromUsdPerMillion(2.50, 10.00, 1.25);
  // 1000 prompt (200 cached) + 500 completion: 800*2.5 + 200*1.25 + 500*10 = 7250 µ$.
  EXPECT_EQ(CostMicroUsd(p, 1000, 500, 200), 7250);
  // 1 prompt token at $2.50/1M = 2.5 µ$ → 3; 1 cached (1.25) + 1 prompt (2.5) = 3.75 → 4
  // (rounded once on the total, not 2 + 3 = 5).
  EXPECT_EQ(CostMicroUsd(p, 1, 0, 0), 3);
  EXPECT_EQ(CostMicroUsd(p, 2, 0, 1), 4);
  EXPECT_EQ(CostMicroUsd(p, 0, 0, 0), 0);
  const ModelPrice cheap = ModelPrice::FromUsdPerMillion(0.075, 0.3, 0.0375);
  EXPECT_EQ(CostMicroUsd(cheap, 1, 0, 0), 1);   // 0.075 µ$ still costs 1
  EXPECT_EQ(CostMicroUsd(cheap, 40, 0, 0), 3);  // exactly 3.0
  EXPECT_EQ(CostMicroUsd(cheap, 41, 0, 0), 4);
}

TEST(PriceTableTest, UsageAndBadCounts) {
  const ModelPrice p = ModelPrice::FromUsdPerMillion(2.50, 10.00, 1.25);
  Usage u;
  u.prompt_tokens = 1000;
  u.completion_tokens = 500;
  u.cached_tokens = 200;
  EXPECT_EQ(CostMicroUsd(p, u), 7250);
  EXPECT_EQ(CostMicroUsd(p, 100, 0, 500), 125);  // cached clamped to the prompt
  EXPECT_EQ(CostMicroUsd(p, -5, -5, -5), 0);
  // Huge counts saturate instead of overflowing.
  const ModelPrice dear = ModelPrice::FromUsdPerMillion(1e12, 1e12, 1e12);
  EXPECT_EQ(CostMicroUsd(dear, INT64_MAX, INT64_MAX, 0), INT64_MAX);
}

TEST(PriceTableTest, EstimateChargesTheWholePromptAtTheInputPrice) {
  const ModelPrice p = ModelPrice::FromUsdPerMillion(2.50, 10.00, 1.25);
  EXPECT_EQ(EstimateCostMicroUsd(p, 1000, 4096), 2500 + 40960);
}

TEST(PriceTableTest, LookupByExactName) {
  PriceTable table;
  table.Set("gpt-4o", ModelPrice::FromUsdPerMillion(2.50, 10.00, 1.25));
  table.Set("gpt-4o-mini", ModelPrice::FromUsdPerMillion(0.15, 0.60, 0.075));
  table.Set("gpt-4o", ModelPrice::FromUsdPerMillion(5, 15, 2.5));  // replaces
  EXPECT_EQ(table.size(), 2u);
  const std::string_view name = "gpt-4o-mini";
  ASSERT_NE(table.Find(name), nullptr);
  EXPECT_EQ(table.Find(name)->output_micro_usd_per_mtok, 600'000);
  ASSERT_NE(table.Find("gpt-4o"), nullptr);
  EXPECT_EQ(table.Find("gpt-4o")->input_micro_usd_per_mtok, 5'000'000);
  EXPECT_EQ(table.Find("GPT-4o"), nullptr);
  EXPECT_EQ(table.Find("gpt-4"), nullptr);
  EXPECT_EQ(table.Find(""), nullptr);
}

}  // namespace
}  // namespace sluice::limits
