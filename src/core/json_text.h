// Minimal helpers for writing JSON text by hand on hot paths (error bodies, access-log
// lines) where building a boost::json::value would cost an allocation per field.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

// Appends `text` as a JSON string literal (with quotes), escaping per RFC 8259. Invalid
// UTF-8 bytes are replaced with U+FFFD so the output is always valid JSON.
void AppendJsonString(std::string& out, std::string_view text);
// The same escaping without the quotes, written at `out`, which must have room for
// kJsonEscapeFactor * text.size() bytes; returns the end of what was written.
inline constexpr size_t kJsonEscapeFactor = 6;  // a control byte becomes \u00XX
char* WriteJsonEscaped(char* out, std::string_view text);

// Appends "key": to an object under construction; the caller handles commas.
inline void AppendJsonKey(std::string& out, std::string_view key) {
  AppendJsonString(out, key);
  out.push_back(':');
}

void AppendDecimal(std::string& out, int64_t value);
// Microseconds as milliseconds with three decimals ("12.345"), without floating point.
void AppendMillis(std::string& out, int64_t microseconds);
// The same two at `out`, which must have room for kMaxDecimalChars / kMaxMillisChars;
// they return the end of what was written.
inline constexpr size_t kMaxDecimalChars = 20;  // "-9223372036854775808"
inline constexpr size_t kMaxMillisChars = kMaxDecimalChars + 4;
char* WriteDecimal(char* out, int64_t value);
char* WriteMillis(char* out, int64_t microseconds);
// Fixed-point with `decimals` digits after the point (no exponent), e.g. 1.234.
void AppendFixed(std::string& out, double value, int decimals);

}  // namespace sluice
