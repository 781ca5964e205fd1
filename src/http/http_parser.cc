// Strict HTTP/1.1 head and chunked-body parsing (see http_parser.h for the rules).
// Over 300 lines because request, response and chunked parsing share their character
// rules and error texts; splitting them would scatter the one grammar.
#include "http/http_parser.h"

#include <array>
#include <charconv>
#include <cstring>

namespace sluice {
namespace {

constexpr std::array<bool, 256> MakeFieldValueTable() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = c == '\t' || (c >= 0x20 && c != 0x7F);
  return t;
}
constexpr std::array<bool, 256> kFieldValueTable = MakeFieldValueTable();

// Field-value characters: VCHAR, SP, HTAB, obs-text. No CR, LF, NUL, other CTLs or DEL.
inline bool IsFieldValueChar(unsigned char c) { return kFieldValueTable[c]; }

// Index of the first byte of `s` that is not a field-value character, or s.size().
inline size_t FirstInvalidValueChar(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  size_t n = s.size();
  for (; i + 4 <= n; i += 4) {  // unrolled: values are most of a head's bytes
    if (!(kFieldValueTable[p[i]] & kFieldValueTable[p[i + 1]] & kFieldValueTable[p[i + 2]] &
          kFieldValueTable[p[i + 3]])) {
      break;
    }
  }
  for (; i < n; ++i) {
    if (!kFieldValueTable[p[i]]) return i;
  }
  return n;
}

inline bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

bool Fail(ParseError& error, ErrorClass cls, std::string_view message) {
  error.error = cls;
  error.message = message;
  return false;
}

// Parses "HTTP/d.d"; sets minor version. Returns false for malformed text; sets
// `supported` false for well-formed versions other than 1.0 and 1.1.
bool ParseVersion(std::string_view text, int& minor, bool& supported) {
  if (text.size() != 8 || text.substr(0, 5) != "HTTP/" || text[6] != '.') return false;
  char major = text[5];
  char min = text[7];
  if (major < '0' || major > '9' || min < '0' || min > '9') return false;
  supported = major == '1' && (min == '0' || min == '1');
  minor = min - '0';
  return true;
}

// Parses the field lines of a head (after its first line) into `headers`. `pos` is the
// offset of the first field line; the head ends with an empty line.
bool ParseFieldLines(std::string_view head, size_t pos, const HeadLimits& limits,
                     bool allow_underscore, HeaderList& headers, ParseError& error,
                     ErrorClass syntax_error) {
  while (pos < head.size()) {
    size_t eol = head.find("\r\n", pos);
    if (eol == std::string_view::npos) return Fail(error, syntax_error, "Malformed header block.");
    if (eol == pos) return true;  // the empty line that ends the head
    std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 2;
    if (IsOws(line.front())) {
      return Fail(error, syntax_error, "Header line folding (obs-fold) is not allowed.");
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      return Fail(error, syntax_error, "Header line without a colon.");
    std::string_view name = line.substr(0, colon);
    if (name.empty()) return Fail(error, syntax_error, "Empty header name.");
    for (char ch : name) {
      auto c = static_cast<unsigned char>(ch);
      if (!kHttpTokenChars[c])
        return Fail(error, syntax_error, "Invalid character in header name.");
      if (c == '_' && !allow_underscore) {
        return Fail(error, syntax_error, "Underscores are not allowed in header names.");
      }
    }
    std::string_view value = line.substr(colon + 1);
    if (size_t bad = FirstInvalidValueChar(value); bad != value.size()) {
      return Fail(error, syntax_error,
                  value[bad] == '\r' ? std::string_view("Bare CR in header value.")
                                     : std::string_view("Invalid character in header value."));
    }
    if (headers.size() >= limits.max_header_fields) {
      return Fail(error, ErrorClass::kHeaderTooLarge, "Too many header fields.");
    }
    headers.Add(name, TrimOws(value));
  }
  return Fail(error, syntax_error, "Malformed header block.");
}

// Content-Length must be one field of 1*DIGIT that fits in 63 bits.
bool ParseContentLength(std::string_view value, uint64_t& out) {
  if (value.empty() || value.size() > 18) return false;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
  }
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  return ec == std::errc() && ptr == value.data() + value.size();
}

// Applies Connection tokens to a keep-alive default.
bool ConnectionKeepAlive(const HeaderList& headers, bool default_keep_alive) {
  bool keep_alive = default_keep_alive;
  bool close = false;
  for (const Header& h : headers.fields()) {
    if (!EqualsIgnoreCase(h.name, "connection")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view token = TrimOws(rest.substr(0, comma));
      if (EqualsIgnoreCase(token, "close")) close = true;
      if (EqualsIgnoreCase(token, "keep-alive")) keep_alive = true;
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  return keep_alive && !close;  // "close" wins, in any order
}

// Transfer-Encoding: the only coding we accept is exactly "chunked".
enum class TeResult { kChunked, kUnsupported, kMalformed };
TeResult ClassifyTransferEncoding(std::string_view value) {
  std::string_view v = TrimOws(value);
  if (EqualsIgnoreCase(v, "chunked")) return TeResult::kChunked;
  if (v.empty()) return TeResult::kMalformed;
  return TeResult::kUnsupported;
}

// Framing shared by requests and responses: Content-Length and Transfer-Encoding.
bool ParseFraming(const HeaderList& headers, bool& chunked, bool& has_length, uint64_t& length,
                  ParseError& error, ErrorClass bad, bool is_request) {
  int cl_count = 0;
  int te_count = 0;
  std::string_view cl_value;
  std::string_view te_value;
  for (const Header& h : headers.fields()) {
    if (EqualsIgnoreCase(h.name, "content-length")) {
      ++cl_count;
      if (cl_count > 1 && h.value != cl_value) {
        return Fail(error, bad, "Conflicting Content-Length headers.");
      }
      cl_value = h.value;
    } else if (EqualsIgnoreCase(h.name, "transfer-encoding")) {
      ++te_count;
      te_value = h.value;
    }
  }
  if (is_request && cl_count > 1) return Fail(error, bad, "Duplicate Content-Length header.");
  if (te_count > 0 && cl_count > 0) {
    return Fail(error, bad, "Content-Length and Transfer-Encoding must not both be present.");
  }
  if (te_count > 1) return Fail(error, bad, "Duplicate Transfer-Encoding header.");
  chunked = false;
  has_length = false;
  length = 0;
  if (te_count == 1) {
    switch (ClassifyTransferEncoding(te_value)) {
      case TeResult::kChunked:
        chunked = true;
        break;
      case TeResult::kUnsupported:
        return Fail(error, is_request ? ErrorClass::kNotImplemented : bad,
                    "Only the chunked transfer coding is supported.");
      case TeResult::kMalformed:
        return Fail(error, bad, "Malformed Transfer-Encoding header.");
    }
  }
  if (cl_count > 0) {
    if (!ParseContentLength(cl_value, length))
      return Fail(error, bad, "Malformed Content-Length header.");
    has_length = true;
  }
  return true;
}

}  // namespace

bool IsTokenChar(unsigned char c) { return kHttpTokenChars[c]; }

ParseStatus HeadScanner::Scan(std::string_view data, const HeadLimits& limits, bool is_request,
                              size_t& head_size, ParseError& error) {
  size_t limit = std::min(data.size(), limits.max_head_bytes);
  // A request line longer than the URI limit plus room for method and version is refused
  // at the byte that makes it too long, so the answer does not depend on how the head was
  // split across reads. A CR does not count: it may be the first half of the CRLF.
  const size_t max_request_line = limits.max_uri_bytes + 32;
  const char* base = data.data();
  for (size_t i = scanned_; i < limit; ++i) {
    // Jump from line end to line end with memchr instead of testing every byte.
    const void* hit = std::memchr(base + i, '\n', limit - i);
    size_t lf = hit != nullptr ? static_cast<size_t>(static_cast<const char*>(hit) - base) : limit;
    if (is_request && lines_ == 0 && lf > line_start_) {
      size_t last = lf - 1;  // the longest prefix of the request line seen so far
      if (last + (data[last] == '\r' ? 0 : 1) - line_start_ > max_request_line) {
        Fail(error, ErrorClass::kUriTooLong, "The request URI is too long.");
        return ParseStatus::kError;
      }
    }
    if (hit == nullptr) break;
    i = lf;
    if (i == line_start_ || data[i - 1] != '\r') {
      Fail(error, ErrorClass::kBadFraming, "Bare LF in the request head.");
      return ParseStatus::kError;
    }
    if (i - 1 == line_start_) {  // empty line
      if (lines_ == 0 && is_request && line_start_ < 8) {
        line_start_ = i + 1;  // tolerate a few CRLFs before the request line (RFC 9112 §2.2)
        continue;
      }
      if (lines_ == 0) {
        Fail(error, ErrorClass::kBadFraming, "Empty head.");
        return ParseStatus::kError;
      }
      head_size = i + 1;
      scanned_ = i + 1;
      return ParseStatus::kDone;
    }
    ++lines_;
    line_start_ = i + 1;
    if (lines_ > limits.max_header_fields + 1) {
      Fail(error, ErrorClass::kHeaderTooLarge, "Too many header fields.");
      return ParseStatus::kError;
    }
  }
  scanned_ = limit;
  if (data.size() > limits.max_head_bytes) {
    Fail(error, ErrorClass::kHeaderTooLarge, "The request head is too large.");
    return ParseStatus::kError;
  }
  return ParseStatus::kIncomplete;
}

bool ParseRequestHead(std::string_view head, const HeadLimits& limits, HttpRequest& out,
                      ParseError& error) {
  out.Reset();
  size_t pos = 0;
  while (head.substr(pos, 2) == "\r\n") pos += 2;
  size_t eol = head.find("\r\n", pos);
  if (eol == std::string_view::npos)
    return Fail(error, ErrorClass::kBadFraming, "Malformed request line.");
  std::string_view line = head.substr(pos, eol - pos);

  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) {
    return Fail(error, ErrorClass::kBadFraming, "Malformed request line.");
  }
  out.method_text = line.substr(0, sp1);
  for (char c : out.method_text) {
    if (!kHttpTokenChars[static_cast<unsigned char>(c)]) {
      return Fail(error, ErrorClass::kBadFraming, "Invalid method.");
    }
  }
  out.method = ParseMethod(out.method_text);
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) {
    return Fail(error, ErrorClass::kBadFraming, "Malformed request line.");
  }
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (out.target.size() > limits.max_uri_bytes) {
    return Fail(error, ErrorClass::kUriTooLong, "The request URI is too long.");
  }
  for (char ch : out.target) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F || c == '#') {
      return Fail(error, ErrorClass::kBadFraming, "Invalid character in the request target.");
    }
  }
  if (out.target.front() != '/' && !(out.target == "*" && out.method == Method::kOptions)) {
    return Fail(error, ErrorClass::kBadFraming, "The request target must be in origin form.");
  }
  bool supported = false;
  if (!ParseVersion(line.substr(sp2 + 1), out.minor_version, supported)) {
    return Fail(error, ErrorClass::kBadFraming, "Malformed HTTP version.");
  }
  if (!supported) {
    return Fail(error, ErrorClass::kUnsupportedVersion,
                "Only HTTP/1.1 and HTTP/1.0 are supported.");
  }
  size_t q = out.target.find('?');
  out.path = out.target.substr(0, q);
  out.query = q == std::string_view::npos ? std::string_view() : out.target.substr(q + 1);

  if (!ParseFieldLines(head, eol + 2, limits, /*allow_underscore=*/false, out.headers, error,
                       ErrorClass::kBadFraming)) {
    return false;
  }

  bool has_length = false;
  if (!ParseFraming(out.headers, out.chunked, has_length, out.content_length, error,
                    ErrorClass::kBadFraming, /*is_request=*/true)) {
    return false;
  }
  if (out.chunked && out.minor_version == 0) {
    return Fail(error, ErrorClass::kBadFraming, "Transfer-Encoding is not allowed in HTTP/1.0.");
  }
  int hosts = out.headers.Count("host");
  if (hosts > 1 || (hosts == 0 && out.minor_version == 1)) {
    return Fail(error, ErrorClass::kBadFraming, "Exactly one Host header is required.");
  }
  out.keep_alive = ConnectionKeepAlive(out.headers, out.minor_version == 1);
  std::string_view expect = out.headers.Get("expect");
  out.expect_continue = out.minor_version == 1 && EqualsIgnoreCase(expect, "100-continue");
  return true;
}

