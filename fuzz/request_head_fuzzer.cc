// libFuzzer driver: client request heads through HeadScanner + ParseRequestHead.
// Input: byte 0 picks the limits, byte 1 the piece size for incremental feeding, the rest
// is the bytes a client sent. Checks that incremental scanning gives the same answer as
// scanning everything at once, and the invariants of an accepted head.
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
  HttpRequest request;
};

void Finish(std::string_view data, const HeadLimits& limits, Outcome& out, ParseError& error) {
  if (out.status == ParseStatus::kDone &&
      !ParseRequestHead(data.substr(0, out.head_size), limits, out.request, error)) {
    out.status = ParseStatus::kError;
  }
  if (out.status == ParseStatus::kError) {
    out.error = error.error;
    FUZZ_CHECK(!error.message.empty());
  }
}

Outcome Whole(std::string_view data, const HeadLimits& limits) {
  Outcome out;
  HeadScanner scanner;
  ParseError error;
  out.status = scanner.Scan(data, limits, true, out.head_size, error);
  Finish(data, limits, out, error);
  return out;
}

Outcome Incremental(std::string_view data, const HeadLimits& limits, size_t step) {
  Outcome out;
  HeadScanner scanner;
  ParseError error;
  size_t end = 0;
  while (end < data.size()) {
    end = std::min(data.size(), end + step);
    out.status = scanner.Scan(data.substr(0, end), limits, true, out.head_size, error);
    if (out.status != ParseStatus::kIncomplete) break;
  }
  Finish(data, limits, out, error);
  return out;
}

bool Inside(std::string_view view, std::string_view buffer) {
  return view.empty() || (view.data() >= buffer.data() &&
                          view.data() + view.size() <= buffer.data() + buffer.size());
}

void CheckAccepted(const Outcome& o, std::string_view data, const HeadLimits& limits) {
  std::string_view head = data.substr(0, o.head_size);
  const HttpRequest& r = o.request;
  FUZZ_CHECK(o.head_size >= 4 && o.head_size <= data.size());
  FUZZ_CHECK(o.head_size <= limits.max_head_bytes);
  FUZZ_CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
  FUZZ_CHECK(!r.method_text.empty() && Inside(r.method_text, head));
  for (char c : r.method_text) FUZZ_CHECK(IsTokenChar(static_cast<unsigned char>(c)));
  FUZZ_CHECK(r.target.size() <= limits.max_uri_bytes && Inside(r.target, head));
  FUZZ_CHECK(r.target.front() == '/' || r.target == "*");
  for (char c : r.target) {
    auto u = static_cast<unsigned char>(c);
    FUZZ_CHECK(u > 0x20 && u < 0x7F && c != '#');
  }
  FUZZ_CHECK(r.minor_version == 0 || r.minor_version == 1);
  FUZZ_CHECK(r.headers.size() <= limits.max_header_fields);
  for (const Header& h : r.headers.fields()) {
    FUZZ_CHECK(!h.name.empty() && Inside(h.name, head) && Inside(h.value, head));
    for (char c : h.name) FUZZ_CHECK(IsTokenChar(static_cast<unsigned char>(c)) && c != '_');
    for (char c : h.value) {
      auto u = static_cast<unsigned char>(c);
      FUZZ_CHECK(u == '\t' || (u >= 0x20 && u != 0x7F));
    }
  }
  FUZZ_CHECK(!(r.chunked && r.headers.Has("content-length")));
  FUZZ_CHECK(r.headers.Count("content-length") <= 1 && r.headers.Count("transfer-encoding") <= 1);
  FUZZ_CHECK(!(r.chunked && r.minor_version == 0));
  FUZZ_CHECK(r.minor_version == 0 || r.headers.Count("host") == 1);
  FUZZ_CHECK(r.headers.Count("host") <= 1);
  FUZZ_CHECK(r.path.size() + (r.query.empty() ? 0 : r.query.size() + 1) <= r.target.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 2) return 0;
  HeadLimits limits;
  switch (bytes[0] % 3) {
    case 0:
      break;  // production defaults
    case 1:
      limits = HeadLimits{512, 8, 128};
      break;
    case 2:
      limits = HeadLimits{96, 3, 24};
      break;
  }
  size_t step = 1 + bytes[1] % 17;
  std::string_view data(reinterpret_cast<const char*>(bytes + 2), size - 2);

  Outcome whole = Whole(data, limits);
  Outcome incremental = Incremental(data, limits, step);
  FUZZ_CHECK(whole.status == incremental.status);
  FUZZ_CHECK(whole.error == incremental.error);
  if (whole.status == ParseStatus::kDone) {
    FUZZ_CHECK(whole.head_size == incremental.head_size);
    FUZZ_CHECK(whole.request.target == incremental.request.target);
    FUZZ_CHECK(whole.request.keep_alive == incremental.request.keep_alive);
    FUZZ_CHECK(whole.request.content_length == incremental.request.content_length);
    FUZZ_CHECK(whole.request.headers.size() == incremental.request.headers.size());
    CheckAccepted(whole, data, limits);
  }
  if (whole.status == ParseStatus::kError) {
    int status = Describe(whole.error).status;
    FUZZ_CHECK(status == 400 || status == 414 || status == 431 || status == 501 || status == 505);
  }

  // The parser on its own must survive heads the scanner would have refused (bare LF,
  // too many fields...): give it any input that ends like a head.
  std::string framed(data);
  framed += "\r\n\r\n";
  HttpRequest request;
  ParseError error;
  ParseRequestHead(framed, limits, request, error);
  return 0;
}
