// W3C Trace Context (https://www.w3.org/TR/trace-context/): trace and span ids, the
// `traceparent` header (strict parse, allocation-free format), a bounded `tracestate`
// syntax check, and a fast per-thread id generator. Used by the request path when a request
// arrives (parse or start a trace) and when it is forwarded upstream (format the header).
// Pure functions are thread-safe; an IdGenerator is not (use ThreadIds(), one per thread).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/random.h"

namespace sluice {

struct TraceId {
  std::array<uint8_t, 16> bytes{};
  bool valid() const;  // not all zero
  friend bool operator==(const TraceId&, const TraceId&) = default;
};

struct SpanId {
  std::array<uint8_t, 8> bytes{};
  bool valid() const;  // not all zero
  friend bool operator==(const SpanId&, const SpanId&) = default;
};

// Lowercase hex: 32 characters for a trace id, 16 for a span id.
void AppendHex(std::string& out, const TraceId& id);
void AppendHex(std::string& out, const SpanId& id);
// The same at `out` (room for 32 / 16 characters); return the end of what was written.
char* WriteHex(char* out, const TraceId& id);
char* WriteHex(char* out, const SpanId& id);
std::string ToHex(const TraceId& id);
std::string ToHex(const SpanId& id);

struct TraceParent {
  TraceId trace_id;
  SpanId parent_id;
  bool sampled = false;
};

// Strict `traceparent` parse. Version 00 must be exactly 55 characters; a higher version
// (not ff) is read by its version-00 prefix, which must be followed by '-' or the end.
// Lowercase hex only; all-zero ids are invalid. False on anything malformed (`out` is then
// unspecified and the caller starts a new trace).
bool ParseTraceparent(std::string_view header, TraceParent& out);

// "00-<trace id>-<span id>-01" (or "-00"), appended to `out`: no allocation when `out` has
// 55 bytes of spare capacity.
void FormatTraceparent(const TraceId& trace_id, const SpanId& span_id, bool sampled,
                       std::string& out);
inline constexpr size_t kTraceparentLength = 55;

// `tracestate` check: at most 32 list members and 512 characters, each member `key=value`
// per the W3C grammar (simple or tenant@system keys, printable values without ',' or '='),
// no duplicate keys; empty members (",,") are tolerated. A header with no member at all is
// not worth propagating and is reported invalid. The header is propagated unchanged only
// when this returns true.
bool ValidTracestate(std::string_view header);
inline constexpr size_t kMaxTracestateMembers = 32;
inline constexpr size_t kMaxTracestateLength = 512;

// Non-cryptographic ids (xoshiro256**): trace ids need to be unique, not secret. Never
// returns an all-zero id. Not thread-safe: one instance per thread.
class IdGenerator {
 public:
  explicit IdGenerator(uint64_t seed) : rng_(seed) {}
  TraceId NewTraceId();
  SpanId NewSpanId();

 private:
  Xoshiro256 rng_;
};

// This thread's generator, seeded once from std::random_device.
IdGenerator& ThreadIds();

}  // namespace sluice