void HttpResponseHead::Reset() {
  status = 0;
  minor_version = 1;
  headers.Clear();
  chunked = false;
  has_content_length = false;
  content_length = 0;
  keep_alive = true;
}

bool HttpResponseHead::BodyForbidden(bool request_was_head) const {
  return request_was_head || status < 200 || status == 204 || status == 304;
}

bool ParseResponseHead(std::string_view head, const HeadLimits& limits, HttpResponseHead& out,
                       ParseError& error) {
  out.Reset();
  constexpr ErrorClass kBad = ErrorClass::kUpstreamBadResponse;
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos || eol < 12) return Fail(error, kBad, "Malformed status line.");
  std::string_view line = head.substr(0, eol);
  bool supported = false;
  if (!ParseVersion(line.substr(0, 8), out.minor_version, supported) || !supported ||
      line[8] != ' ') {
    return Fail(error, kBad, "Malformed status line.");
  }
  std::string_view code = line.substr(9, 3);
  if (code[0] < '1' || code[0] > '5' || code[1] < '0' || code[1] > '9' || code[2] < '0' ||
      code[2] > '9' || (line.size() > 12 && line[12] != ' ')) {
    return Fail(error, kBad, "Malformed status code.");
  }
  out.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  if (!ParseFieldLines(head, eol + 2, limits, /*allow_underscore=*/true, out.headers, error,
                       kBad)) {
    return false;
  }
  if (!ParseFraming(out.headers, out.chunked, out.has_content_length, out.content_length, error,
                    kBad, /*is_request=*/false)) {
    return false;
  }
  out.keep_alive = ConnectionKeepAlive(out.headers, out.minor_version == 1);
  return true;
}

