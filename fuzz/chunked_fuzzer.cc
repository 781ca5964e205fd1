// libFuzzer driver: the chunked transfer-coding decoder. Input: byte 0 seeds how the rest
// is split into pieces. Checks that any split gives the same status, payload and consumed
// count as decoding everything at once.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "http/http_parser.h"

namespace {

using namespace sluice;

struct Result {
  ParseStatus status = ParseStatus::kIncomplete;
  ErrorClass error = ErrorClass::kNone;
  std::string body;
  size_t consumed = 0;
};

Result Decode(std::string_view data, uint32_t seed) {
  ChunkedDecoder decoder;
  Result r;
  size_t pos = 0;
  uint32_t state = seed * 2654435761u + 1;
  while (true) {
    size_t piece = data.size() - pos;
    if (seed != 0) {
      state = state * 1103515245u + 12345u;
      piece = std::min<size_t>(piece, 1 + (state >> 16) % 9);
    }
    std::string_view in = data.substr(pos, piece);
    size_t consumed = 0;
    ParseError error;
    r.status = decoder.Decode(in, r.body, consumed, error);
    FUZZ_CHECK(consumed <= in.size());
    pos += consumed;
    r.consumed = pos;
    if (r.status == ParseStatus::kError) {
      r.error = error.error;
      FUZZ_CHECK(r.error == ErrorClass::kBadFraming);
      FUZZ_CHECK(!error.message.empty());
      return r;
    }
    if (r.status == ParseStatus::kDone) {
      FUZZ_CHECK(decoder.done());
      return r;
    }
    FUZZ_CHECK(consumed == in.size());
    if (pos == data.size()) return r;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 1) return 0;
  std::string_view data(reinterpret_cast<const char*>(bytes + 1), size - 1);
  Result whole = Decode(data, 0);
  Result split = Decode(data, bytes[0] | 1u);
  FUZZ_CHECK(whole.status == split.status);
  FUZZ_CHECK(whole.error == split.error);
  FUZZ_CHECK(whole.body == split.body);
  if (whole.status != ParseStatus::kError) FUZZ_CHECK(whole.consumed == split.consumed);
  FUZZ_CHECK(whole.body.size() <= data.size());
  if (whole.status == ParseStatus::kDone) {
    // The body ends with the last chunk and its (empty) trailer line.
    FUZZ_CHECK(whole.consumed >= 5 && data.substr(whole.consumed - 2, 2) == "\r\n");
  }
  return 0;
}
