// libFuzzer driver: the SSE parser and the usage extractor. Input: byte 0 picks the event
// size limit and seeds the piece sizes; the rest is an upstream event stream. Checks that
// any split gives the same events (and the same refusal) as feeding everything at once,
// and that ExtractUsage stays in range on whatever the events carry.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/request_context.h"
#include "fuzz/fuzz_check.h"
#include "http/sse.h"

namespace {

using namespace sluice;

struct Ev {
  std::string raw, name, data;
  bool has_data = false;
  bool comment_only = false;
  bool operator==(const Ev&) const = default;
};

struct Run {
  std::vector<Ev> events;
  bool too_large = false;
};

Run Parse(std::string_view data, size_t limit, uint32_t seed) {
  SseParser parser(limit);
  Run run;
  size_t pos = 0;
  uint32_t state = seed * 2654435761u + 7;
  while (pos < data.size() && !run.too_large) {
    size_t piece = data.size() - pos;
    if (seed != 0) {
      state = state * 1103515245u + 12345u;
      piece = std::min<size_t>(piece, 1 + (state >> 16) % 23);
    }
    parser.Feed(data.substr(pos, piece));
    pos += piece;
    SseEvent e;
    for (;;) {
      SseParser::Result result = parser.Next(e);
      if (result == SseParser::Result::kNeedMore) break;
      if (result == SseParser::Result::kTooLarge) {
        run.too_large = true;
        break;
      }
      FUZZ_CHECK(e.raw.size() <= limit);
      FUZZ_CHECK(!e.raw.empty() && (e.raw.back() == '\n' || e.raw.back() == '\r'));
      FUZZ_CHECK(e.data.size() <= e.raw.size());
      FUZZ_CHECK(!(e.comment_only && (e.has_data || !e.name.empty())));
      run.events.push_back(Ev{std::string(e.raw), std::string(e.name), std::string(e.data),
                              e.has_data, e.comment_only});
    }
    if (!run.too_large) FUZZ_CHECK(parser.pending_bytes() <= limit);
  }
  return run;
}

void CheckUsage(std::string_view json) {
  Usage usage;
  if (ExtractUsage(json, usage)) {
    FUZZ_CHECK(usage.known);
    FUZZ_CHECK(usage.prompt_tokens >= 0 && usage.completion_tokens >= 0);
    FUZZ_CHECK(usage.total_tokens >= 0 && usage.cached_tokens >= 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 1) return 0;
  static constexpr size_t kLimits[] = {32, 256, 1 << 20};
  size_t limit = kLimits[bytes[0] % 3];
  std::string_view data(reinterpret_cast<const char*>(bytes + 1), size - 1);
  Run whole = Parse(data, limit, 0);
  Run split = Parse(data, limit, bytes[0] | 1u);
  FUZZ_CHECK(whole.too_large == split.too_large);
  FUZZ_CHECK(whole.events == split.events);
  for (const Ev& e : whole.events) CheckUsage(e.data);
  CheckUsage(data);
  return 0;
}
