// AddTimingHeaders.
#include "http/timing_headers.h"

#include "config/snapshot.h"
#include "core/json_text.h"

namespace sluice {

void AddTimingHeaders(const RequestContext& ctx, HeaderBlock& headers) {
  if (!ctx.snapshot().observability.overhead_headers) return;
  SteadyTime now = std::chrono::steady_clock::now();
  auto micros = [](Duration d) {
    return std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(d).count());
  };
  int64_t upstream = 0;
  if (ctx.upstream_began != SteadyTime{}) {
    SteadyTime until = ctx.upstream_ended != SteadyTime{}        ? ctx.upstream_ended
                       : ctx.upstream_first_byte != SteadyTime{} ? ctx.upstream_first_byte
                                                                 : now;
    upstream = micros(until - ctx.upstream_began);
  }
  int64_t gateway = std::max<int64_t>(0, micros(now - ctx.start) - upstream);
  // Reused per thread: the values are formatted without allocating.
  thread_local std::string timing;
  timing.assign("gateway;dur=");
  AppendMillis(timing, gateway);
  const std::string_view gateway_ms = std::string_view(timing).substr(sizeof("gateway;dur=") - 1);
  headers.Add(HeaderName("x-sluice-overhead-ms"), gateway_ms);
  if (ctx.upstream_began != SteadyTime{}) {
    timing.append(", upstream;dur=");
    AppendMillis(timing, upstream);
  }
  headers.Add(HeaderName("server-timing"), timing);
}

}  // namespace sluice
