// The admin API's `limits` object of a key (see key_limits_json.h): validation with
// field-named messages, merge-patch application and the JSON view.
#include "admin/key_limits_json.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cmath>
#include <string_view>

namespace sluice {
namespace {

namespace json = boost::json;

// The per-minute and concurrency fields, in output order.
struct ScalarField {
  std::string_view name;
  int64_t KeyLimits::*member;
};
constexpr ScalarField kScalarFields[] = {
    {"requests_per_minute", &KeyLimits::requests_per_minute},
    {"tokens_per_minute", &KeyLimits::tokens_per_minute},
    {"concurrency", &KeyLimits::concurrency},
};

// Names LiteLLM users reach for, mapped to ours so the 400 says what to write instead.
constexpr std::pair<std::string_view, std::string_view> kLiteLlmNames[] = {
    {"rpm_limit", "requests_per_minute"},     {"tpm_limit", "tokens_per_minute"},
    {"max_parallel_requests", "concurrency"}, {"max_budget", "budgets"},
    {"budget_duration", "budgets"},
};

KeyLimitsError Problem(std::string param, std::string_view must) {
  return {"'" + param + "' " + std::string(must), param};
}

// A positive whole number up to kMaxKeyLimit; nullopt for anything else (fractions, text).
std::optional<int64_t> WholeAmount(const json::value& value) {
  // Boost.JSON keeps a whole number in int64 when it fits; uint64 only holds larger ones.
  if (!value.is_int64()) return std::nullopt;
  int64_t amount = value.get_int64();
  if (amount < 1 || amount > kMaxKeyLimit) return std::nullopt;
  return amount;
}

std::string WholeAmountRule(bool nullable) {
  std::string rule = "must be a whole number from 1 to " + std::to_string(kMaxKeyLimit);
  if (nullable) rule += " (null removes the override)";
  return rule + ".";
}

// One `budgets` item into `limits`; `seen_usd` / `seen_tokens` catch a second of a kind.
std::optional<KeyLimitsError> ReadBudget(const json::value& item, const std::string& param,
                                         bool& seen_usd, bool& seen_tokens, KeyLimits& limits) {
  if (!item.is_object()) {
    return Problem(param, "must be an object such as {\"usd\": 25, \"per\": \"month\"}.");
  }
  const json::object& budget = item.get_object();
  for (const auto& entry : budget) {
    if (entry.key() != "usd" && entry.key() != "tokens" && entry.key() != "per") {
      std::string field = param + "." + std::string(entry.key());
      return KeyLimitsError{"Unknown field '" + field + "' (a budget has usd or tokens, and per).",
                            field};
    }
  }
  const json::value* usd = budget.if_contains("usd");
  const json::value* tokens = budget.if_contains("tokens");
  if ((usd == nullptr) == (tokens == nullptr)) {
    return Problem(param, "needs exactly one of usd or tokens.");
  }
  KeyLimitPeriod period = KeyLimitPeriod::kMonth;
  if (const json::value* per = budget.if_contains("per")) {
    std::optional<KeyLimitPeriod> parsed;
    if (per->is_string()) parsed = ParseKeyLimitPeriod(per->get_string());
    if (!parsed) return Problem(param + ".per", "must be day, week or month.");
    period = *parsed;
  }
  if (usd != nullptr) {
    if (seen_usd) return Problem(param, "is a second usd budget; a key has at most one.");
    seen_usd = true;
    double dollars = usd->is_number() ? usd->to_number<double>() : -1.0;
    double micros = std::isfinite(dollars) ? std::round(dollars * 1e6) : -1.0;
    if (micros < 1.0 || micros > static_cast<double>(kMaxKeyLimit)) {
      return Problem(param + ".usd", "must be a number of US dollars from 0.000001 to " +
                                         std::to_string(kMaxKeyLimit / 1'000'000) + ".");
    }
    limits.budget_usd_micros = static_cast<int64_t>(micros);
    limits.budget_usd_period = period;
  } else {
    if (seen_tokens) return Problem(param, "is a second tokens budget; a key has at most one.");
    seen_tokens = true;
    std::optional<int64_t> amount = WholeAmount(*tokens);
    if (!amount) return Problem(param + ".tokens", WholeAmountRule(false));
    limits.budget_tokens = *amount;
    limits.budget_tokens_period = period;
  }
  return std::nullopt;
}

std::optional<KeyLimitsError> ReadBudgets(const json::value& value, KeyLimits& limits) {
  limits.budget_usd_micros = 0;
  limits.budget_usd_period = KeyLimitPeriod::kMonth;
  limits.budget_tokens = 0;
  limits.budget_tokens_period = KeyLimitPeriod::kMonth;
  if (value.is_null()) return std::nullopt;
  if (!value.is_array()) {
    return Problem("limits.budgets",
                   "must be a list such as [{\"usd\": 25, \"per\": \"month\"}, {\"tokens\": "
                   "1000000, \"per\": \"day\"}], or null.");
  }
  bool seen_usd = false;
  bool seen_tokens = false;
  const json::array& items = value.get_array();
  for (size_t i = 0; i < items.size(); ++i) {
    std::string param = "limits.budgets[" + std::to_string(i) + "]";
    if (auto problem = ReadBudget(items[i], param, seen_usd, seen_tokens, limits)) return problem;
  }
  return std::nullopt;
}

}  // namespace

json::value KeyLimitsJson(const KeyLimits& limits) {
  if (limits.empty()) return nullptr;
  json::object out;
  for (const ScalarField& field : kScalarFields) {
    if (limits.*field.member != 0) out[field.name] = limits.*field.member;
  }
  json::array budgets;
  if (limits.budget_usd_micros != 0) {
    // Whole dollars print as an integer (25, not 2.5E1); other amounts as a number.
    json::value usd = limits.budget_usd_micros % 1'000'000 == 0
                          ? json::value(limits.budget_usd_micros / 1'000'000)
                          : json::value(static_cast<double>(limits.budget_usd_micros) / 1e6);
    budgets.push_back(
        json::object{{"usd", usd}, {"per", KeyLimitPeriodName(limits.budget_usd_period)}});
  }
  if (limits.budget_tokens != 0) {
    budgets.push_back(json::object{{"tokens", limits.budget_tokens},
                                   {"per", KeyLimitPeriodName(limits.budget_tokens_period)}});
  }
  if (!budgets.empty()) out["budgets"] = std::move(budgets);
  return out;
}

std::optional<KeyLimitsError> ApplyKeyLimits(const json::value& patch, KeyLimits& limits) {
  if (patch.is_null()) {
    limits = KeyLimits{};
    return std::nullopt;
  }
  if (!patch.is_object()) {
    return Problem("limits",
                   "must be an object such as {\"requests_per_minute\": 600, \"concurrency\": "
                   "8}, or null to remove every override.");
  }
  KeyLimits next = limits;
  for (const auto& entry : patch.get_object()) {
    const std::string param = "limits." + std::string(entry.key());
    const ScalarField* scalar = nullptr;
    for (const ScalarField& field : kScalarFields) {
      if (field.name == entry.key()) scalar = &field;
    }
    if (scalar != nullptr) {
      if (entry.value().is_null()) {
        next.*scalar->member = 0;
        continue;
      }
      std::optional<int64_t> amount = WholeAmount(entry.value());
      if (!amount) return Problem(param, WholeAmountRule(true));
      next.*scalar->member = *amount;
    } else if (entry.key() == "budgets") {
      if (auto problem = ReadBudgets(entry.value(), next)) return problem;
    } else {
      std::string message = "Unknown field '" + param + "'";
      for (const auto& [theirs, ours] : kLiteLlmNames) {
        if (theirs == entry.key()) message += " (use '" + std::string(ours) + "')";
      }
      message += "; limits has requests_per_minute, tokens_per_minute, concurrency and budgets.";
      return KeyLimitsError{std::move(message), param};
    }
  }
  limits = next;
  return std::nullopt;
}

}  // namespace sluice
