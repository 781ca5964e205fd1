// access_log filter: one JSON line per request (also for requests rejected before
// dispatch) with time, request id, method, path, status, model, backend, upstream status,
// latency, time to first byte, bytes in/out, tokens and error class. Written in OnComplete
// to an asynchronous LineSink, so it never blocks a worker. The query string is never
// logged (it may carry secrets). Routes listed in `payloads:` also log the request body and
// the response (redacted by observability/redactor, capped at 16 KiB each); no other text
// from a request reaches the log. Factory immutable and thread-safe.
#pragma once

#include <string>

#include "core/filter.h"
#include "filters/access_log/access_log_config.h"

namespace sluice::filters {

class AccessLogFilterFactory final : public FilterFactory {
 public:
  explicit AccessLogFilterFactory(AccessLogConfig config) : config_(std::move(config)) {}
  std::string_view name() const override { return "access_log"; }
  std::unique_ptr<Filter> NewFilter() const override;
  bool sees_rejected_requests() const override { return true; }
  // Only when a route logs its payloads (each event is then copied into the filter).
  bool wants_response_body() const override { return !config_.payload_routes.empty(); }

 private:
  AccessLogConfig config_;
};

// Formats the access-log line for `ctx` (exposed for tests).
void FormatAccessLogLine(const RequestContext& ctx, std::string& out);

}  // namespace sluice::filters
