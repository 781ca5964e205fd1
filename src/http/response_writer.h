// Builds response heads and chunk framing for the client side. The HTTP layer owns the
// framing headers (Content-Length or Transfer-Encoding, Connection, Date, X-Request-Id);
// filters only contribute the HeaderBlock. Functions append to caller-owned buffers whose
// capacity is reused, so writing a response does not allocate once warmed up.
// Thread-safe (the Date cache is per thread).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/response_head.h"

namespace sluice {

struct HeadFraming {
  enum class Kind : uint8_t { kLength, kChunked, kClose } kind = Kind::kLength;
  uint64_t content_length = 0;
  bool keep_alive = true;
  int minor_version = 1;
};

// Appends the status line, framing headers, the request id, Content-Type and `extra`.
void AppendResponseHead(std::string& out, int status, std::string_view content_type,
                        const HeaderBlock& extra, std::string_view request_id,
                        const HeadFraming& framing);

// Appends "<hex size>\r\n" for a chunk of `size` bytes.
void AppendChunkHeader(std::string& out, size_t size);
inline constexpr std::string_view kChunkTrailer = "\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// The current time in IMF-fixdate, refreshed at most once per second per thread.
std::string_view HttpDateNow();

}  // namespace sluice
