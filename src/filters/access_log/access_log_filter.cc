// access_log filter: line formatting and the OnComplete hook.
#include "filters/access_log/access_log_filter.h"

#include <algorithm>
#include <ctime>

#include "core/json_text.h"
#include "observability/redactor.h"
#include "observability/request_trace.h"

namespace sluice::filters {
namespace {

// "2026-11-25T18:27:37.123Z". The part up to the seconds is formatted once per second per
// thread; only the milliseconds change between requests.
void AppendTimestamp(std::string& out, WallTime time) {
  thread_local int64_t cached_second = -1;
  thread_local char cached[24];
  auto since_epoch = time.time_since_epoch();
  int64_t millis_total = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count();
  int64_t second = millis_total / 1000;
  if (second != cached_second) {
    cached_second = second;
    std::time_t t = static_cast<std::time_t>(second);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
  }
  int millis = static_cast<int>(millis_total % 1000);
  const char tail[6] = {'.',
                        static_cast<char>('0' + millis / 100),
                        static_cast<char>('0' + millis / 10 % 10),
                        static_cast<char>('0' + millis % 10),
                        'Z',
                        '"'};
  out.push_back('"');
  out.append(cached, 19);
  out.append(tail, 6);
}

// ,"key": — the keys are fixed ASCII literals, so they need no escaping pass.
void AppendFieldKey(std::string& out, std::string_view key) {
  out.append(",\"");
  out.append(key);
  out.append("\":");
}

void AppendMillisField(std::string& out, std::string_view key, SteadyTime from, SteadyTime to) {
  AppendFieldKey(out, key);
  if (from == SteadyTime{} || to == SteadyTime{} || to < from) {
    out.append("null");
  } else {
    AppendMillis(out, std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
  }
}

void AppendStringField(std::string& out, std::string_view key, std::string_view value) {
  AppendFieldKey(out, key);
  if (value.empty()) {
    out.append("null");
  } else {
    AppendJsonString(out, value);
  }
}

// A field whose text the client chose (the path, the model name): a client can put a secret
// there (a key pasted as the model name, an address in a path) and would get it logged. One
// linear scan of a short string into a reused per-thread buffer: no allocation once warm.
void AppendRedactedStringField(std::string& out, std::string_view key, std::string_view value) {
  thread_local std::string redacted;
  Redact(value, redacted);
  AppendStringField(out, key, redacted);
}

void AppendIntField(std::string& out, std::string_view key, int64_t value) {
  AppendFieldKey(out, key);
  AppendDecimal(out, value);
}

// Prompt and completion text kept per line when a route logs payloads.
constexpr size_t kMaxPayloadBytes = 16 * 1024;

// Appends `"key":"<text redacted, capped>"`.
void AppendPayloadField(std::string& out, std::string_view key, std::string_view text) {
  thread_local std::string redacted;
  Redact(text.substr(0, kMaxPayloadBytes), redacted);
  if (text.size() > kMaxPayloadBytes) redacted.append("…[truncated]");
  AppendFieldKey(out, key);
  AppendJsonString(out, redacted);
}

class AccessLogFilter final : public Filter {
 public:
  AccessLogFilter(LineSink& sink, const std::vector<RouteKind>& payload_routes)
      : sink_(sink), payload_routes_(payload_routes) {}
  std::optional<Verdict> OnRequestNow(RequestContext&) override { return Verdict::Continue(); }
  void OnResponseBody(RequestContext& ctx, std::string& piece) override {
    if (completion_.size() < kMaxPayloadBytes + 1 && LogsPayloads(ctx)) {
      completion_.append(piece, 0, kMaxPayloadBytes + 1 - completion_.size());
    }
  }
  void OnComplete(const RequestContext& ctx) override {
    thread_local std::string line;
    FormatAccessLogLine(ctx, line);
    if (LogsPayloads(ctx)) {
      line.pop_back();  // "}\n": the payload fields go before the closing brace
      line.pop_back();
      AppendPayloadField(line, "prompt", ctx.request().body);
      AppendPayloadField(line, "completion", completion_);
      line.append("}\n");
    }
    sink_.Write(line);
  }

 private:
  bool LogsPayloads(const RequestContext& ctx) const {
    return !payload_routes_.empty() && std::find(payload_routes_.begin(), payload_routes_.end(),
                                                 ctx.route) != payload_routes_.end();
  }

  LineSink& sink_;
  const std::vector<RouteKind>& payload_routes_;
  std::string completion_;
};

}  // namespace

void FormatAccessLogLine(const RequestContext& ctx, std::string& out) {
  const HttpRequest& request = ctx.request();
  out.clear();
  out.append("{\"time\":");
  AppendTimestamp(out, ctx.wall_start);
  AppendStringField(out, "request_id", ctx.request_id);
  AppendStringField(out, "client", ctx.client_ip);
  AppendStringField(out, "method", request.method_text);
  // A known route's path is one of ours; others (and /v1/models/{id}) carry client text.
  bool client_path = ctx.route == RouteKind::kNotFound || ctx.route == RouteKind::kRetrieveModel;
  if (client_path) {
    AppendRedactedStringField(out, "path", request.path);
  } else {
    AppendStringField(out, "path", request.path);
  }
  AppendIntField(out, "status", ctx.status);
  // A model that resolved is a configured name or alias (matched exactly): not client text.
  if (ctx.resolved_model() != nullptr) {
    AppendStringField(out, "model", ctx.requested_model);
  } else {
    AppendRedactedStringField(out, "model", ctx.requested_model);
  }
  AppendStringField(out, "backend", ctx.backend);
  AppendStringField(out, "upstream_model", ctx.upstream_model);
  AppendStringField(out, "experiment_arm", ctx.experiment_arm);
  out.append(",\"upstream_status\":");
  if (ctx.upstream_status == 0) {
    out.append("null");
  } else {
    AppendDecimal(out, ctx.upstream_status);
  }
  out.append(",\"stream\":");
  out.append(ctx.stream ? "true" : "false");
  AppendMillisField(out, "latency_ms", ctx.start, ctx.end);
  AppendMillisField(out, "ttfb_ms", ctx.start, ctx.first_byte_sent);
  AppendMillisField(out, "upstream_ms", ctx.upstream_sent, ctx.upstream_first_byte);
  AppendIntField(out, "bytes_in", static_cast<int64_t>(ctx.bytes_in));
  AppendIntField(out, "bytes_out", static_cast<int64_t>(ctx.bytes_out));
  if (ctx.usage.known) {
    AppendIntField(out, "prompt_tokens", ctx.usage.prompt_tokens);
    AppendIntField(out, "completion_tokens", ctx.usage.completion_tokens);
    AppendIntField(out, "total_tokens", ctx.usage.total_tokens);
  } else {
    out.append(",\"prompt_tokens\":null,\"completion_tokens\":null,\"total_tokens\":null");
  }
  AppendStringField(out, "error", Describe(ctx.error).name);
  // Who called (ids and the key's display prefix only: never a secret). The common cases
  // (an anonymous caller, no limit applied, one attempt) append one literal each.
  if (const Principal* principal = ctx.principal.get()) {
    AppendStringField(out, "principal", principal->id);
    AppendStringField(out, "key_prefix", principal->key_prefix);
    AppendStringField(out, "user", principal->user_id);
    AppendStringField(out, "team", principal->team_id);
  } else {
    out.append(R"(,"principal":null,"key_prefix":null,"user":null,"team":null)");
  }
  if (!ctx.limit_outcome.empty() || !ctx.limit_fallback.empty()) {
    AppendStringField(out, "limit", ctx.limit_outcome);
    AppendStringField(out, "limit_policy", ctx.limit_policy);
    AppendStringField(out, "limit_fallback", ctx.limit_fallback);
  } else {
    out.append(R"(,"limit":null,"limit_policy":null,"limit_fallback":null)");
  }
  if (ctx.attempts > 1 || ctx.fell_back) {
    AppendIntField(out, "retries", ctx.attempts > 1 ? ctx.attempts - 1 : 0);
    AppendStringField(out, "served_model", ctx.fell_back ? ctx.served_model : std::string_view());
  } else {
    out.append(R"(,"retries":0,"served_model":null)");
  }
  out.append(",\"cache\":null");  // no response cache yet
  AppendIntField(out, "config_version", static_cast<int64_t>(ctx.config_version));
  out.append(",\"trace_id\":");
  if (ctx.trace.valid) {
    out.push_back('"');
    AppendTraceIdHex(ctx, out);
    out.push_back('"');
  } else {
    out.append("null");
  }
  out.append("}\n");
}

std::unique_ptr<Filter> AccessLogFilterFactory::NewFilter() const {
  return std::make_unique<AccessLogFilter>(*config_.sink, config_.payload_routes);
}

}  // namespace sluice::filters