void ChunkedDecoder::Reset() {
  state_ = State::kSize;
  remaining_ = 0;
  size_digits_ = 0;
  in_quotes_ = false;
  quoted_escape_ = false;
  trailer_bytes_ = 0;
}

namespace {
inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
constexpr size_t kMaxTrailerBytes = 16 * 1024;
}  // namespace

ParseStatus ChunkedDecoder::Decode(std::string_view in, std::string& out, size_t& consumed,
                                   ParseError& error) {
  auto fail = [&](std::string_view message) {
    Fail(error, ErrorClass::kBadFraming, message);
    return ParseStatus::kError;
  };
  size_t i = 0;
  while (i < in.size()) {
    char c = in[i];
    switch (state_) {
      case State::kSize: {
        int v = HexValue(c);
        if (v >= 0) {
          if (++size_digits_ > 15) return fail("Chunk size too large.");
          remaining_ = remaining_ * 16 + static_cast<uint64_t>(v);
          ++i;
        } else if (size_digits_ == 0) {
          return fail("Missing chunk size.");
        } else if (c == '\r') {
          state_ = State::kSizeLf;
          ++i;
        } else if (c == ';' || IsOws(c)) {
          state_ = State::kExtension;
          ++i;
        } else {
          return fail("Invalid chunk size.");
        }
        break;
      }
      case State::kExtension: {
        // chunk-ext: tokens, '=', quoted strings, BWS. Validated loosely but never lets a
        // CR/LF or control character through.
        auto uc = static_cast<unsigned char>(c);
        if (in_quotes_) {
          if (quoted_escape_) {
            if (!IsFieldValueChar(uc)) return fail("Invalid character in chunk extension.");
            quoted_escape_ = false;
          } else if (c == '\\') {
            quoted_escape_ = true;
          } else if (c == '"') {
            in_quotes_ = false;
          } else if (!IsFieldValueChar(uc)) {
            return fail("Invalid character in chunk extension.");
          }
        } else if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == '"') {
          in_quotes_ = true;
        } else if (!(kHttpTokenChars[uc] || c == ';' || c == '=' || IsOws(c))) {
          return fail("Invalid character in chunk extension.");
        }
        ++i;
        break;
      }
      case State::kSizeLf:
        if (c != '\n') return fail("Bare CR in chunk size line.");
        ++i;
        size_digits_ = 0;
        state_ = remaining_ == 0 ? State::kTrailerStart : State::kData;
        break;
      case State::kData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - i));
        out.append(in.data() + i, n);
        i += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return fail("Chunk data not followed by CRLF.");
        ++i;
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') return fail("Chunk data not followed by CRLF.");
        ++i;
        state_ = State::kSize;
        break;
      case State::kTrailerStart:
        if (c == '\r') {
          state_ = State::kFinalLf;
        } else if (kHttpTokenChars[static_cast<unsigned char>(c)]) {
          state_ = State::kTrailerName;
        } else {
          return fail("Malformed trailer field.");
        }
        ++i;
        break;
      case State::kTrailerName:  // field-name ":" — same grammar as header fields
        if (++trailer_bytes_ > kMaxTrailerBytes) return fail("Trailer section too large.");
        if (c == ':') {
          state_ = State::kTrailerLine;
        } else if (!kHttpTokenChars[static_cast<unsigned char>(c)]) {
          return fail("Malformed trailer field.");
        }
        ++i;
        break;
      case State::kTrailerLine:
        if (++trailer_bytes_ > kMaxTrailerBytes) return fail("Trailer section too large.");
        if (c == '\r') {
          state_ = State::kTrailerLf;
        } else if (c == '\n' || !IsFieldValueChar(static_cast<unsigned char>(c))) {
          return fail("Invalid character in trailer field.");
        }
        ++i;
        break;
      case State::kTrailerLf:
        if (c != '\n') return fail("Bare CR in trailer field.");
        ++i;
        state_ = State::kTrailerStart;
        break;
      case State::kFinalLf:
        if (c != '\n') return fail("Bare CR after the last chunk.");
        ++i;
        state_ = State::kDone;
        consumed = i;
        return ParseStatus::kDone;
      case State::kDone:
        consumed = i;
        return ParseStatus::kDone;
    }
  }
  consumed = i;
  return state_ == State::kDone ? ParseStatus::kDone : ParseStatus::kIncomplete;
}

ParseStatus ChunkedDecoder::DecodeInPlace(char* data, size_t& size, std::string& out,
                                          ParseError& error) {
  size_t used = 0;
  ParseStatus status = Decode(std::string_view(data, size), out, used, error);
  if (status != ParseStatus::kError && used > 0) {
    std::memmove(data, data + used, size - used);
    size -= used;
  }
  return status;
}

}  // namespace sluice
