// BudgetExtension: extra completion tokens for a stream, granted by its budgets.
#include "filters/rate_limit/budget_extension.h"

#include <algorithm>
#include <optional>

#include "config/snapshot.h"
#include "core/request_context.h"
#include "limits/limits_runtime.h"

namespace sluice::filters {
namespace {

using limits::CheckRole;

// A decision about extra tokens retries with what the refusing counter has left; a few
// rounds settle it even when concurrent streams take the same remainder meanwhile.
constexpr int kMaxRounds = 4;

int64_t NowMicros(const RequestContext& ctx) {
  WallTime wall = ctx.WallAt(std::chrono::steady_clock::now());
  return std::chrono::duration_cast<std::chrono::microseconds>(wall.time_since_epoch()).count();
}

}  // namespace

bool BudgetExtension::Arm(limits::PlannedChecks& planned, const ModelConfig* model,
                          const limits::RequestEstimate& estimate) {
  budget_count_ = 0;
  for (size_t i = 0; i < planned.checks.size() && i < planned.meta.size(); ++i) {
    const auto& meta = planned.meta[i];
    if (meta.role != CheckRole::kBudgetTokens && meta.role != CheckRole::kBudgetMoney) continue;
    if (runtime_.plan().policy(meta.policy).on_budget_exceeded != BudgetAction::kCut) continue;
    budgets_[budget_count_++] = static_cast<uint8_t>(i);
  }
  if (budget_count_ == 0) return false;
  planned_ = &planned;
  model_ = model;
  prompt_tokens_ = estimate.prompt_tokens;
  completion_charged_ = estimate.completion_tokens;
  return true;
}

int64_t BudgetExtension::MoneyFor(int64_t tokens) const {
  // The difference of two totals, so that the extensions add up to exactly the cost of the
  // whole completion (each total is rounded up once, not each step).
  return limits::LimitsRuntime::CostMicroUsd(model_, prompt_tokens_, 0,
                                             completion_charged_ + tokens) -
         limits::LimitsRuntime::CostMicroUsd(model_, prompt_tokens_, 0, completion_charged_);
}

void BudgetExtension::FillAsks(int64_t tokens) {
  asks_.resize(budget_count_);
  for (size_t j = 0; j < budget_count_; ++j) {
    size_t i = budgets_[j];
    asks_[j] = planned_->checks[i];
    asks_[j].amount = planned_->meta[i].role == CheckRole::kBudgetMoney ? MoneyFor(tokens) : tokens;
  }
}

int64_t BudgetExtension::StillGrantable(const limits::Decision& refusal, int64_t asked) const {
  if (refusal.denied < 0 || static_cast<size_t>(refusal.denied) >= budget_count_) return 0;
  int64_t left = refusal.counters[static_cast<size_t>(refusal.denied)].remaining;
  size_t i = budgets_[static_cast<size_t>(refusal.denied)];
  int64_t most = asked - 1;
  if (planned_->meta[i].role != CheckRole::kBudgetMoney) return std::clamp<int64_t>(left, 0, most);
  // The most tokens whose extra cost fits in what is left (cost grows with tokens).
  int64_t low = 0;
  while (low < most) {
    int64_t mid = (low + most + 1) / 2;
    if (MoneyFor(mid) <= left) {
      low = mid;
    } else {
      most = mid - 1;
    }
  }
  return low;
}

boost::asio::awaitable<int64_t> BudgetExtension::Extend(RequestContext& ctx, int64_t wanted) {
  if (planned_ == nullptr || wanted <= 0) co_return 0;
  limits::LimiterStore& store = runtime_.store();
  int64_t tokens = wanted;
  for (int round = 0; round < kMaxRounds && tokens > 0; ++round) {
    FillAsks(tokens);
    int64_t now_us = NowMicros(ctx);
    std::optional<limits::Decision> decided = store.AcquireNow(asks_, now_us);
    if (!decided) decided = co_await store.Acquire(asks_, now_us);
    if (decided->allowed) {
      for (size_t j = 0; j < budget_count_; ++j) {
        planned_->checks[budgets_[j]].amount += asks_[j].amount;
      }
      completion_charged_ += tokens;
      co_return tokens;
    }
    if (decided->fallback != nullptr) co_return 0;  // the store is down and fails closed
    tokens = StillGrantable(*decided, tokens);
  }
  co_return 0;
}

}  // namespace sluice::filters
