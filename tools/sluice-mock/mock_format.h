// JSON bodies and SSE events of sluice-mock's completions, in OpenAI's exact shapes: the
// non-stream chat.completion / text_completion bodies and the streamed chunks. The parts
// that do not change within a request (id, created, model) are formatted once per request
// into a prefix; token texts come from prebuilt tables, so an event costs a few memcpy.
// Used by the request handler and the connection's stream loop. Not thread-safe per
// instance (one StreamEmitter per connection); the tables are immutable and shared.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace sluice {

enum class Dialect : uint8_t { kChat, kCompletion };

// Everything that decides one completion's text and numbers.
struct CompletionShape {
  Dialect dialect = Dialect::kChat;
  std::string_view id;     // "chatcmpl-..." or "cmpl-..."
  int64_t created = 0;     // unix seconds
  std::string_view model;  // as requested; JSON-escaped on output
  int64_t tokens = 0;      // completion tokens generated
  bool truncated = false;  // finish_reason "length" instead of "stop"
  int64_t prompt_tokens = 1;
  bool include_usage = false;  // stream_options.include_usage
};

inline constexpr std::string_view kSystemFingerprint = "fp_sluice_mock";

// Appends the non-stream response body.
void AppendCompletionBody(std::string& out, const CompletionShape& shape);

// {"prompt_tokens":P,"completion_tokens":C,"total_tokens":P+C}, formatted into `buffer`
// (no allocation) or appended to `out`.
inline constexpr size_t kUsageBufferSize = 128;
std::string_view FormatUsage(char (&buffer)[kUsageBufferSize], int64_t prompt_tokens,
                             int64_t completion_tokens);
void AppendUsage(std::string& out, int64_t prompt_tokens, int64_t completion_tokens);

// Formats the events of one stream. Each event is "data: {json}\n\n", wrapped in one chunk
// of the chunked transfer coding when `chunked` (HTTP/1.1) and raw otherwise (HTTP/1.0,
// where the stream ends by closing the connection).
class StreamEmitter {
 public:
  // REQUIRES: the views in `shape` stay valid until the last Append call.
  void Begin(const CompletionShape& shape, bool chunked);
  // The chat role chunk (delta {"role":"assistant","content":""}); nothing for completions.
  void AppendStart(std::string& out) const;
  // The chunk carrying token `i`.
  void AppendToken(std::string& out, int64_t i) const;
  // The finish chunk, the usage chunk (when requested), "data: [DONE]" and the last chunk.
  void AppendEnd(std::string& out) const;
  // An upper bound of the bytes AppendToken adds, for reserving buffer space.
  size_t TokenEventBound() const { return prefix_.size() + suffix_.size() + 64; }

 private:
  // Appends one event made of `parts`, framed as a chunk when chunked_.
  void AppendEvent(std::string& out, std::initializer_list<std::string_view> parts) const;

  CompletionShape shape_;
  bool chunked_ = true;
  std::string prefix_;      // "data: {...,"choices":[" + the choice opening
  size_t choices_end_ = 0;  // length of prefix_ through "choices":[
  std::string suffix_;      // closes a token event
};

}  // namespace sluice
