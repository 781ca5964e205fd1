// Test helpers for sluice-mock: split raw HTTP/1.1 responses (Content-Length or chunked,
// several back to back) with the project's own parsers and pull the "data:" payloads out
// of an SSE body. Used only by the *_test.cc files here. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/http_parser.h"
#include "http/sse.h"

namespace sluice::mocktest {

struct Response {
  int status = 0;
  bool chunked = false;
  bool keep_alive = true;
  std::string content_type;
  std::string head;
  std::string body;  // de-chunked
};

// Parses the response at the start of `wire`. Returns the bytes it used, or 0 when the
// response is incomplete or malformed (`error` says which).
inline size_t ParseResponse(std::string_view wire, Response& out, bool* malformed = nullptr) {
  if (malformed != nullptr) *malformed = false;
  HeadScanner scanner;
  HeadLimits limits;
  size_t head_size = 0;
  ParseError error;
  ParseStatus status = scanner.Scan(wire, limits, /*is_request=*/false, head_size, error);
  if (status != ParseStatus::kDone) {
    if (malformed != nullptr) *malformed = status == ParseStatus::kError;
    return 0;
  }
  HttpResponseHead head;
  if (!ParseResponseHead(wire.substr(0, head_size), limits, head, error)) {
    if (malformed != nullptr) *malformed = true;
    return 0;
  }
  out = Response();
  out.status = head.status;
  out.chunked = head.chunked;
  out.keep_alive = head.keep_alive;
  out.content_type = std::string(head.headers.Get("content-type"));
  out.head = std::string(wire.substr(0, head_size));
  std::string_view rest = wire.substr(head_size);
  if (head.chunked) {
    ChunkedDecoder decoder;
    size_t used = 0;
    ParseStatus body_status = decoder.Decode(rest, out.body, used, error);
    if (body_status != ParseStatus::kDone) {
      if (malformed != nullptr) *malformed = body_status == ParseStatus::kError;
      return 0;
    }
    return head_size + used;
  }
  if (!head.has_content_length) {  // read-until-close framing (HTTP/1.0 streams)
    out.body = std::string(rest);
    return wire.size();
  }
  if (rest.size() < head.content_length) return 0;
  out.body = std::string(rest.substr(0, head.content_length));
  return head_size + head.content_length;
}

// The data fields of every event in an SSE body, in order.
inline std::vector<std::string> SseData(std::string_view body) {
  SseParser parser;
  parser.Feed(body);
  std::vector<std::string> data;
  SseEvent event;
  while (parser.Next(event) == SseParser::Result::kEvent) {
    if (event.has_data) data.emplace_back(event.data);
  }
  return data;
}

}  // namespace sluice::mocktest
