// The Lua scripts of the Redis limiter store (limits/redis_limiter_store): one decision per
// EVALSHA of DecideScript() (every check of a request, all-or-nothing, atomically inside
// Redis) and settlement by AdjustScript(). They implement the arithmetic of limits/gcra.h
// and of LocalLimiterStore exactly; redis_limiter_store_test checks them against it.
// Built once (function-local statics); thread-safe.
//
// Calling convention (both scripts): KEYS = the checks' keys, in order; ARGV[2] = the
// numbers now_us, concurrency_lease_ms, budget_slack_ms, then 6 per check: kind (0 rate,
// 1 concurrency, 2 budget), limit, period_us, burst, window_end_us, amount (Adjust: the
// delta), each a little-endian IEEE double (Lua's numbers; exact below 2^53), and ARGV[1]
// their struct.unpack format ("<" and one "d" per number): one C call instead of a
// tonumber() per number. DecideScript() returns {allowed 0|1, denied index (0-based, -1),
// retry_after_us (-1: never), then remaining and reset_us per check}.
#pragma once

#include <string_view>

namespace sluice::limits {

std::string_view DecideScript();
std::string_view AdjustScript();

}  // namespace sluice::limits
