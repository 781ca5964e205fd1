// Limits stored with one API key (admin API `limits`, `sluice keys create|update --rpm ...`):
// overrides of the configured limit policies for that key. The store keeps them in the key's
// row, the key cache puts them on the key's Principal (null when the key has none), and the
// limit plan (src/limits/limit_plan.cc) applies them; the rule is in docs/limits.md,
// "Per-key overrides". Plain immutable data; thread-safe once built.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice {

// The calendar window of a budget (mirrors the config's BudgetPeriod; core does not depend
// on config).
enum class KeyLimitPeriod : uint8_t { kDay, kWeek, kMonth };

// Every amount is optional: 0 means "not overridden" (the policies' value applies).
struct KeyLimits {
  int64_t requests_per_minute = 0;  // a per-minute rate, burst = the same number
  int64_t tokens_per_minute = 0;    // a per-minute rate, burst = the same number
  int64_t concurrency = 0;          // requests in flight
  int64_t budget_usd_micros = 0;    // money per window, in micro-dollars (1e-6 USD)
  KeyLimitPeriod budget_usd_period = KeyLimitPeriod::kMonth;
  int64_t budget_tokens = 0;  // tokens (prompt + completion) per window
  KeyLimitPeriod budget_tokens_period = KeyLimitPeriod::kMonth;

  // True when nothing is overridden (such a key carries no KeyLimits at all).
  bool empty() const {
    return requests_per_minute == 0 && tokens_per_minute == 0 && concurrency == 0 &&
           budget_usd_micros == 0 && budget_tokens == 0;
  }
  bool operator==(const KeyLimits&) const = default;
};

// "day", "week", "month" (the names of the config's `per:` and of the admin API).
constexpr std::string_view KeyLimitPeriodName(KeyLimitPeriod period) {
  switch (period) {
    case KeyLimitPeriod::kDay:
      return "day";
    case KeyLimitPeriod::kWeek:
      return "week";
    case KeyLimitPeriod::kMonth:
      return "month";
  }
  return "month";
}

constexpr std::optional<KeyLimitPeriod> ParseKeyLimitPeriod(std::string_view name) {
  if (name == "day") return KeyLimitPeriod::kDay;
  if (name == "week") return KeyLimitPeriod::kWeek;
  if (name == "month") return KeyLimitPeriod::kMonth;
  return std::nullopt;
}

}  // namespace sluice
