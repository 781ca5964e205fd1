// ApplyKeyOverrides: a key's stored limits over the configured policies.
#include "limits/key_overrides.h"

#include <algorithm>
#include <string>

#include "limits/calendar_window.h"

namespace sluice::limits {
namespace {

constexpr int64_t kMinuteUs = 60'000'000;

bool PerKey(const LimitPolicyConfig& policy) {
  return std::find(policy.per.begin(), policy.per.end(), LimitSubject::kKey) != policy.per.end();
}

WindowUnit ToWindowUnit(KeyLimitPeriod period) {
  switch (period) {
    case KeyLimitPeriod::kDay:
      return WindowUnit::kDay;
    case KeyLimitPeriod::kWeek:
      return WindowUnit::kWeek;
    default:
      return WindowUnit::kMonth;
  }
}

// "sl:{subject}:policy:" of a counter name "sl:{subject}:policy:what".
std::string_view CounterPrefix(std::string_view key, const LimitPolicyConfig& policy) {
  size_t end = key.find("}:");
  if (end == std::string_view::npos) return {};
  return key.substr(0, std::min(key.size(), end + 2 + policy.name.size() + 1));
}

// One kind of override: where its counter goes when no per-key policy has it.
struct Home {
  bool covered = false;  // a per-key policy's check of this kind was rewritten
  std::string prefix;    // budgets: the prefix of the first replaced check
  uint16_t policy = 0;   // ... and its policy
};

void SetRate(Check& c, int64_t per_minute) {
  c.limit = per_minute;
  c.burst = per_minute;
  c.period_us = kMinuteUs;
}

}  // namespace

const LimitPolicyConfig& KeyOverridePolicy() {
  static const LimitPolicyConfig policy = [] {
    LimitPolicyConfig p;
    p.name = "key";
    p.per = {LimitSubject::kKey};
    return p;
  }();
  return policy;
}

void ApplyKeyOverrides(const KeyLimits& limits, std::string_view key_id,
                       const std::vector<LimitPolicyConfig>& policies, const TimeZone& zone,
                       const RequestEstimate& estimate, int64_t now_us, PlannedChecks& out) {
  Home requests, tokens, concurrency, money, token_budget;
  // 1. Rewrite the per-key policies' counters; drop their budgets that a key budget replaces.
  size_t kept = 0;
  for (size_t i = 0; i < out.checks.size(); ++i) {
    const PlannedChecks::Meta meta = out.meta[i];
    Check& c = out.checks[i];
    bool keep = true;
    if (meta.policy < policies.size() && PerKey(policies[meta.policy])) {
      const LimitPolicyConfig& policy = policies[meta.policy];
      switch (meta.role) {
        case CheckRole::kRequests:
          if (limits.requests_per_minute > 0) SetRate(c, limits.requests_per_minute);
          requests.covered = true;
          break;
        case CheckRole::kTokens:
          if (limits.tokens_per_minute > 0) SetRate(c, limits.tokens_per_minute);
          tokens.covered = true;
          break;
        case CheckRole::kConcurrency:
          if (limits.concurrency > 0) c.limit = limits.concurrency;
          concurrency.covered = true;
          break;
        case CheckRole::kBudgetMoney:
        case CheckRole::kBudgetTokens: {
          bool is_money = meta.role == CheckRole::kBudgetMoney;
          Home& home = is_money ? money : token_budget;
          if ((is_money ? limits.budget_usd_micros : limits.budget_tokens) == 0) break;
          keep = false;
          if (!home.covered) {
            home.covered = true;
            home.prefix = CounterPrefix(c.key, policy);
            home.policy = meta.policy;
          }
          break;
        }
      }
    }
    if (!keep) continue;
    if (kept != i) {
      out.checks[kept] = std::move(c);
      out.meta[kept] = meta;
    }
    ++kept;
  }
  out.checks.resize(kept);
  out.meta.resize(kept);

  // 2. What no per-key policy counted: the implicit `key` policy's counters.
  const auto key_policy = static_cast<uint16_t>(policies.size());
  const LimitPolicyConfig& implicit = KeyOverridePolicy();
  std::string implicit_prefix = "sl:{key=";
  implicit_prefix.append(key_id).append("}:key:");
  auto add = [&](const Home& home, std::string_view what, CheckRole role) -> Check& {
    bool own = home.covered && !home.prefix.empty();
    Check& c = out.checks.emplace_back();
    c.key = own ? home.prefix : implicit_prefix;
    c.key.append(what);
    const LimitPolicyConfig& policy = own ? policies[home.policy] : implicit;
    c.on_store_failure =
        ToStorePolicy(role == CheckRole::kBudgetMoney || role == CheckRole::kBudgetTokens
                          ? policy.budget_on_store_failure
                          : policy.on_store_failure);
    out.meta.push_back({role, TokenCount::kTotal, own ? home.policy : key_policy});
    return c;
  };
  const int64_t total_tokens = estimate.prompt_tokens + estimate.completion_tokens;
  if (limits.requests_per_minute > 0 && !requests.covered) {
    Check& c = add(requests, "req", CheckRole::kRequests);
    c.kind = CounterKind::kRate;
    SetRate(c, limits.requests_per_minute);
    c.amount = 1;
  }
  if (limits.tokens_per_minute > 0 && !tokens.covered) {
    Check& c = add(tokens, "tok", CheckRole::kTokens);
    c.kind = CounterKind::kRate;
    SetRate(c, limits.tokens_per_minute);
    c.amount = total_tokens;
  }
  if (limits.concurrency > 0 && !concurrency.covered) {
    Check& c = add(concurrency, "conc", CheckRole::kConcurrency);
    c.kind = CounterKind::kConcurrency;
    c.limit = limits.concurrency;
    c.amount = 1;
  }
  auto add_budget = [&](const Home& home, bool is_money, int64_t limit, KeyLimitPeriod period) {
    CalendarWindow window = WindowContaining(zone, ToWindowUnit(period), now_us);
    std::string what = is_money ? "usd:" : "tok:";
    what.append(window.label());
    Check& c = add(home, what, is_money ? CheckRole::kBudgetMoney : CheckRole::kBudgetTokens);
    c.kind = CounterKind::kBudget;
    c.limit = limit;
    c.window_end_us = window.end_us;
    c.amount = is_money ? estimate.cost_micro_usd : total_tokens;
  };
  if (limits.budget_usd_micros > 0) {
    add_budget(money, true, limits.budget_usd_micros, limits.budget_usd_period);
  }
  if (limits.budget_tokens > 0) {
    add_budget(token_budget, false, limits.budget_tokens, limits.budget_tokens_period);
  }
}

}  // namespace sluice::limits
