// Representative inputs shared by the sluice-micro benchmarks: a typical chat-completions
// request (head and ~0.9 KB body), a typical non-streaming response, and a 64-event SSE
// stream in chunked transfer coding. Built once; immutable afterwards, so thread-safe.
#pragma once

#include <string>

namespace sluice::bench {

// Request head (with CRLFCRLF) as an OpenAI SDK sends it; Content-Length matches ChatBody().
const std::string& ChatRequestHead();
// A chat request with a system prompt and a short conversation (~0.9 KB).
const std::string& ChatBody();
// A non-streaming chat.completion response (~1.4 KB) ending with a usage object.
const std::string& ChatResponse();
// 64 chat.completion.chunk events, a usage chunk and data: [DONE] (plain SSE text).
const std::string& SseStream();
// The same SSE stream framed with chunked transfer coding, one chunk per event.
const std::string& ChunkedSseBody();

}  // namespace sluice::bench
