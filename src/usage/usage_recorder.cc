// UsageRecorder: RequestContext → UsageRecord → journal.
#include "usage/usage_recorder.h"

#include "config/snapshot.h"
#include "limits/limits_runtime.h"
#include "limits/token_estimator.h"
#include "usage/usage_journal.h"

namespace sluice {
namespace {

int64_t Millis(SteadyTime from, SteadyTime to) {
  if (from == SteadyTime{} || to == SteadyTime{} || to < from) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

}  // namespace

UsageRecord UsageRecorder::Build(RequestContext& ctx, SteadyTime end) {
  UsageRecord r;
  r.request_id = ctx.request_id;
  r.time_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.wall_start.time_since_epoch())
          .count();
  if (const Principal* who = ctx.principal.get()) {
    r.key_id = who->key_id;
    r.user_id = who->user_id;
    r.team_id = who->team_id;
  }
  const ModelConfig* model = ctx.resolved_model();  // a split's arm: its price is charged
  const ModelConfig* asked = ctx.split_model != nullptr ? ctx.split_model : model;
  r.model_requested = asked != nullptr ? asked->name : std::string(ctx.requested_model);
  r.experiment_arm = std::string(ctx.experiment_arm);
  r.model_served = std::string(ctx.upstream_model);
  r.backend = std::string(ctx.backend);
  bool reached_upstream = ctx.upstream_sent != SteadyTime{};
  if (ctx.usage.known) {
    r.prompt_tokens = ctx.usage.prompt_tokens;
    r.completion_tokens = ctx.usage.completion_tokens;
    r.cached_tokens = ctx.usage.cached_tokens;
    r.tokens_estimated = ctx.usage.estimated;  // counted by the gateway (a cut stream)
  } else if (reached_upstream) {
    // No usage from the upstream (it broke off, or does not report it): estimate.
    r.tokens_estimated = true;
    if (const boost::json::object* body = ctx.JsonBody()) {
      r.prompt_tokens = limits::EstimateTokens(*body, 0).prompt;
    }
    r.completion_tokens = static_cast<int64_t>(ctx.bytes_out / 4);
  }
  r.cost_micros = limits::LimitsRuntime::CostMicroUsd(model, r.prompt_tokens, r.cached_tokens,
                                                      r.completion_tokens);
  r.status = ctx.status;
  if (ctx.error != ErrorClass::kNone) r.error_class = std::string(Describe(ctx.error).name);
  r.latency_ms = Millis(ctx.start, end);
  SteadyTime first = ctx.stream ? ctx.upstream_first_byte : ctx.first_byte_sent;
  if (first == SteadyTime{}) first = ctx.upstream_first_byte;
  r.ttft_ms = Millis(ctx.start, first);
  r.stream = ctx.stream;
  r.client_disconnected = ctx.error == ErrorClass::kClientClosed;
  return r;
}

boost::asio::awaitable<bool> UsageRecorder::RecordDurable(RequestContext& ctx) {
  ctx.usage_recorded = true;
  UsageRecord record = Build(ctx, std::chrono::steady_clock::now());
  bool ok = co_await journal_.AppendDurable(std::move(record));
  co_return ok;
}

void UsageRecorder::RecordLate(RequestContext& ctx) {
  if (ctx.usage_recorded || !Wants(ctx)) return;
  ctx.usage_recorded = true;
  SteadyTime end = ctx.end != SteadyTime{} ? ctx.end : std::chrono::steady_clock::now();
  journal_.Append(Build(ctx, end));
}

}  // namespace sluice
