// rate_limit filter: checks every model request against the limit policies of the limits:
// section (requests, tokens and concurrency per window, token and money budgets) in one
// all-or-nothing decision of the counter store, answers 429 in OpenAI's shape with
// Retry-After when a counter refuses (a refused request consumes no quota), adds OpenAI's
// x-ratelimit-* headers to every model response, and settles the token and money
// reservations with the real usage when the request completes (refund or extra charge;
// the concurrency slot is released, also on errors and disconnects). A stream that runs
// past its reservation is cut at the cap of a budget whose policy says `cut`
// (budget_extension.h). Repeat offenders are blocked for a cool-down. Factory immutable and
// thread-safe.
#pragma once

#include "core/filter.h"
#include "core/services.h"

namespace sluice::filters {

class RateLimitFilterFactory final : public FilterFactory {
 public:
  explicit RateLimitFilterFactory(const Services* services) : services_(services) {}
  std::string_view name() const override { return "rate_limit"; }
  std::unique_ptr<Filter> NewFilter() const override;

 private:
  const Services* services_;
};

// OpenAI's reset format: "20ms", "1s", "1.5s", "6m0s", "1h2m3s".
std::string FormatResetDuration(int64_t micros);

}  // namespace sluice::filters
