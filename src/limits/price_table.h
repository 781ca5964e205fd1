// Per-model prices (USD per 1M input, output and cached-input tokens) and the cost of a
// usage in micro-dollars (1e-6 USD), the unit of money budgets. Built once from config,
// then immutable: lookups by model name allocate nothing; thread-safe after construction.
//
// cost_µ$ = ceil((cached * cached_price + (prompt - cached) * input_price
//                 + completion * output_price) / 1e6), prices in µ$ per 1M tokens
// (USD per 1M tokens × 1e6, so a price resolves to 1e-6 USD per 1M tokens). Rounded up
// once, on the total: a request never costs less than its exact price.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/usage.h"

namespace sluice::limits {

struct ModelPrice {
  int64_t input_micro_usd_per_mtok = 0;
  int64_t output_micro_usd_per_mtok = 0;
  int64_t cached_input_micro_usd_per_mtok = 0;

  // From config values in USD per 1M tokens (rounded to the nearest 1e-6 USD); negative or
  // non-finite prices become 0. A missing cached price is usually set to the input price.
  static ModelPrice FromUsdPerMillion(double input, double output, double cached_input);
};

// Prompt tokens include the cached ones (OpenAI's usage shape); cached is clamped to
// [0, prompt] and negative counts are taken as 0.
int64_t CostMicroUsd(const ModelPrice& price, int64_t prompt_tokens, int64_t completion_tokens,
                     int64_t cached_tokens);
int64_t CostMicroUsd(const ModelPrice& price, const Usage& usage);
// The reservation at admission: the whole estimated prompt at the input price (caching is
// not known yet) and the completion reservation at the output price.
int64_t EstimateCostMicroUsd(const ModelPrice& price, int64_t prompt_tokens,
                             int64_t completion_reserve);

class PriceTable {
 public:
  void Set(std::string model, const ModelPrice& price);  // while building; replaces
  const ModelPrice* Find(std::string_view model) const;  // exact name; null when unknown
  size_t size() const { return prices_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, ModelPrice, Hash, std::equal_to<>> prices_;
};

}  // namespace sluice::limits
