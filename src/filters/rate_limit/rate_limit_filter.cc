// rate_limit filter implementation: plan → decide → headers / 429 → settle.
#include "filters/rate_limit/rate_limit_filter.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <string_view>

#include "config/snapshot.h"
#include "core/recycled_allocation.h"
#include "filters/rate_limit/budget_extension.h"
#include "limits/gcra.h"
#include "limits/limits_runtime.h"
#include "limits/token_estimator.h"
#include "observability/worker_metrics.h"

namespace sluice::filters {
namespace {

using limits::CheckRole;
using limits::Decision;
using limits::LimitsRuntime;

int64_t WallMicrosAt(const RequestContext& ctx, SteadyTime at) {
  WallTime wall = ctx.WallAt(at);
  return std::chrono::duration_cast<std::chrono::microseconds>(wall.time_since_epoch()).count();
}

int64_t WallMicros(const RequestContext& ctx) {
  return WallMicrosAt(ctx, std::chrono::steady_clock::now());
}

// When the request completed: the HTTP layer sets ctx.end just before OnComplete (saves a
// clock read per request); the clock when it did not (a connection torn down).
int64_t CompletedWallMicros(const RequestContext& ctx) {
  return ctx.end != SteadyTime{} ? WallMicrosAt(ctx, ctx.end) : WallMicros(ctx);
}

// The credential a repeat offender is blocked by: its key, user, or else its address.
std::string_view OffenderSubject(const RequestContext& ctx) {
  if (ctx.principal) {
    if (!ctx.principal->key_id.empty()) return ctx.principal->key_id;
    return ctx.principal->id;
  }
  return ctx.client_ip;
}

// Room for any formatted int64_t or reset duration (at most 20 characters).
using FormatBuffer = std::array<char, 32>;

// FormatResetDuration (rate_limit_filter.h) into `buffer`: integer formatting only, no
// allocation (this runs for every model response).
std::string_view FormatResetDurationTo(int64_t micros, FormatBuffer& buffer) {
  char* out = buffer.data();
  char* const last = buffer.data() + buffer.size();
  auto put = [&](std::string_view text) {
    for (char c : text) *out++ = c;
  };
  auto put_integer = [&](int64_t value) { out = std::to_chars(out, last, value).ptr; };
  if (micros <= 0) {
    put("0s");
    return {buffer.data(), static_cast<size_t>(out - buffer.data())};
  }
  const int64_t ms = micros / 1000 + (micros % 1000 != 0);  // rounded up, without overflow
  if (ms < 1000) {
    put_integer(ms);
    put("ms");
  } else if (ms < 60'000) {
    put_integer(ms / 1000);
    if (int64_t fraction = ms % 1000; fraction != 0) {
      const char digits[3] = {static_cast<char>('0' + fraction / 100),
                              static_cast<char>('0' + fraction / 10 % 10),
                              static_cast<char>('0' + fraction % 10)};
      size_t length = 3;
      while (digits[length - 1] == '0') --length;
      put(".");
      put(std::string_view(digits, length));
    }
    put("s");
  } else {
    int64_t seconds = (ms + 999) / 1000;
    const int64_t hours = seconds / 3600;
    const int64_t minutes = (seconds % 3600) / 60;
    seconds %= 60;
    if (hours > 0) {
      put_integer(hours);
      put("h");
    }
    put_integer(minutes);
    put("m");
    put_integer(seconds);
    put("s");
  }
  return {buffer.data(), static_cast<size_t>(out - buffer.data())};
}

void AddRetryAfter(HeaderBlock& headers, int64_t retry_after_us) {
  int64_t ms = std::max<int64_t>(1, retry_after_us / 1000 + (retry_after_us % 1000 > 0));
  headers.Add(HeaderName("Retry-After"), (ms + 999) / 1000);
  headers.Add(HeaderName("retry-after-ms"), ms);
}

// Recycled: the filter is ~3 KiB (the plan's counter names are inline) and there is one
// per request.
class RateLimitFilter final : public Filter, public RecycledAllocation<RateLimitFilter> {
 public:
  explicit RateLimitFilter(LimitsRuntime& runtime) : runtime_(runtime) {}

  std::optional<Verdict> OnRequestNow(RequestContext& ctx) override {
    if (!IsModelRoute(ctx.route) || runtime_.plan().empty()) return Verdict::Continue();
    now_us_ = WallMicros(ctx);
    if (runtime_.offenders().enabled()) {
      int64_t until = runtime_.offenders().BlockedUntil(OffenderSubject(ctx), now_us_);
      if (until != 0) {
        ctx.limit_outcome = "blocked";
        if (WorkerMetrics* metrics = CurrentWorkerMetrics()) {
          metrics->CountLimiter(metrics->limiter_policies(), LimiterOutcome::kBlocked);
        }
        return Verdict::Reply(BlockedReply(until - now_us_));
      }
    }
    model_ = ctx.Model();
    if (model_ == nullptr) return Verdict::Continue();  // the gateway answers 404 later
    Estimate(ctx);
    runtime_.plan().Build(ctx, estimate_, now_us_, planned_);
    if (planned_.checks.empty()) return Verdict::Continue();
    if (planned_.checks.size() > limits::kMaxChecks) planned_.checks.resize(limits::kMaxChecks);
    std::optional<Decision> decision = runtime_.store().AcquireNow(planned_.checks, now_us_);
    if (!decision) return std::nullopt;  // a remote store: OnRequest awaits it
    return Apply(ctx, *decision);
  }

