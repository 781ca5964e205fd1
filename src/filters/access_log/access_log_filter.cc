// access_log filter: line formatting and the OnComplete hook.
#include "filters/access_log/access_log_filter.h"

#include <ctime>

#include "core/json_text.h"

namespace sluice::filters {
namespace {

void AppendTimestamp(std::string& out, WallTime time) {
  auto since_epoch = time.time_since_epoch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds);
  std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(millis.count()));
  out.push_back('"');
  out.append(buf);
  out.push_back('"');
}

void AppendMillisField(std::string& out, std::string_view key, SteadyTime from, SteadyTime to) {
  out.push_back(',');
  AppendJsonKey(out, key);
  if (from == SteadyTime{} || to == SteadyTime{} || to < from) {
    out.append("null");
  } else {
    AppendFixed(out, ToMillis(to - from), 3);
  }
}

void AppendStringField(std::string& out, std::string_view key, std::string_view value) {
  out.push_back(',');
  AppendJsonKey(out, key);
  if (value.empty()) {
    out.append("null");
  } else {
    AppendJsonString(out, value);
  }
}

void AppendIntField(std::string& out, std::string_view key, int64_t value) {
  out.push_back(',');
  AppendJsonKey(out, key);
  AppendDecimal(out, value);
}

class AccessLogFilter final : public Filter {
 public:
  explicit AccessLogFilter(LineSink& sink) : sink_(sink) {}
  void OnComplete(const RequestContext& ctx) override {
    thread_local std::string line;
    FormatAccessLogLine(ctx, line);
    sink_.Write(line);
  }

 private:
  LineSink& sink_;
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
  AppendStringField(out, "path", request.path);
  AppendIntField(out, "status", ctx.status);
  AppendStringField(out, "model", ctx.requested_model);
  AppendStringField(out, "backend", ctx.backend);
  AppendStringField(out, "upstream_model", ctx.upstream_model);
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
  out.append("}\n");
}

std::unique_ptr<Filter> AccessLogFilterFactory::NewFilter() const {
  return std::make_unique<AccessLogFilter>(*config_.sink);
}

}  // namespace sluice::filters
