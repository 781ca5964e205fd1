// libFuzzer driver: upstream response heads through HeadScanner + ParseResponseHead.
// Input: byte 0 picks the limits and the piece size, the rest is what an upstream sent.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "http/http_parser.h"

namespace {

using namespace sluice;

struct Outcome {
  ParseStatus status = ParseStatus::kIncomplete;
  ErrorClass error = ErrorClass::kNone;
  size_t head_size = 0;
  HttpResponseHead head;
};

Outcome Parse(std::string_view data, const HeadLimits& limits, size_t step) {
  Outcome out;
  HeadScanner scanner;
  ParseError error;
  size_t end = 0;
  while (end < data.size()) {
    end = std::min(data.size(), end + step);
    out.status = scanner.Scan(data.substr(0, end), limits, false, out.head_size, error);
    if (out.status != ParseStatus::kIncomplete) break;
  }
  if (out.status == ParseStatus::kDone &&
      !ParseResponseHead(data.substr(0, out.head_size), limits, out.head, error)) {
    out.status = ParseStatus::kError;
  }
  if (out.status == ParseStatus::kError) out.error = error.error;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 1) return 0;
  HeadLimits limits;
  if (bytes[0] & 1) limits = HeadLimits{256, 6, 64};
  size_t step = 1 + (bytes[0] >> 1) % 13;
  std::string_view data(reinterpret_cast<const char*>(bytes + 1), size - 1);

  Outcome whole = Parse(data, limits, data.size() + 1);
  Outcome split = Parse(data, limits, step);
  FUZZ_CHECK(whole.status == split.status && whole.error == split.error);
  if (whole.status == ParseStatus::kError) {
    FUZZ_CHECK(whole.error == ErrorClass::kUpstreamBadResponse ||
               whole.error == ErrorClass::kBadFraming ||
               whole.error == ErrorClass::kHeaderTooLarge);
  }
  if (whole.status == ParseStatus::kDone) {
    const HttpResponseHead& h = whole.head;
    FUZZ_CHECK(whole.head_size == split.head_size);
    FUZZ_CHECK(h.status >= 100 && h.status <= 599);
    FUZZ_CHECK(h.minor_version == 0 || h.minor_version == 1);
    FUZZ_CHECK(!(h.chunked && h.has_content_length));
    FUZZ_CHECK(h.has_content_length || h.content_length == 0);
    FUZZ_CHECK(h.headers.size() <= limits.max_header_fields);
    FUZZ_CHECK(h.BodyForbidden(true));
    FUZZ_CHECK(h.BodyForbidden(false) == (h.status < 200 || h.status == 204 || h.status == 304));
    for (const Header& f : h.headers.fields()) {
      FUZZ_CHECK(!f.name.empty());
      FUZZ_CHECK(f.value.find_first_of("\r\n") == std::string_view::npos);
    }
  }
  // The parser alone, on anything framed like a head.
  std::string framed(data);
  framed += "\r\n\r\n";
  HttpResponseHead head;
  ParseError error;
  ParseResponseHead(framed, limits, head, error);
  return 0;
}
