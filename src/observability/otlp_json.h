// OTLP/HTTP JSON encoding of finished spans (an ExportTraceServiceRequest, per the
// OpenTelemetry protocol's JSON mapping: ids as lowercase hex, 64-bit integers as decimal
// strings, enums as integers). Called by the OtlpExporter's background thread, never on the
// request path. Pure function; thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "observability/span.h"

namespace sluice {

// One resourceSpans entry (resource attributes: service.name first, then
// `resource_attributes`) with one scopeSpans entry (scope name "sluice") holding `spans`.
// An empty parent span id is omitted; status is {code: 2, message} for an error span and
// {code: 0} (unset) otherwise.
std::string EncodeOtlpTraces(std::span<const SpanRecord> spans, std::string_view service_name,
                             std::span<const SpanAttribute> resource_attributes = {});

// OTLP Status.StatusCode values.
inline constexpr int kOtlpStatusUnset = 0;
inline constexpr int kOtlpStatusError = 2;

}  // namespace sluice
