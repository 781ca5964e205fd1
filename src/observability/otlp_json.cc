// OTLP/HTTP JSON encoding (see otlp_json.h): written by hand in one pass into one string,
// through a JsonLineWriter (raw cursor, no per-field append calls).
#include "observability/otlp_json.h"

#include <charconv>
#include <cmath>

#include "core/json_line_writer.h"

namespace sluice {
namespace {

// Proto3 JSON: finite doubles as numbers, the others as the strings "NaN", "Infinity",
// "-Infinity".
void WriteDouble(JsonLineWriter& w, double value) {
  if (std::isnan(value)) {
    w.Raw("\"NaN\"");
  } else if (std::isinf(value)) {
    if (value > 0) {
      w.Raw("\"Infinity\"");
    } else {
      w.Raw("\"-Infinity\"");
    }
  } else {
    constexpr size_t kRoom = 32;
    char* at = w.Reserve(kRoom);
    auto [end, ec] = std::to_chars(at, at + kRoom, value);
    w.Advance(ec == std::errc() ? end : at);
  }
}

// {"key":..,"value":AnyValue}, AnyValue being {"stringValue":..} | {"intValue":"<decimal>"} |
// {"doubleValue":..} | {"boolValue":..}
void WriteAttribute(JsonLineWriter& w, const SpanAttribute& attribute) {
  w.Raw("{\"key\":");
  w.String(attribute.key);
  if (const auto* text = std::get_if<std::string>(&attribute.value)) {
    w.Raw(",\"value\":{\"stringValue\":");
    w.String(*text);
  } else if (const auto* integer = std::get_if<int64_t>(&attribute.value)) {
    w.Raw(",\"value\":{\"intValue\":\"");
    w.Decimal(*integer);
    w.Char('"');
  } else if (const auto* real = std::get_if<double>(&attribute.value)) {
    w.Raw(",\"value\":{\"doubleValue\":");
    WriteDouble(w, *real);
  } else if (std::get<bool>(attribute.value)) {
    w.Raw(",\"value\":{\"boolValue\":true");
  } else {
    w.Raw(",\"value\":{\"boolValue\":false");
  }
  w.Raw("}}");
}

void WriteAttributes(JsonLineWriter& w, std::span<const SpanAttribute> attributes) {
  w.Raw("\"attributes\":[");
  for (size_t i = 0; i < attributes.size(); ++i) {
    if (i > 0) w.Char(',');
    WriteAttribute(w, attributes[i]);
  }
  w.Char(']');
}

// "<hex>", for a trace or span id.
template <typename Id>
void WriteId(JsonLineWriter& w, const Id& id) {
  char* at = w.Reserve(2 * sizeof(id.bytes) + 2);
  *at++ = '"';
  at = WriteHex(at, id);
  *at++ = '"';
  w.Advance(at);
}

// "<decimal>": fixed64 in the proto, never negative.
void WriteNanos(JsonLineWriter& w, int64_t nanos) {
  w.Char('"');
  w.Decimal(nanos < 0 ? 0 : nanos);
  w.Char('"');
}

void WriteSpan(JsonLineWriter& w, const SpanRecord& span) {
  w.Raw("{\"traceId\":");
  WriteId(w, span.trace_id);
  w.Raw(",\"spanId\":");
  WriteId(w, span.span_id);
  if (span.parent_span_id.valid()) {
    w.Raw(",\"parentSpanId\":");
    WriteId(w, span.parent_span_id);
  }
  w.Raw(",\"name\":");
  w.String(span.name);
  w.Raw(",\"kind\":");
  w.Decimal(static_cast<int64_t>(span.kind));
  w.Raw(",\"startTimeUnixNano\":");
  WriteNanos(w, span.start_unix_nanos);
  w.Raw(",\"endTimeUnixNano\":");
  WriteNanos(w, span.end_unix_nanos);
  w.Char(',');
  WriteAttributes(w, span.attributes);
  w.Raw(",\"status\":{\"code\":");
  w.Decimal(span.error ? kOtlpStatusError : kOtlpStatusUnset);
  if (span.error && !span.status_message.empty()) {
    w.Raw(",\"message\":");
    w.String(span.status_message);
  }
  w.Raw("}}");
}

}  // namespace

std::string EncodeOtlpTraces(std::span<const SpanRecord> spans, std::string_view service_name,
                             std::span<const SpanAttribute> resource_attributes) {
  std::string out;
  out.reserve(256 + spans.size() * 512);
  JsonLineWriter w(out);
  w.Raw(
      "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
      "\"value\":{\"stringValue\":");
  w.String(service_name);
  w.Raw("}}");
  for (const SpanAttribute& attribute : resource_attributes) {
    w.Char(',');
    WriteAttribute(w, attribute);
  }
  w.Raw("]},\"scopeSpans\":[{\"scope\":{\"name\":\"sluice\"},\"spans\":[");
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i > 0) w.Char(',');
    WriteSpan(w, spans[i]);
  }
  w.Raw("]}]}]}");
  w.Finish();
  return out;
}

}  // namespace sluice
