// Tracing of requests: continues the caller's W3C trace (traceparent/tracestate) or starts
// one, samples parent-based with a ratio, tells the proxy what to send upstream, and at the
// end turns the request's timings into OpenTelemetry spans (the request, each filter that
// waited on I/O, each upstream attempt with its retry number, the stream) with the GenAI
// attributes, handed to the OTLP exporter. Begin/Finish run on worker threads; a Tracer is
// shared by all workers (immutable apart from the exporter, which is thread-safe).
#pragma once

#include <memory>

#include "core/request_context.h"
#include "core/response_head.h"
#include "observability/otlp_exporter.h"
#include "observability/sampler.h"
#include "observability/span.h"

namespace sluice {

class Tracer {
 public:
  Tracer(std::unique_ptr<OtlpExporter> exporter, double sample_ratio);

  // Sets ctx.trace: the incoming trace when its traceparent is valid (sampled as it says),
  // else a new trace sampled at the ratio. Always gives the request a span id.
  void Begin(RequestContext& ctx) const;
  // Submits the request's spans when it was sampled (no-op otherwise).
  void Finish(const RequestContext& ctx);
  OtlpExporter& exporter() { return *exporter_; }

 private:
  std::unique_ptr<OtlpExporter> exporter_;
  Sampler sampler_;
};

// Without a tracer: only an incoming valid traceparent is taken (logged and passed upstream,
// never sampled here).
void ContinueIncomingTrace(RequestContext& ctx);

// Sets traceparent (and the incoming tracestate) on `headers` for an upstream attempt whose
// span is `span` (the request's span when the attempt is not traced on its own). No-op when
// the request has no trace. REQUIRES: ctx.attempts counts the attempts made before this one.
void SetUpstreamTraceHeaders(const RequestContext& ctx, const std::array<uint8_t, 8>& span,
                             HeaderBlock& headers);

// A fresh span id for an upstream attempt.
std::array<uint8_t, 8> NewAttemptSpanId();

// The spans of a finished sampled request (exposed for tests).
std::vector<SpanRecord> BuildRequestSpans(const RequestContext& ctx);

// Writes the request's 32-hex-digit trace id at `out` (room for 32) and returns the end; writes
// nothing without a trace (for the access log).
char* WriteTraceIdHex(const RequestContext& ctx, char* out);

}  // namespace sluice
