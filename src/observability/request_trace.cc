// Request tracing: trace identity at the start, spans at the end.
#include "observability/request_trace.h"

#include "observability/redactor.h"
#include "observability/worker_metrics.h"

namespace sluice {
namespace {

TraceId ToTraceId(const std::array<uint8_t, 16>& bytes) { return TraceId{bytes}; }
SpanId ToSpanId(const std::array<uint8_t, 8>& bytes) { return SpanId{bytes}; }

// Takes a valid incoming traceparent into ctx.trace; false when there is none.
bool TakeIncoming(RequestContext& ctx, TraceParent& parent) {
  std::string_view header = ctx.request().headers.Get("traceparent");
  if (header.empty() || !ParseTraceparent(header, parent)) return false;
  ctx.trace.trace_id = parent.trace_id.bytes;
  ctx.trace.parent_span_id = parent.parent_id.bytes;
  ctx.trace.has_parent = true;
  ctx.trace.valid = true;
  std::string_view state = ctx.request().headers.Get("tracestate");
  if (!state.empty() && ValidTracestate(state)) ctx.trace.tracestate = state;
  return true;
}

int64_t UnixNanos(const RequestContext& ctx, SteadyTime at) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(ctx.WallAt(at).time_since_epoch())
      .count();
}

std::string_view HttpRoute(RouteKind route) {
  switch (route) {
    case RouteKind::kChatCompletions:
      return "/v1/chat/completions";
    case RouteKind::kCompletions:
      return "/v1/completions";
    case RouteKind::kEmbeddings:
      return "/v1/embeddings";
    case RouteKind::kListModels:
      return "/v1/models";
    case RouteKind::kRetrieveModel:
      return "/v1/models/{model}";
    case RouteKind::kUsage:
      return "/v1/usage";
    default:
      return RouteLabel(route);
  }
}

// gen_ai.operation.name of a model route.
std::string_view Operation(RouteKind route) {
  switch (route) {
    case RouteKind::kChatCompletions:
      return "chat";
    case RouteKind::kCompletions:
      return "text_completion";
    case RouteKind::kEmbeddings:
      return "embeddings";
    default:
      return {};
  }
}

void AddUsage(SpanRecord& span, const RequestContext& ctx) {
  if (!ctx.usage.known) return;
  span.Add("gen_ai.usage.input_tokens", ctx.usage.prompt_tokens);
  span.Add("gen_ai.usage.output_tokens", ctx.usage.completion_tokens);
}

}  // namespace

Tracer::Tracer(std::unique_ptr<OtlpExporter> exporter, double sample_ratio)
    : exporter_(std::move(exporter)), sampler_(sample_ratio) {}

void Tracer::Begin(RequestContext& ctx) const {
  IdGenerator& ids = ThreadIds();
  TraceParent parent;
  if (TakeIncoming(ctx, parent)) {
    ctx.trace.sampled = sampler_.ShouldSample(&parent, parent.trace_id);
  } else {
    TraceId id = ids.NewTraceId();
    ctx.trace.trace_id = id.bytes;
    ctx.trace.valid = true;
    ctx.trace.sampled = sampler_.ShouldSample(nullptr, id);
  }
  ctx.trace.span_id = ids.NewSpanId().bytes;
  ctx.trace.upstream_sampled = ctx.trace.sampled;
}

void Tracer::Finish(const RequestContext& ctx) {
  if (!ctx.trace.sampled) return;
  exporter_->Submit(BuildRequestSpans(ctx));
}

void ContinueIncomingTrace(RequestContext& ctx) {
  TraceParent parent;
  if (!TakeIncoming(ctx, parent)) return;
  // Not traced here: the upstream continues the caller's span with the caller's decision.
  ctx.trace.span_id = parent.parent_id.bytes;
  ctx.trace.upstream_sampled = parent.sampled;
}

void SetUpstreamTraceHeaders(const RequestContext& ctx, const std::array<uint8_t, 8>& span,
                             HeaderBlock& headers) {
  if (!ctx.trace.valid) return;
  thread_local std::string value;
  value.clear();
  FormatTraceparent(ToTraceId(ctx.trace.trace_id), ToSpanId(span), ctx.trace.upstream_sampled,
                    value);
  // The first attempt appends (the block was cleared for this request); a retry replaces
  // what the previous attempt set (Set scans the block, so it is kept off the common path).
  if (ctx.attempts == 0) {
    headers.Add(HeaderName("traceparent"), value);
    if (!ctx.trace.tracestate.empty()) headers.Add(HeaderName("tracestate"), ctx.trace.tracestate);
  } else {
    headers.Set("traceparent", value);
    if (!ctx.trace.tracestate.empty()) headers.Set("tracestate", ctx.trace.tracestate);
  }
}

std::array<uint8_t, 8> NewAttemptSpanId() { return ThreadIds().NewSpanId().bytes; }

char* WriteTraceIdHex(const RequestContext& ctx, char* out) {
  return ctx.trace.valid ? WriteHex(out, ToTraceId(ctx.trace.trace_id)) : out;
}

