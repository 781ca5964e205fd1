// OTLP/HTTP JSON encoding (see otlp_json.h): written by hand with the json_text helpers,
// one pass, into one string.
#include "observability/otlp_json.h"

#include <charconv>
#include <cmath>

#include "core/json_text.h"

namespace sluice {
namespace {

// Proto3 JSON: finite doubles as numbers, the others as the strings "NaN", "Infinity",
// "-Infinity".
void AppendDouble(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "\"NaN\"";
  } else if (std::isinf(value)) {
    out += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char text[32];
    auto [end, ec] = std::to_chars(text, text + sizeof(text), value);
    out.append(text, ec == std::errc() ? end : text);
  }
}

// AnyValue: {"stringValue":..} | {"intValue":"<decimal>"} | {"doubleValue":..} | {"boolValue":..}
void AppendAnyValue(std::string& out, const SpanAttribute& attribute) {
  out += '{';
  if (const auto* text = std::get_if<std::string>(&attribute.value)) {
    AppendJsonKey(out, "stringValue");
    AppendJsonString(out, *text);
  } else if (const auto* integer = std::get_if<int64_t>(&attribute.value)) {
    AppendJsonKey(out, "intValue");
    out += '"';
    AppendDecimal(out, *integer);
    out += '"';
  } else if (const auto* real = std::get_if<double>(&attribute.value)) {
    AppendJsonKey(out, "doubleValue");
    AppendDouble(out, *real);
  } else {
    AppendJsonKey(out, "boolValue");
    out += std::get<bool>(attribute.value) ? "true" : "false";
  }
  out += '}';
}

void AppendAttribute(std::string& out, const SpanAttribute& attribute) {
  out += '{';
  AppendJsonKey(out, "key");
  AppendJsonString(out, attribute.key);
  out += ',';
  AppendJsonKey(out, "value");
  AppendAnyValue(out, attribute);
  out += '}';
}

void AppendAttributes(std::string& out, std::span<const SpanAttribute> attributes) {
  AppendJsonKey(out, "attributes");
  out += '[';
  for (size_t i = 0; i < attributes.size(); ++i) {
    if (i > 0) out += ',';
    AppendAttribute(out, attributes[i]);
  }
  out += ']';
}

template <typename Id>
void AppendIdField(std::string& out, std::string_view key, const Id& id) {
  AppendJsonKey(out, key);
  out += '"';
  AppendHex(out, id);
  out += "\",";
}

void AppendNanosField(std::string& out, std::string_view key, int64_t nanos) {
  AppendJsonKey(out, key);
  out += '"';
  AppendDecimal(out, nanos < 0 ? 0 : nanos);  // fixed64 in the proto: never negative
  out += "\",";
}

void AppendSpan(std::string& out, const SpanRecord& span) {
  out += '{';
  AppendIdField(out, "traceId", span.trace_id);
  AppendIdField(out, "spanId", span.span_id);
  if (span.parent_span_id.valid()) AppendIdField(out, "parentSpanId", span.parent_span_id);
  AppendJsonKey(out, "name");
  AppendJsonString(out, span.name);
  out += ',';
  AppendJsonKey(out, "kind");
  AppendDecimal(out, static_cast<int64_t>(span.kind));
  out += ',';
  AppendNanosField(out, "startTimeUnixNano", span.start_unix_nanos);
  AppendNanosField(out, "endTimeUnixNano", span.end_unix_nanos);
  AppendAttributes(out, span.attributes);
  out += ',';
  AppendJsonKey(out, "status");
  out += '{';
  AppendJsonKey(out, "code");
  AppendDecimal(out, span.error ? kOtlpStatusError : kOtlpStatusUnset);
  if (span.error && !span.status_message.empty()) {
    out += ',';
    AppendJsonKey(out, "message");
    AppendJsonString(out, span.status_message);
  }
  out += "}}";
}

}  // namespace

std::string EncodeOtlpTraces(std::span<const SpanRecord> spans, std::string_view service_name,
                             std::span<const SpanAttribute> resource_attributes) {
  std::string out;
  out.reserve(256 + spans.size() * 512);
  out += "{\"resourceSpans\":[{\"resource\":{";
  AppendJsonKey(out, "attributes");
  out += '[';
  AppendAttribute(out, SpanAttribute{"service.name", std::string(service_name)});
  for (const SpanAttribute& attribute : resource_attributes) {
    out += ',';
    AppendAttribute(out, attribute);
  }
  out += "]},\"scopeSpans\":[{\"scope\":{\"name\":\"sluice\"},\"spans\":[";
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i > 0) out += ',';
    AppendSpan(out, spans[i]);
  }
  out += "]}]}]}";
  return out;
}

}  // namespace sluice