  boost::asio::awaitable<Verdict> OnRequest(RequestContext& ctx) override {
    Decision decision = co_await runtime_.store().Acquire(planned_.checks, now_us_);
    co_return Apply(ctx, decision);
  }

  void OnResponseHead(RequestContext& ctx, ResponseHead& head) override {
    (void)ctx;
    if (charged_) AddRateHeaders(head.headers);
  }

  void OnComplete(const RequestContext& ctx) override {
    if (!charged_) return;
    charged_ = false;
    Settle(ctx);
  }

 private:
  void Estimate(RequestContext& ctx) {
    const boost::json::object* body = ctx.JsonBody();
    if (body != nullptr) {
      limits::TokenEstimate tokens =
          limits::EstimateTokens(*body, runtime_.config().default_max_tokens);
      estimate_.prompt_tokens = tokens.prompt;
      estimate_.completion_tokens =
          ctx.route == RouteKind::kEmbeddings ? 0 : tokens.completion_reserve;
    }
    estimate_.cost_micro_usd = LimitsRuntime::CostMicroUsd(model_, estimate_.prompt_tokens, 0,
                                                           estimate_.completion_tokens);
  }

  Verdict Apply(RequestContext& ctx, const Decision& decision) {
    KeepTightest(decision);
    if (decision.fallback != nullptr) ctx.limit_fallback = decision.fallback;
    if (decision.allowed) {
      charged_ = true;
      ctx.limit_outcome = "allowed";
      CountPolicies(LimiterOutcome::kAllowed);
      // A stream may deliver its reserved completion tokens; past them, the budgets of
      // policies that cut streams must grant each extra token first (budget_extension.h).
      if (ctx.stream && extension_.Arm(planned_, model_, estimate_)) {
        ctx.stream_budget = &extension_;
        ctx.stream_token_allowance = estimate_.completion_tokens;
      }
      return Verdict::Continue();
    }
    if (decision.fallback != nullptr && std::string_view(decision.fallback) == "fail_closed") {
      ctx.limit_outcome = "unavailable";
      CountPolicies(LimiterOutcome::kUnavailable);
      LocalReply reply = ErrorReply(ErrorClass::kUnavailable,
                                    "Rate limiting is temporarily unavailable; try again shortly.");
      AddRetryAfter(reply.headers, 1'000'000);
      return Verdict::Reply(std::move(reply));
    }
    size_t denied = decision.denied >= 0 ? static_cast<size_t>(decision.denied) : 0;
    const limits::Check& check = planned_.checks[denied];
    const auto& meta = planned_.meta[denied];
    const LimitPolicyConfig& policy = runtime_.plan().policy(meta.policy);
    ctx.limit_outcome = "rejected";
    ctx.limit_policy = policy.name;
    if (WorkerMetrics* metrics = CurrentWorkerMetrics()) {
      metrics->CountLimiter(meta.policy, LimiterOutcome::kRejected);
    }
    bool budget = meta.role == CheckRole::kBudgetTokens || meta.role == CheckRole::kBudgetMoney;
    std::string message;
    switch (meta.role) {
      case CheckRole::kRequests:
        message = "Rate limit reached for requests";
        break;
      case CheckRole::kTokens:
        message = "Rate limit reached for tokens";
        break;
      case CheckRole::kConcurrency:
        message = "Too many requests in flight";
        break;
      case CheckRole::kBudgetTokens:
        message = "Token budget exhausted";
        break;
      case CheckRole::kBudgetMoney:
        message = "Spending budget exhausted";
        break;
    }
    message += " (policy '" + policy.name + "', limit " + std::to_string(check.limit);
    message += meta.role == CheckRole::kBudgetMoney ? " micro-USD)." : ").";
    int64_t retry_us = decision.retry_after_us;
    if (meta.role == CheckRole::kConcurrency) retry_us = 1'000'000;
    if (budget) retry_us = check.window_end_us - now_us_;
    if (retry_us > 0 && retry_us < limits::kNeverUs) {
      message += " Please try again in " + FormatResetDuration(retry_us) + ".";
    } else if (!budget) {
      message += " This request is larger than the limit allows.";
    }
    LocalReply reply =
        ErrorReply(budget ? ErrorClass::kQuotaExceeded : ErrorClass::kRateLimited, message);
    if (retry_us > 0 && retry_us < limits::kNeverUs) AddRetryAfter(reply.headers, retry_us);
    AddRateHeaders(reply.headers);
    runtime_.offenders().RecordRejection(OffenderSubject(ctx), now_us_);
    return Verdict::Reply(std::move(reply));
  }

