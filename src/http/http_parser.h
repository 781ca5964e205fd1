// Strict, zero-copy HTTP/1.1 head parsing for both directions: requests from clients
// (every DESIGN.md §8 rejection: CL+TE, duplicate or malformed Content-Length, obs-fold,
// bare CR or LF, empty or underscore header names, control characters) and responses
// from upstreams. Parsed fields are views into the caller's buffer.
// Used by the client session, the upstream client and sluice-mock. Stateless functions
// plus a small incremental scanner; not thread-safe per instance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/errors.h"
#include "core/http_types.h"

namespace sluice {

struct HeadLimits {
  size_t max_head_bytes = 64 * 1024;
  size_t max_header_fields = 100;
  size_t max_uri_bytes = 8 * 1024;
};

enum class ParseStatus : uint8_t { kIncomplete, kDone, kError };

struct ParseError {
  ErrorClass error = ErrorClass::kNone;
  std::string_view message;  // static text, safe to return to the client
};

// Finds the end of an HTTP head incrementally without rescanning bytes it has already
// seen, and rejects bare LF early (so a head using bare LF fails at once instead of
// waiting for a CRLFCRLF that never comes).
class HeadScanner {
 public:
  void Reset() {
    scanned_ = 0;
    line_start_ = 0;
    lines_ = 0;
  }
  // `data` is the whole buffered input from the start of the head (it may grow between
  // calls). On kDone, `head_size` is the head's length including the final CRLFCRLF.
  ParseStatus Scan(std::string_view data, const HeadLimits& limits, bool is_request,
                   size_t& head_size, ParseError& error);

 private:
  size_t scanned_ = 0;
  size_t line_start_ = 0;
  size_t lines_ = 0;
};

// REQUIRES: `head` is a complete head as found by HeadScanner (ends in CRLFCRLF).
// Fills `out` (method, target, headers, framing flags). Leading empty lines are skipped.
bool ParseRequestHead(std::string_view head, const HeadLimits& limits, HttpRequest& out,
                      ParseError& error);

struct HttpResponseHead {
  int status = 0;
  int minor_version = 1;
  HeaderList headers;
  bool chunked = false;
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool keep_alive = true;

  void Reset();
  // True when the response carries no body whatever its headers say (1xx, 204, 304, HEAD).
  bool BodyForbidden(bool request_was_head) const;
};

bool ParseResponseHead(std::string_view head, const HeadLimits& limits, HttpResponseHead& out,
                       ParseError& error);

// Incremental decoder of the chunked transfer coding. Feed bytes; payload is appended to
// `out`. Chunk extensions are validated and ignored; trailer fields are validated and
// discarded. Rejects: missing or non-hex sizes, sizes that overflow, bare LF or CR, data
// not followed by CRLF, malformed trailers.
class ChunkedDecoder {
 public:
  void Reset();
  // Consumes as much of `in` as it can; `consumed` tells how much. Returns kDone after
  // the last chunk and trailers (the bytes after that are not consumed).
  ParseStatus Decode(std::string_view in, std::string& out, size_t& consumed, ParseError& error);
  bool done() const { return state_ == State::kDone; }
  // Decode() over a body buffered in place: decodes [data, data + size), then removes the
  // consumed bytes by moving what follows them to `data` and shrinking `size`, so a
  // connection's input buffer never holds more than a partial chunk plus what follows
  // the body.
  ParseStatus DecodeInPlace(char* data, size_t& size, std::string& out, ParseError& error);

 private:
  enum class State : uint8_t {
    kSize,
    kExtension,
    kSizeLf,
    kData,
    kDataCr,
    kDataLf,
    kTrailerStart,
    kTrailerName,
    kTrailerLine,
    kTrailerLf,
    kFinalLf,
    kDone
  };
  State state_ = State::kSize;
  uint64_t remaining_ = 0;
  int size_digits_ = 0;
  bool in_quotes_ = false;
  bool quoted_escape_ = false;
  size_t trailer_bytes_ = 0;
};

// Token characters (RFC 9110 tchar).
bool IsTokenChar(unsigned char c);

}  // namespace sluice
