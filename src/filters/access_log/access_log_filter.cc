// access_log filter: line formatting and the OnComplete hook.
#include "filters/access_log/access_log_filter.h"

#include <algorithm>
#include <cstring>
#include <ctime>

#include "core/json_line_writer.h"
#include "core/json_text.h"
#include "observability/redactor.h"
#include "observability/request_trace.h"

namespace sluice::filters {
namespace {

// "2026-11-25T18:27:37.123Z". The part up to the seconds is formatted once per second per
// thread; only the milliseconds change between requests.
void WriteTimestamp(JsonLineWriter& w, WallTime time) {
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
  char* out = w.Reserve(26);
  *out++ = '"';
  std::memcpy(out, cached, 19);
  out += 19;
  *out++ = '.';
  *out++ = static_cast<char>('0' + millis / 100);
  *out++ = static_cast<char>('0' + millis / 10 % 10);
  *out++ = static_cast<char>('0' + millis % 10);
  *out++ = 'Z';
  *out++ = '"';
  w.Advance(out);
}

// A duration in milliseconds, or null when either end is unknown.
void WriteMillisOrNull(JsonLineWriter& w, SteadyTime from, SteadyTime to) {
  if (from == SteadyTime{} || to == SteadyTime{} || to < from) {
    w.Raw("null");
  } else {
    w.Millis(std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
  }
}

// A field whose text the client chose (the path, the model name): a client can put a secret
// there (a key pasted as the model name, an address in a path) and would get it logged. One
// linear scan of a short string into a reused per-thread buffer: no allocation once warm.
void WriteRedactedOrNull(JsonLineWriter& w, std::string_view value) {
  thread_local std::string redacted;
  Redact(value, redacted);
  w.StringOrNull(redacted);
}

// ,"key": — the keys are fixed ASCII literals, so they need no escaping pass.
void AppendFieldKey(std::string& out, std::string_view key) {
  out.append(",\"");
  out.append(key);
  out.append("\":");
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
  JsonLineWriter w(out);
  w.Raw("{\"time\":");
  WriteTimestamp(w, ctx.wall_start);
  w.StringField(",\"request_id\":", ctx.request_id);
  w.StringField(",\"client\":", ctx.client_ip);
  w.StringField(",\"method\":", request.method_text);
  // A known route's path is one of ours; others (and /v1/models/{id}) carry client text.
  w.Raw(",\"path\":");
  if (ctx.route == RouteKind::kNotFound || ctx.route == RouteKind::kRetrieveModel) {
    WriteRedactedOrNull(w, request.path);
  } else {
    w.StringOrNull(request.path);
  }
  w.DecimalField(",\"status\":", ctx.status);
  // A model that resolved is a configured name or alias (matched exactly): not client text.
  w.Raw(",\"model\":");
  if (ctx.resolved_model() != nullptr) {
    w.StringOrNull(ctx.requested_model);
  } else {
    WriteRedactedOrNull(w, ctx.requested_model);
  }
  w.StringField(",\"backend\":", ctx.backend);
  w.StringField(",\"upstream_model\":", ctx.upstream_model);
  w.StringField(",\"experiment_arm\":", ctx.experiment_arm);
  w.Raw(",\"upstream_status\":");
  if (ctx.upstream_status == 0) {
    w.Raw("null");
  } else {
    w.Decimal(ctx.upstream_status);
  }
  if (ctx.stream) {
    w.Raw(",\"stream\":true,\"latency_ms\":");
  } else {
    w.Raw(",\"stream\":false,\"latency_ms\":");
  }
  WriteMillisOrNull(w, ctx.start, ctx.end);
  w.Raw(",\"ttfb_ms\":");
  WriteMillisOrNull(w, ctx.start, ctx.first_byte_sent);
  w.Raw(",\"upstream_ms\":");
  WriteMillisOrNull(w, ctx.upstream_sent, ctx.upstream_first_byte);
  w.DecimalField(",\"bytes_in\":", static_cast<int64_t>(ctx.bytes_in));
  w.DecimalField(",\"bytes_out\":", static_cast<int64_t>(ctx.bytes_out));
  if (ctx.usage.known) {
    w.DecimalField(",\"prompt_tokens\":", ctx.usage.prompt_tokens);
    w.DecimalField(",\"completion_tokens\":", ctx.usage.completion_tokens);
    w.DecimalField(",\"total_tokens\":", ctx.usage.total_tokens);
  } else {
    w.Raw(",\"prompt_tokens\":null,\"completion_tokens\":null,\"total_tokens\":null");
  }
  w.StringField(",\"error\":", Describe(ctx.error).name);
  // Who called (ids and the key's display prefix only: never a secret). The common cases
  // (an anonymous caller, no limit applied, one attempt) are one literal each.
  if (const Principal* principal = ctx.principal.get()) {
    w.StringField(",\"principal\":", principal->id);
    w.StringField(",\"key_prefix\":", principal->key_prefix);
    w.StringField(",\"user\":", principal->user_id);
    w.StringField(",\"team\":", principal->team_id);
  } else {
    w.Raw(R"(,"principal":null,"key_prefix":null,"user":null,"team":null)");
  }
  if (!ctx.limit_outcome.empty() || !ctx.limit_fallback.empty()) {
    w.StringField(",\"limit\":", ctx.limit_outcome);
    w.StringField(",\"limit_policy\":", ctx.limit_policy);
    w.StringField(",\"limit_fallback\":", ctx.limit_fallback);
  } else {
    w.Raw(R"(,"limit":null,"limit_policy":null,"limit_fallback":null)");
  }
  if (ctx.attempts > 1 || ctx.fell_back) {
    w.DecimalField(",\"retries\":", ctx.attempts > 1 ? ctx.attempts - 1 : 0);
    w.StringField(",\"served_model\":", ctx.fell_back ? ctx.served_model : std::string_view());
  } else {
    w.Raw(R"(,"retries":0,"served_model":null)");
  }
  w.Raw(",\"cache\":null,\"config_version\":");  // no response cache yet
  w.Decimal(static_cast<int64_t>(ctx.config_version));
  w.Raw(",\"trace_id\":");
  if (ctx.trace.valid) {
    char* at = w.Reserve(34);
    *at++ = '"';
    at = WriteTraceIdHex(ctx, at);
    *at++ = '"';
    w.Advance(at);
  } else {
    w.Raw("null");
  }
  w.Raw("}\n");
  w.Finish();
}

std::unique_ptr<Filter> AccessLogFilterFactory::NewFilter() const {
  return std::make_unique<AccessLogFilter>(*config_.sink, config_.payload_routes);
}

}  // namespace sluice::filters
