// RecordRequestMetrics: RequestContext → RequestSample.
#include "http/request_metrics.h"

#include "config/snapshot.h"
#include "limits/limits_runtime.h"

namespace sluice {
namespace {

int64_t Nanos(SteadyTime from, SteadyTime to) {
  if (from == SteadyTime{} || to == SteadyTime{} || to < from) return -1;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count();
}

}  // namespace

std::string_view ModelLabel(const RequestContext& ctx) {
  if (ctx.split_model != nullptr) return ctx.split_model->name;
  if (const ModelConfig* model = ctx.resolved_model()) return model->name;
  if (!ctx.requested_model.empty()) return "unknown";
  return {};
}

void RecordRequestMetrics(WorkerMetrics& metrics, const RequestContext& ctx) {
  RequestSample sample;
  sample.route = ctx.route;
  sample.model = ModelLabel(ctx);
  sample.backend = ctx.backend;
  const MetricsConfig& config = ctx.snapshot().observability.metrics;
  if (ctx.principal && (config.team_label || config.key_label)) {
    if (config.team_label) sample.team = ctx.principal->team_id;
    if (config.key_label) sample.key = ctx.principal->key_id;
  }
  sample.status = ctx.status;
  sample.error = ctx.error;
  sample.duration_ns = Nanos(ctx.start, ctx.end);
  if (sample.duration_ns < 0) sample.duration_ns = 0;
  sample.upstream_ns = Nanos(ctx.upstream_began, ctx.upstream_ended);
  if (ctx.stream) {
    sample.time_to_first_token_ns = Nanos(ctx.start, ctx.first_event_sent);
    if (ctx.usage.known && ctx.usage.completion_tokens > 1) {
      int64_t span = Nanos(ctx.first_event_sent, ctx.end);
      if (span >= 0) sample.time_per_output_token_ns = span / (ctx.usage.completion_tokens - 1);
    }
  }
  if (ctx.usage.known) {
    sample.input_tokens = ctx.usage.prompt_tokens;
    sample.output_tokens = ctx.usage.completion_tokens;
    sample.cached_tokens = ctx.usage.cached_tokens;
    sample.cost_micro_usd =
        limits::LimitsRuntime::CostMicroUsd(ctx.resolved_model(), ctx.usage.prompt_tokens,
                                            ctx.usage.cached_tokens, ctx.usage.completion_tokens);
  }
  sample.retries = ctx.attempts > 1 ? ctx.attempts - 1 : 0;
  sample.fell_back = ctx.fell_back;
  metrics.Observe(sample);
}

}  // namespace sluice
