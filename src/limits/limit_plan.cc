// LimitPlan: which policies apply to a request and the counters they name.
#include "limits/limit_plan.h"

#include <algorithm>

#include "config/model_patterns.h"
#include "config/snapshot.h"
#include "core/principal.h"
#include "limits/calendar_window.h"
#include "limits/key_overrides.h"

namespace sluice::limits {
namespace {

static_assert(kMaxLimitCounters + kMaxKeyOverrideCounters <= kMaxChecks,
              "the config bounds counters by the decision size, less what a key may add");

std::string_view RouteName(RouteKind route) {
  switch (route) {
    case RouteKind::kChatCompletions:
      return "chat";
    case RouteKind::kCompletions:
      return "completions";
    case RouteKind::kEmbeddings:
      return "embeddings";
    default:
      return "other";
  }
}

std::string_view ModelName(RequestContext& ctx) {
  const ModelConfig* model = ctx.Model();
  return model != nullptr ? std::string_view(model->name) : ctx.requested_model;
}

int64_t TokensFor(TokenCount count, const RequestEstimate& e) {
  switch (count) {
    case TokenCount::kPrompt:
      return e.prompt_tokens;
    case TokenCount::kCompletion:
      return e.completion_tokens;
    default:
      return e.prompt_tokens + e.completion_tokens;
  }
}

}  // namespace

OnStoreFailure ToStorePolicy(StoreFailurePolicy policy) {
  switch (policy) {
    case StoreFailurePolicy::kFailOpen:
      return OnStoreFailure::kFailOpen;
    case StoreFailurePolicy::kFailClosed:
      return OnStoreFailure::kFailClosed;
    default:
      return OnStoreFailure::kLocalFallback;
  }
}

LimitPlan::LimitPlan(const LimitsConfig& config, const TimeZone& zone)
    : config_(config), zone_(zone) {}

bool LimitPlan::Applies(const LimitPolicyConfig& policy, RequestContext& ctx) const {
  if (!policy.routes.empty() && std::find(policy.routes.begin(), policy.routes.end(),
                                          RouteName(ctx.route)) == policy.routes.end()) {
    return false;
  }
  if (!policy.models.empty()) {
    // Names, aliases and globs, as tiers and key allow-lists match them.
    const ModelConfig* model = ctx.Model();
    if (model == nullptr || !ModelMatchesAny(policy.models, *model, ctx.requested_model)) {
      return false;
    }
  }
  if (!policy.tiers.empty()) {
    std::string_view tier = ctx.principal ? std::string_view(ctx.principal->tier) : "";
    if (tier.empty()) tier = "default";
    if (std::find(policy.tiers.begin(), policy.tiers.end(), tier) == policy.tiers.end()) {
      return false;
    }
  }
  return true;
}

bool LimitPlan::Subject(const LimitPolicyConfig& policy, RequestContext& ctx, std::string& out) {
  out.clear();
  const Principal* who = ctx.principal.get();
  for (LimitSubject subject : policy.per) {
    std::string_view name;
    std::string_view value;
    switch (subject) {
      case LimitSubject::kKey:
        name = "key";
        // The credential: an API key, else the signed-in or external subject.
        if (who != nullptr) value = who->key_id.empty() ? std::string_view(who->id) : who->key_id;
        break;
      case LimitSubject::kUser:
        name = "user";
        if (who != nullptr) value = who->user_id;
        break;
      case LimitSubject::kTeam:
        name = "team";
        if (who != nullptr) value = who->team_id;
        break;
      case LimitSubject::kTier:
        name = "tier";
        value = who != nullptr && !who->tier.empty() ? std::string_view(who->tier) : "default";
        break;
      case LimitSubject::kModel:
        name = "model";
        value = ModelName(ctx);
        break;
      case LimitSubject::kRoute:
        name = "route";
        value = RouteName(ctx.route);
        break;
      case LimitSubject::kClientIp:
        name = "ip";
        value = ctx.client_ip;
        break;
    }
    // A policy per team does not apply to a key without a team, and so on.
    if (value.empty()) return false;
    if (!out.empty()) out.push_back('|');
    out.append(name);
    out.push_back('=');
    out.append(value);
  }
  if (out.empty()) out = "all";
  return true;
}

void LimitPlan::Build(RequestContext& ctx, const RequestEstimate& estimate, int64_t now_us,
                      PlannedChecks& out) const {
  // Per thread, so their capacity is reused: building a request's checks allocates nothing.
  thread_local std::string subject;
  thread_local std::string prefix;
  for (size_t i = 0; i < config_.policies.size(); ++i) {
    const LimitPolicyConfig& policy = config_.policies[i];
    if (!Applies(policy, ctx) || !Subject(policy, ctx, subject)) continue;
    // "sl:{subject}:policy:what": the braces are the Redis Cluster hash tag, so every
    // counter of one subject lives in one slot.
    prefix.assign("sl:{").append(subject).append("}:").append(policy.name).push_back(':');
    auto add = [&](std::string_view what, std::string_view window, CheckRole role,
                   TokenCount count) -> Check& {
      Check& check = out.checks.emplace_back();
      check.key.reserve(prefix.size() + what.size() + window.size());
      check.key.assign(prefix).append(what).append(window);
      check.on_store_failure = ToStorePolicy(policy.on_store_failure);
      out.meta.push_back({role, count, static_cast<uint16_t>(i)});
      return check;
    };
    if (policy.requests.limit > 0) {
      Check& c = add("req", {}, CheckRole::kRequests, TokenCount::kTotal);
      c.kind = CounterKind::kRate;
      c.limit = policy.requests.limit;
      c.period_us = policy.requests.period.count() * 1000;
      c.burst = policy.requests.burst > 0 ? policy.requests.burst : policy.requests.limit;
      c.amount = 1;
    }
    if (policy.tokens.limit > 0) {
      Check& c = add("tok", {}, CheckRole::kTokens, policy.token_count);
      c.kind = CounterKind::kRate;
      c.limit = policy.tokens.limit;
      c.period_us = policy.tokens.period.count() * 1000;
      c.burst = policy.tokens.burst > 0 ? policy.tokens.burst : policy.tokens.limit;
      // A request larger than the whole capacity never passes (429 "larger than the limit
      // allows", without Retry-After), as OpenAI answers "Request too large".
      c.amount = TokensFor(policy.token_count, estimate);
    }
    if (policy.concurrency > 0) {
      Check& c = add("conc", {}, CheckRole::kConcurrency, TokenCount::kTotal);
      c.kind = CounterKind::kConcurrency;
      c.limit = policy.concurrency;
      c.amount = 1;
    }
    for (const BudgetSpec& budget : policy.budgets) {
      WindowUnit unit = budget.period == BudgetPeriod::kDay    ? WindowUnit::kDay
                        : budget.period == BudgetPeriod::kWeek ? WindowUnit::kWeek
                                                               : WindowUnit::kMonth;
      const CalendarWindow& window = CachedWindowContaining(zone_, unit, now_us);
      Check& c = add(budget.money ? "usd:" : "tok:", window.label(),
                     budget.money ? CheckRole::kBudgetMoney : CheckRole::kBudgetTokens,
                     TokenCount::kTotal);
      c.kind = CounterKind::kBudget;
      c.limit = budget.limit;
      c.window_end_us = window.end_us;
      c.amount = budget.money ? estimate.cost_micro_usd : TokensFor(TokenCount::kTotal, estimate);
      c.on_store_failure = ToStorePolicy(policy.budget_on_store_failure);
    }
  }
  // Limits stored with the caller's API key (null for every other caller).
  if (const Principal* who = ctx.principal.get(); who != nullptr && who->key_limits) {
    std::string_view key_id = who->key_id.empty() ? std::string_view(who->id) : who->key_id;
    ApplyKeyOverrides(*who->key_limits, key_id, config_.policies, zone_, estimate, now_us, out);
  }
}

const LimitPolicyConfig& LimitPlan::policy(size_t index) const {
  return index < config_.policies.size() ? config_.policies[index] : KeyOverridePolicy();
}

int64_t LimitPlan::Actual(const PlannedChecks::Meta& meta, int64_t prompt_tokens,
                          int64_t completion_tokens, int64_t cost_micro_usd) {
  switch (meta.role) {
    case CheckRole::kTokens:
      switch (meta.token_count) {
        case TokenCount::kPrompt:
          return prompt_tokens;
        case TokenCount::kCompletion:
          return completion_tokens;
        default:
          return prompt_tokens + completion_tokens;
      }
    case CheckRole::kBudgetTokens:
      return prompt_tokens + completion_tokens;
    case CheckRole::kBudgetMoney:
      return cost_micro_usd;
    default:
      return 0;
  }
}

}  // namespace sluice::limits
