// A request's place in a distributed trace (W3C Trace Context) and the timings the tracer
// turns into spans: the filters that waited on I/O and each upstream attempt. Plain data in
// RequestContext, filled by the session (identity), the filter chain and the proxy (timings,
// only when the request is sampled) and read by observability/request_trace at the end.
// Owned by one request; not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "core/clock.h"
#include "core/errors.h"

namespace sluice {

struct TraceIdentity {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};         // the gateway's request (server) span
  std::array<uint8_t, 8> parent_span_id{};  // the caller's span, when has_parent
  bool valid = false;                       // trace_id/span_id are set (an incoming or a new trace)
  bool sampled = false;                     // spans are recorded and exported
  bool has_parent = false;                  // a valid traceparent came with the request
  // The sampled flag sent upstream: `sampled`, or with tracing off the caller's own flag (the
  // gateway then passes the caller's traceparent on unchanged, as if it were not there).
  bool upstream_sampled = false;
  std::string_view tracestate;  // the incoming tracestate, when valid (a view into the request)
};

// A filter's asynchronous OnRequest (store lookups, Redis calls): one span each.
struct FilterWait {
  std::string_view filter;
  SteadyTime start{};
  SteadyTime end{};
};

// One upstream attempt: one client span each.
struct AttemptTrace {
  std::string_view backend;
  std::string_view upstream_model;
  std::array<uint8_t, 8> span_id{};
  SteadyTime start{};
  SteadyTime first_byte{};
  SteadyTime end{};
  int status = 0;
  ErrorClass error = ErrorClass::kNone;
  bool stream = false;
};

inline constexpr size_t kMaxTracedFilterWaits = 8;
inline constexpr size_t kMaxTracedAttempts = 8;

}  // namespace sluice