std::vector<SpanRecord> BuildRequestSpans(const RequestContext& ctx) {
  std::vector<SpanRecord> spans;
  spans.reserve(2 + ctx.filter_wait_count + ctx.attempt_trace_count);
  const TraceId trace_id = ToTraceId(ctx.trace.trace_id);
  const SpanId request_span = ToSpanId(ctx.trace.span_id);
  const std::string_view operation = Operation(ctx.route);

  SpanRecord& request = spans.emplace_back();
  request.trace_id = trace_id;
  request.span_id = request_span;
  if (ctx.trace.has_parent) request.parent_span_id = ToSpanId(ctx.trace.parent_span_id);
  request.kind = SpanKind::kServer;
  request.name = std::string(ctx.request().method_text);
  request.name.push_back(' ');
  request.name.append(HttpRoute(ctx.route));
  request.start_unix_nanos = UnixNanos(ctx, ctx.start);
  request.end_unix_nanos = UnixNanos(ctx, ctx.end);
  request.Add("http.request.method", ctx.request().method_text);
  request.Add("http.route", HttpRoute(ctx.route));
  // The path and the model name are the client's text: redacted like the access log's.
  request.Add("url.path", Redacted(ctx.request().path));
  request.Add("http.response.status_code", ctx.status);
  if (!ctx.client_ip.empty()) request.Add("client.address", ctx.client_ip);
  request.Add("sluice.request_id", ctx.request_id);
  request.Add("sluice.config_version", static_cast<int64_t>(ctx.config_version));
  if (!operation.empty()) request.Add("gen_ai.operation.name", operation);
  if (!ctx.requested_model.empty()) {
    request.Add("gen_ai.request.model", Redacted(ctx.requested_model));
  }
  if (!ctx.upstream_model.empty()) request.Add("gen_ai.response.model", ctx.upstream_model);
  if (!ctx.backend.empty()) request.Add("sluice.backend", ctx.backend);
  if (ctx.stream) request.Add("gen_ai.request.stream", true);  // not in the spec; kept explicit
  if (ctx.attempts > 1) request.Add("sluice.retries", static_cast<int64_t>(ctx.attempts - 1));
  if (!ctx.experiment_arm.empty()) request.Add("sluice.experiment_arm", ctx.experiment_arm);
  if (!ctx.limit_outcome.empty()) request.Add("sluice.limit", ctx.limit_outcome);
  AddUsage(request, ctx);
  if (ctx.error != ErrorClass::kNone) {
    request.Add("error.type", Describe(ctx.error).name);
    // OTel HTTP conventions: a server span is an error for 5xx only.
    if (ctx.status >= 500) {
      request.error = true;
      request.status_message = std::string(Describe(ctx.error).name);
    }
  }

  for (size_t i = 0; i < ctx.filter_wait_count; ++i) {
    const FilterWait& wait = ctx.filter_waits[i];
    SpanRecord& span = spans.emplace_back();
    span.trace_id = trace_id;
    span.span_id = ThreadIds().NewSpanId();
    span.parent_span_id = request_span;
    span.kind = SpanKind::kInternal;
    span.name = "filter ";
    span.name.append(wait.filter);
    span.start_unix_nanos = UnixNanos(ctx, wait.start);
    span.end_unix_nanos = UnixNanos(ctx, wait.end);
    span.Add("sluice.filter", wait.filter);
  }

  for (size_t i = 0; i < ctx.attempt_trace_count; ++i) {
    const AttemptTrace& attempt = ctx.attempt_traces[i];
    bool last = i + 1 == ctx.attempt_trace_count;
    SpanRecord& span = spans.emplace_back();
    span.trace_id = trace_id;
    span.span_id = ToSpanId(attempt.span_id);
    span.parent_span_id = request_span;
    span.kind = SpanKind::kClient;
    span.name = operation.empty() ? std::string("upstream") : std::string(operation);
    span.name.push_back(' ');
    span.name.append(attempt.upstream_model);
    span.start_unix_nanos = UnixNanos(ctx, attempt.start);
    SteadyTime end = attempt.end != SteadyTime{} ? attempt.end : ctx.end;
    span.end_unix_nanos = UnixNanos(ctx, end);
    if (!operation.empty()) span.Add("gen_ai.operation.name", operation);
    span.Add("gen_ai.system", "openai");
    span.Add("gen_ai.request.model", attempt.upstream_model);
    span.Add("sluice.backend", attempt.backend);
    span.Add("sluice.retry", static_cast<int64_t>(i));
    if (attempt.status != 0) span.Add("http.response.status_code", attempt.status);
    if (last) AddUsage(span, ctx);
    if (attempt.error != ErrorClass::kNone || attempt.status >= 400) {
      span.error = true;
      std::string_view type = attempt.error != ErrorClass::kNone ? Describe(attempt.error).name
                                                                 : std::string_view("http_error");
      span.Add("error.type", type);
      span.status_message = std::string(type);
    }
    if (last && attempt.stream && ctx.first_event_sent != SteadyTime{}) {
      SpanRecord& stream = spans.emplace_back();
      stream.trace_id = trace_id;
      stream.span_id = ThreadIds().NewSpanId();
      stream.parent_span_id = ToSpanId(attempt.span_id);
      stream.kind = SpanKind::kInternal;
      stream.name = "stream";
      stream.start_unix_nanos = UnixNanos(ctx, ctx.first_event_sent);
      stream.end_unix_nanos = UnixNanos(ctx, ctx.end);
      AddUsage(stream, ctx);
      if (ctx.error != ErrorClass::kNone) {
        stream.error = true;
        stream.status_message = std::string(Describe(ctx.error).name);
        stream.Add("error.type", Describe(ctx.error).name);
      }
    }
  }
  return spans;
}

}  // namespace sluice
