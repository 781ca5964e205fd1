// A key's own limits (core/key_limits.h: requests and tokens per minute, concurrency, a
// money and a token budget, set through the admin API) applied to the checks LimitPlan
// built for one request. The rule (docs/limits.md, "Per-key overrides"): each value
// replaces the corresponding limit of every applying policy whose `per` includes `key`
// (a budget replaces those policies' budgets of its kind, window included); a value no such
// policy counts is enforced by the implicit policy `key`, scoped per key. Stateless;
// thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "config/limits_config.h"
#include "core/key_limits.h"
#include "limits/limit_plan.h"

namespace sluice::limits {

class TimeZone;

// Counters a key's overrides can add to a request: requests, tokens, concurrency and two
// budgets. The loader keeps this many of a decision's kMaxChecks free for them.
inline constexpr size_t kMaxKeyOverrideCounters = 5;

// The implicit policy named `key` (per key; streams are cut at its budgets; rates fall back
// locally and budgets fail closed when Redis is unreachable, as configured policies default).
const LimitPolicyConfig& KeyOverridePolicy();

// Rewrites and extends `out` (the request's checks, their policies indexing `policies`) by
// `limits`. `key_id` names the key in counter names; `key_policy` is the index
// KeyOverridePolicy() has in the plan (policies.size()). `now_us` is wall time (budgets).
void ApplyKeyOverrides(const KeyLimits& limits, std::string_view key_id,
                       const std::vector<LimitPolicyConfig>& policies, const TimeZone& zone,
                       const RequestEstimate& estimate, int64_t now_us, PlannedChecks& out);

}  // namespace sluice::limits
