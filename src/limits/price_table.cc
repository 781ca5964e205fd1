// Model prices and costs (see price_table.h for the formula).
#include "limits/price_table.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sluice::limits {
namespace {

__extension__ typedef __int128 Int128;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

int64_t MicroUsd(double usd) {
  if (!std::isfinite(usd) || usd <= 0) return 0;
  const double micro = std::round(usd * 1e6);
  return micro >= 9.2e18 ? kMax : static_cast<int64_t>(micro);
}

// ceil(sum / 1e6) of a non-negative sum, saturated to int64.
int64_t CeilMillionth(Int128 sum) {
  const Int128 cost = (sum + 999'999) / 1'000'000;
  return cost > kMax ? kMax : static_cast<int64_t>(cost);
}

}  // namespace

ModelPrice ModelPrice::FromUsdPerMillion(double input, double output, double cached_input) {
  return ModelPrice{MicroUsd(input), MicroUsd(output), MicroUsd(cached_input)};
}

int64_t CostMicroUsd(const ModelPrice& price, int64_t prompt_tokens, int64_t completion_tokens,
                     int64_t cached_tokens) {
  const int64_t prompt = std::max<int64_t>(0, prompt_tokens);
  const int64_t cached = std::clamp<int64_t>(cached_tokens, 0, prompt);
  const int64_t completion = std::max<int64_t>(0, completion_tokens);
  const Int128 sum = Int128{cached} * price.cached_input_micro_usd_per_mtok +
                     Int128{prompt - cached} * price.input_micro_usd_per_mtok +
                     Int128{completion} * price.output_micro_usd_per_mtok;
  return CeilMillionth(sum);
}

int64_t CostMicroUsd(const ModelPrice& price, const Usage& usage) {
  return CostMicroUsd(price, usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens);
}

int64_t EstimateCostMicroUsd(const ModelPrice& price, int64_t prompt_tokens,
                             int64_t completion_reserve) {
  return CostMicroUsd(price, prompt_tokens, completion_reserve, 0);
}

void PriceTable::Set(std::string model, const ModelPrice& price) {
  prices_.insert_or_assign(std::move(model), price);
}

const ModelPrice* PriceTable::Find(std::string_view model) const {
  const auto it = prices_.find(model);
  return it == prices_.end() ? nullptr : &it->second;
}

}  // namespace sluice::limits
