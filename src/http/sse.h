// Incremental Server-Sent Events parsing and framing. The relay feeds upstream body bytes
// in whatever pieces the network delivers and takes out complete events, one at a time,
// each with its raw text (forwarded unchanged) and its parsed `event` and `data` fields.
// Handles LF, CRLF and CR line endings, comments (": ping"), multi-line data and events
// split across reads; an event larger than the limit is an error, so memory per stream
// stays bounded. Not thread-safe; one per stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/usage.h"

namespace sluice {

struct SseEvent {
  std::string_view raw;   // the whole event block including its terminating blank line
  std::string_view name;  // "event:" field, empty when absent
  std::string_view data;  // "data:" lines joined with '\n'
  bool has_data = false;
  bool comment_only = false;  // only comment lines (keep-alive pings)
};

class SseParser {
 public:
  explicit SseParser(size_t max_event_bytes = 1 << 20) : max_event_bytes_(max_event_bytes) {}

  void Reset();
  // Appends bytes. Views from earlier Next() calls become invalid.
  void Feed(std::string_view bytes);
  enum class Result { kEvent, kNeedMore, kTooLarge };
  // Takes the next complete event out of the buffer.
  Result Next(SseEvent& event);
  // Bytes buffered that do not yet form a complete event.
  size_t pending_bytes() const { return buffer_.size() - start_; }

 private:
  // Parses one line [begin, end) into the event under construction.
  void TakeLine(size_t begin, size_t end);
  void ResetEvent();

  size_t max_event_bytes_;
  std::string buffer_;
  size_t start_ = 0;    // first byte of the event under construction
  size_t scan_ = 0;     // first byte not yet scanned (always at a line start)
  size_t checked_ = 0;  // the unfinished line holds no CR or LF before this offset
  // Fields of the event under construction, as offsets into buffer_ (it may reallocate).
  size_t name_begin_ = 0, name_len_ = 0;
  size_t data_begin_ = 0, data_len_ = 0;
  int data_lines_ = 0;
  bool saw_field_ = false;
  std::string joined_data_;  // used when an event has more than one data line
};

// Appends "data: <payload>\n\n" (payload must not contain newlines: JSON text does not).
void AppendSseData(std::string& out, std::string_view payload);

// The completion tokens one streamed chunk delivers, for budgets that must stop a stream
// at a cap: 1 when the chunk (an SSE data payload: chat.completion.chunk or
// text_completion) carries generated text — a non-empty string in "content", "text",
// "reasoning_content", "reasoning", "refusal" or a tool call's "arguments" — else 0
// (role-only first chunks, finish chunks, usage-only chunks, [DONE]). OpenAI and vLLM
// stream one token per chunk. No JSON parse: a scan of the colons from the end.
int64_t StreamChunkTokens(std::string_view data);

// Finds the value of top-level "usage" in an OpenAI-style JSON document and reads the
// token counts. Cheap: scans for the key and parses only its object. Returns false when
// there is no usage object.
bool ExtractUsage(std::string_view json, Usage& usage);

}  // namespace sluice
