// Parent-based trace-id-ratio sampling (OpenTelemetry's ParentBased(TraceIdRatioBased)):
// a request with a valid `traceparent` follows its sampled flag; one without is sampled when
// the lower 8 bytes of its trace id, read big-endian, fall below ratio * 2^64. The decision
// is a pure function of the trace id, so every hop using the same ratio agrees.
// Used once per request when the trace context is established. Immutable; thread-safe.
#pragma once

#include <cstdint>

#include "observability/trace_context.h"

namespace sluice {

class Sampler {
 public:
  // `ratio` is clamped to [0, 1] (NaN counts as 0).
  explicit Sampler(double ratio);

  double ratio() const { return ratio_; }

  // `parent` is the request's parsed traceparent, or nullptr when it had none (or a
  // malformed one). `trace_id` is the trace the request belongs to.
  bool ShouldSample(const TraceParent* parent, const TraceId& trace_id) const {
    if (parent != nullptr) return parent->sampled;
    return SampleRoot(trace_id);
  }

  // The ratio decision alone, for a trace this gateway starts.
  bool SampleRoot(const TraceId& trace_id) const;

 private:
  double ratio_;
  bool always_;         // ratio == 1: every id, including the largest
  uint64_t threshold_;  // sample iff lower 8 bytes < threshold_ (when !always_)
};

}  // namespace sluice
