// Reads how long an upstream asked us to wait before trying again, from the headers of a
// 429/503 response: `retry-after-ms` (OpenAI, Azure), `Retry-After` (delay-seconds or an
// HTTP-date, RFC 9110 §10.2.3) and OpenAI's `x-ratelimit-reset-requests` /
// `x-ratelimit-reset-tokens` ("1s", "6m0s", "20ms", Go duration syntax). Upstream bytes are
// untrusted: anything malformed is ignored (nullopt), never an error; hints are capped at
// kMaxRetryHint. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "core/clock.h"

namespace sluice::routing {

inline constexpr Duration kMaxRetryHint = std::chrono::hours(24);

// "120" (seconds; a fraction is tolerated) or "Wed, 21 Oct 2015 07:28:00 GMT" (also the
// obsolete RFC 850 and asctime forms). A date in the past means 0.
std::optional<Duration> ParseRetryAfter(std::string_view value, WallTime now);
// "1500" or "1500.5" milliseconds.
std::optional<Duration> ParseRetryAfterMs(std::string_view value);
// Go duration syntax as OpenAI sends it: one or more <number>[.<fraction>]<unit>, units
// h, m, s, ms, us (or µs), ns. "6m0s", "1s", "20ms", "1.5s", "0s".
std::optional<Duration> ParseResetDuration(std::string_view value);

// The header values of one response (empty = absent).
struct RetryHintHeaders {
  std::string_view retry_after_ms;
  std::string_view retry_after;
  std::string_view reset_requests;      // x-ratelimit-reset-requests
  std::string_view reset_tokens;        // x-ratelimit-reset-tokens
  std::string_view remaining_requests;  // x-ratelimit-remaining-requests
  std::string_view remaining_tokens;    // x-ratelimit-remaining-tokens
};

// The wait the upstream asks for: retry-after-ms, else Retry-After, else the reset time of
// the exhausted limit(s) (remaining == 0; the longest if both), else, when the response does
// not say which limit was hit, the shorter of the two resets.
std::optional<Duration> ServerRetryHint(const RetryHintHeaders& headers, WallTime now);

}  // namespace sluice::routing
