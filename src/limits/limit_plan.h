// Turns the limit policies of a configuration into the counters one request is checked
// against: which policies apply (models, tiers, routes), the subject of each (per key,
// user, team, tier, model, route, client IP), and what the request charges each counter
// (1 request, an estimate of its tokens, an estimate of its cost, 1 slot in flight).
// Built once per configuration; immutable and thread-safe. The per-request output lives in
// the rate_limit filter.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/limits_config.h"
#include "core/request_context.h"
#include "limits/limiter_store.h"

namespace sluice::limits {
class TimeZone;
}

namespace sluice::limits {

// What a check counts, for settlement and for the x-ratelimit-* headers.
enum class CheckRole : uint8_t { kRequests, kTokens, kConcurrency, kBudgetTokens, kBudgetMoney };

// One request's estimate, made before it is sent upstream.
struct RequestEstimate {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;  // the reservation (max_tokens or the default)
  int64_t cost_micro_usd = 0;
};

// The checks of one request, in decision order, with what each is for.
struct PlannedChecks {
  std::vector<Check> checks;
  struct Meta {
    CheckRole role = CheckRole::kRequests;
    TokenCount token_count = TokenCount::kTotal;
    uint16_t policy = 0;  // index into the plan's policies
  };
  std::vector<Meta> meta;
  void Clear() {
    checks.clear();
    meta.clear();
  }
};

class LimitPlan {
 public:
  LimitPlan(const LimitsConfig& config, const limits::TimeZone& zone);

  bool empty() const { return config_.policies.empty(); }
  const LimitPolicyConfig& policy(size_t index) const { return config_.policies[index]; }

  // Appends the checks `ctx` must pass: at most kMaxChecks, since the loader refuses
  // policies defining more counters than that in all. `now_us` is wall time (budgets).
  void Build(RequestContext& ctx, const RequestEstimate& estimate, int64_t now_us,
             PlannedChecks& out) const;

  // What a check's amount should have been, given the request's final usage.
  static int64_t Actual(const PlannedChecks::Meta& meta, int64_t prompt_tokens,
                        int64_t completion_tokens, int64_t cost_micro_usd);

 private:
  bool Applies(const LimitPolicyConfig& policy, RequestContext& ctx) const;
  // "key=key_ab|model=gpt-4o"; false when a subject is missing (no key, no team...).
  static bool Subject(const LimitPolicyConfig& policy, RequestContext& ctx, std::string& out);

  const LimitsConfig& config_;
  const limits::TimeZone& zone_;
};

}  // namespace sluice::limits
