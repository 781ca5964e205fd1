// The rate_limit filter's StreamBudget (core/stream_budget.h): a stream admitted with a
// reservation of N completion tokens may deliver more only if the budgets whose policy says
// `on_budget_exceeded: cut` grant the extra tokens first. Each extension is one
// all-or-nothing decision of the counter store over those budget counters (tokens, or the
// money the extra output tokens cost at the model's price), so concurrent streams can never
// take a budget past its limit together; when a counter has less left than asked, the
// stream gets exactly what is left, then nothing: the relay cuts it (budget_exceeded).
// The extra charges are added to the filter's planned checks, so settlement with the real
// usage refunds or charges only the difference. One per filter (per request); not
// thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/stream_budget.h"
#include "limits/limit_plan.h"
#include "limits/limiter_store.h"

namespace sluice {
struct ModelConfig;
}
namespace sluice::limits {
class LimitsRuntime;
}

namespace sluice::filters {

class BudgetExtension final : public StreamBudget {
 public:
  explicit BudgetExtension(limits::LimitsRuntime& runtime) : runtime_(runtime) {}

  // After an admission: remembers which of `planned`'s checks are budgets of policies that
  // cut streams. False when there are none (the stream needs no watching). `planned` must
  // outlive the request's stream.
  bool Arm(limits::PlannedChecks& planned, const ModelConfig* model,
           const limits::RequestEstimate& estimate);

  boost::asio::awaitable<int64_t> Extend(RequestContext& ctx, int64_t wanted) override;

 private:
  // What `tokens` more completion tokens cost on top of what is charged already.
  int64_t MoneyFor(int64_t tokens) const;
  // Sets asks_ to the armed budget counters, each charged for `tokens` more tokens.
  void FillAsks(int64_t tokens);
  // After a refusal: the most tokens (< asked) the refusing counter still has room for.
  int64_t StillGrantable(const limits::Decision& refusal, int64_t asked) const;

  limits::LimitsRuntime& runtime_;
  limits::PlannedChecks* planned_ = nullptr;
  const ModelConfig* model_ = nullptr;
  int64_t prompt_tokens_ = 0;
  int64_t completion_charged_ = 0;  // the reservation plus every extension granted
  std::array<uint8_t, limits::kMaxChecks> budgets_{};  // indexes into planned_->checks
  size_t budget_count_ = 0;
  std::vector<limits::Check> asks_;  // only used by streams past their reservation
};

}  // namespace sluice::filters
