// Incremental reader of one HTTP/1.1 response for sluice-loadgen: finds the head with
// Sluice's own strict parser (sluice_wire), follows Content-Length, chunked or
// close-delimited framing and, in SSE mode, splits the body into events and timestamps
// each one. One per connection, reset between responses; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/http_parser.h"
#include "http/sse.h"

namespace sluice::loadgen {

// What the reader saw of an SSE stream (all times are monotonic nanoseconds).
struct StreamTrace {
  int64_t first_event = 0;  // 0 until the first data event
  int64_t last_event = 0;
  uint64_t events = 0;  // data events, including the final [DONE]
  bool saw_done = false;
  bool data_after_done = false;
};

// Receives each SSE data event as it is parsed (the engine records gaps and counts).
class EventObserver {
 public:
  virtual ~EventObserver() = default;
  virtual void OnEvent(int64_t now, int64_t previous_event) = 0;
};

class ResponseReader {
 public:
  enum class Status { kIncomplete, kDone, kError };

  explicit ResponseReader(bool sse) : sse_(sse) {}
  void Reset();
  // Consumes newly received bytes. kDone when the response is complete; bytes beyond it
  // (the load generator never pipelines) make it kError.
  Status Feed(std::string_view bytes, int64_t now, EventObserver* observer);
  // The peer closed the connection: completes a close-delimited body, else kError.
  Status FeedEof(int64_t now, EventObserver* observer);

  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }
  const StreamTrace& trace() const { return trace_; }
  std::string_view error() const { return error_; }

 private:
  enum class Phase { kHead, kLength, kChunked, kUntilClose, kDone };
  Status FeedBody(std::string_view body, int64_t now, EventObserver* observer);
  // False when an event exceeds the parser's limit.
  bool TakeEvents(std::string_view decoded, int64_t now, EventObserver* observer);
  Status Fail(std::string_view why);

  bool sse_;
  Phase phase_ = Phase::kHead;
  std::string head_;
  HeadScanner scanner_;
  HttpResponseHead parsed_;
  ChunkedDecoder chunked_;
  SseParser events_;
  std::string decoded_;
  uint64_t remaining_ = 0;
  int status_ = 0;
  bool keep_alive_ = true;
  StreamTrace trace_;
  std::string_view error_;
};

}  // namespace sluice::loadgen