  // Counts `outcome` once for every policy that checked this request (the checks of one
  // policy are adjacent in the plan).
  void CountPolicies(LimiterOutcome outcome) {
    WorkerMetrics* metrics = CurrentWorkerMetrics();
    if (metrics == nullptr) return;
    int last = -1;
    for (const auto& meta : planned_.meta) {
      if (meta.policy == last) continue;
      last = meta.policy;
      metrics->CountLimiter(meta.policy, outcome);
    }
  }

  LocalReply BlockedReply(int64_t remaining_us) {
    LocalReply reply = ErrorReply(ErrorClass::kRepeatOffender,
                                  "Too many requests were refused: this client is blocked for " +
                                      FormatResetDuration(remaining_us) +
                                      ". Respect Retry-After to avoid the block.");
    AddRetryAfter(reply.headers, remaining_us);
    return reply;
  }

  // Keeps the tightest request-rate and token-rate counters of `decision`, as OpenAI
  // reports them (rather than a copy of the whole ~400-byte Decision).
  void KeepTightest(const Decision& decision) {
    tightest_ = {};
    for (size_t i = 0; i < decision.count && i < planned_.meta.size(); ++i) {
      int slot = planned_.meta[i].role == CheckRole::kRequests ? 0
                 : planned_.meta[i].role == CheckRole::kTokens ? 1
                                                               : -1;
      if (slot < 0) continue;
      const limits::CounterState& state = decision.counters[i];
      if (!tightest_[slot] || state.remaining < tightest_[slot]->remaining) {
        tightest_[slot] = state;
      }
    }
  }

  void AddRateHeaders(HeaderBlock& headers) const {
    // Every model response carries these: constant names, values formatted on the stack.
    static constexpr HeaderName kNames[2][3] = {
        {HeaderName("x-ratelimit-limit-requests"), HeaderName("x-ratelimit-remaining-requests"),
         HeaderName("x-ratelimit-reset-requests")},
        {HeaderName("x-ratelimit-limit-tokens"), HeaderName("x-ratelimit-remaining-tokens"),
         HeaderName("x-ratelimit-reset-tokens")}};
    FormatBuffer buffer;
    for (int slot = 0; slot < 2; ++slot) {
      const std::optional<limits::CounterState>& state = tightest_[slot];
      if (!state) continue;
      // Add, not Set: upstream x-ratelimit-* headers are never forwarded (providers/openai),
      // and a reply built here has none yet.
      headers.Add(kNames[slot][0], state->limit);
      headers.Add(kNames[slot][1], state->remaining);
      headers.Add(kNames[slot][2], FormatResetDurationTo(state->reset_us, buffer));
    }
  }

  // Turns the reservation into the real charge: tokens and money by the usage the upstream
  // reported (or the estimate when it reported none), concurrency slots released.
  void Settle(const RequestContext& ctx) {
    bool reached_upstream = ctx.upstream_sent != SteadyTime{};
    int64_t prompt = 0, completion = 0, cached = 0;
    if (ctx.usage.known) {
      prompt = ctx.usage.prompt_tokens;
      completion = ctx.usage.completion_tokens;
      cached = ctx.usage.cached_tokens;
    } else if (reached_upstream) {
      prompt = estimate_.prompt_tokens;
      completion =
          std::min<int64_t>(estimate_.completion_tokens, static_cast<int64_t>(ctx.bytes_out / 4));
    }
    int64_t cost = LimitsRuntime::CostMicroUsd(model_, prompt, cached, completion);
    size_t kept = 0;
    for (size_t i = 0; i < planned_.checks.size(); ++i) {
      limits::Check& check = planned_.checks[i];
      const auto& meta = planned_.meta[i];
      int64_t delta = 0;
      if (meta.role == CheckRole::kConcurrency) {
        delta = -check.amount;
      } else if (meta.role != CheckRole::kRequests) {
        delta = limits::LimitPlan::Actual(meta, prompt, completion, cost) - check.amount;
      }
      if (delta == 0) continue;
      check.amount = delta;
      if (kept != i) planned_.checks[kept] = std::move(check);
      ++kept;
    }
    if (kept > 0) {
      runtime_.store().Adjust(std::span(planned_.checks.data(), kept), CompletedWallMicros(ctx));
    }
  }

  LimitsRuntime& runtime_;
  const ModelConfig* model_ = nullptr;
  int64_t now_us_ = 0;
  limits::RequestEstimate estimate_;
  limits::PlannedChecks planned_;
  BudgetExtension extension_{runtime_};
  std::array<std::optional<limits::CounterState>, 2> tightest_;  // [requests, tokens]
  bool charged_ = false;
};

}  // namespace

std::string FormatResetDuration(int64_t micros) {
  FormatBuffer buffer;
  return std::string(FormatResetDurationTo(micros, buffer));
}

std::unique_ptr<Filter> RateLimitFilterFactory::NewFilter() const {
  if (services_ == nullptr || services_->limits == nullptr) {
    // Without a limits: section there is nothing to enforce (config check refuses the
    // filter then, see registry.cc); never reached in a server.
    return std::make_unique<Filter>();
  }
  return std::make_unique<RateLimitFilter>(*services_->limits);
}

}  // namespace sluice::filters
