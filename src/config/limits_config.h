// The traffic-control settings of a configuration (the limits: section) as plain data:
// where counters live (in process or Redis), the limit policies (requests, tokens,
// concurrency and budgets per key, user, team, tier, model, route or client IP), the
// calendar of budgets and the repeat-offender block. Prices live on the models (price:,
// read into limits::ModelPrice by ReadModelPrice).
// Immutable after load; thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice {

// What a policy counts per: each request is charged on the counter of its subject tuple,
// e.g. per [key, model] gives every key its own counter for every model.
enum class LimitSubject : uint8_t { kKey, kUser, kTeam, kTier, kModel, kRoute, kClientIp };

// Which tokens a token limit counts.
enum class TokenCount : uint8_t { kPrompt, kCompletion, kTotal };

enum class BudgetPeriod : uint8_t { kDay, kWeek, kMonth };

// When the shared store (Redis) cannot be reached (mirrors limits::OnStoreFailure).
enum class StoreFailurePolicy : uint8_t { kLocalFallback, kFailOpen, kFailClosed };

// A stream that reaches a hard budget: cut at the cap (SSE error event budget_exceeded,
// upstream aborted) or let the already admitted response finish.
enum class BudgetAction : uint8_t { kCut, kFinish };

struct RateSpec {
  int64_t limit = 0;  // units per period; 0: not limited
  std::chrono::milliseconds period{60'000};
  int64_t burst = 0;  // units admitted at once; 0: = limit
};

struct BudgetSpec {
  bool money = false;  // true: micro-dollars (configured in USD); false: tokens
  int64_t limit = 0;
  BudgetPeriod period = BudgetPeriod::kMonth;
};

struct LimitPolicyConfig {
  int line = 0;
  std::string name;
  std::vector<LimitSubject> per;  // empty: one counter for everything the policy matches
  // Which requests the policy applies to (empty: all).
  std::vector<std::string> models;  // model names or globs ("gpt-4o*")
  std::vector<std::string> tiers;
  std::vector<std::string> routes;  // "chat", "completions", "embeddings"
  RateSpec requests;
  RateSpec tokens;
  TokenCount token_count = TokenCount::kTotal;
  int64_t concurrency = 0;  // max in flight; 0: not limited
  std::vector<BudgetSpec> budgets;
  BudgetAction on_budget_exceeded = BudgetAction::kCut;
  StoreFailurePolicy on_store_failure = StoreFailurePolicy::kLocalFallback;  // rates
  StoreFailurePolicy budget_on_store_failure = StoreFailurePolicy::kFailClosed;
};

struct RepeatOffenderConfig {
  int64_t rejections = 0;  // this many 429s within `window` block the subject; 0: off
  std::chrono::milliseconds window{60'000};
  std::chrono::milliseconds block{300'000};
};

struct RedisConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  int db = 0;
  std::string password;  // resolved from password_env; never logged
  std::string password_env;
  std::chrono::milliseconds timeout{50};
  int instances = 1;  // gateways sharing Redis: local fallback enforces ceil(limit / instances)
};

// Counters all policies together may define: a decision's limits::kMaxChecks (16) less the
// 5 a key's own limits may add (limits::kMaxKeyOverrideCounters; checked in limit_plan.cc).
inline constexpr size_t kMaxLimitCounters = 11;

struct LimitsConfig {
  bool configured = false;  // a limits: section is present
  bool redis = false;       // store: redis (else in process)
  RedisConfig redis_config;
  std::string timezone = "UTC";       // budget calendars ("UTC", "+08:00", "Europe/Paris")
  int64_t default_max_tokens = 1024;  // completion reservation when a request sets none
  RepeatOffenderConfig repeat_offenders;
  std::vector<LimitPolicyConfig> policies;
};

}  // namespace sluice
