// The record of one finished span, filled by the request path for sampled requests only
// and handed to the OtlpExporter (otlp_exporter.h), which encodes it as OTLP JSON
// (otlp_json.h). Times are Unix nanoseconds of the wall clock. A plain value type: not
// shared between threads while being filled.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "observability/trace_context.h"

namespace sluice {

// OTLP Span.SpanKind values.
enum class SpanKind : uint8_t { kInternal = 1, kServer = 2, kClient = 3 };

struct SpanAttribute {
  std::string key;
  std::variant<std::string, int64_t, double, bool> value;
};

struct SpanRecord {
  TraceId trace_id;
  SpanId span_id;
  SpanId parent_span_id;  // all zero for a root span
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_unix_nanos = 0;
  int64_t end_unix_nanos = 0;
  bool error = false;
  std::string status_message;  // with error: why (e.g. "upstream_timeout")
  std::vector<SpanAttribute> attributes;

  // Separate overloads so a string literal never converts to bool and any integer type
  // (size_t included) lands in int64_t (values above INT64_MAX wrap).
  void Add(std::string_view key, std::string_view value) {
    attributes.push_back({std::string(key), std::string(value)});
  }
  void Add(std::string_view key, const char* value) { Add(key, std::string_view(value)); }
  void Add(std::string_view key, std::string&& value) {
    attributes.push_back({std::string(key), std::move(value)});
  }
  template <std::integral T>
  requires(!std::same_as<T, bool>) void Add(std::string_view key, T value) {
    attributes.push_back({std::string(key), static_cast<int64_t>(value)});
  }
  void Add(std::string_view key, double value) { attributes.push_back({std::string(key), value}); }
  void Add(std::string_view key, bool value) { attributes.push_back({std::string(key), value}); }
};

}  // namespace sluice
