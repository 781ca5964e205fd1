// Tests of the strict HTTP/1.1 parser: the DESIGN.md §8 rejection table (each row fed
// whole and byte by byte through HeadScanner), accepted requests and their semantics,
// response heads and the chunked decoder.
#include "http/http_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice {

// Readable failure messages (found by ADL, so in namespace sluice; static keeps them local).
[[maybe_unused]] static void PrintTo(ErrorClass e, std::ostream* os) { *os << Describe(e).name; }
[[maybe_unused]] static void PrintTo(ParseStatus s, std::ostream* os) {
  *os << (s == ParseStatus::kDone ? "kDone" : s == ParseStatus::kError ? "kError" : "kIncomplete");
}

namespace {

using namespace std::string_literals;

// What a client's head leads to after HeadScanner + ParseRequestHead.
struct Outcome {
  ParseStatus status = ParseStatus::kIncomplete;  // kDone = parsed and accepted
  ErrorClass error = ErrorClass::kNone;
  size_t head_size = 0;
};

Outcome ParseWithScanner(HeadScanner& scanner, std::string_view data, const HeadLimits& limits,
                         HttpRequest& request) {
  Outcome out;
  ParseError error;
  size_t head_size = 0;
  out.status = scanner.Scan(data, limits, /*is_request=*/true, head_size, error);
  if (out.status == ParseStatus::kDone) {
    out.head_size = head_size;
    if (!ParseRequestHead(data.substr(0, head_size), limits, request, error)) {
      out.status = ParseStatus::kError;
    }
  }
  out.error = out.status == ParseStatus::kError ? error.error : ErrorClass::kNone;
  if (out.status == ParseStatus::kError) {
    EXPECT_FALSE(error.message.empty());
  }
  return out;
}

// The whole input in one call.
Outcome ParseWhole(std::string_view data, HttpRequest& request, const HeadLimits& limits = {}) {
  HeadScanner scanner;
  return ParseWithScanner(scanner, data, limits, request);
}

// The input growing one byte at a time, as a slow client would send it; stops at the
// first answer that is not kIncomplete.
Outcome ParseBytewise(std::string_view data, HttpRequest& request, const HeadLimits& limits = {}) {
  HeadScanner scanner;
  Outcome out;
  for (size_t n = 1; n <= data.size(); ++n) {
    out = ParseWithScanner(scanner, data.substr(0, n), limits, request);
    if (out.status != ParseStatus::kIncomplete) return out;
  }
  return out;
}

struct RejectCase {
  const char* name;
  std::string raw;
  ErrorClass error;
  int status;
};

std::string Get(std::string_view extra_headers) {
  return "GET /v1/models HTTP/1.1\r\nHost: gw\r\n" + std::string(extra_headers) + "\r\n";
}
std::string Post(std::string_view extra_headers) {
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\n" + std::string(extra_headers) + "\r\n";
}
std::string Fields(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += "X-F" + std::to_string(i) + ": v\r\n";
  return out;
}

std::string LongFields(int n, size_t value_size) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += "X-L" + std::to_string(i) + ": " + std::string(value_size, 'v') + "\r\n";
  }
  return out;
}

const std::vector<RejectCase>& RejectTable() {
  constexpr auto kBad = ErrorClass::kBadFraming;
  static const std::vector<RejectCase> table = {
      // Framing: CL + TE, duplicate and malformed Content-Length.
      {"cl_and_te", Post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), kBad, 400},
      {"te_and_cl", Post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), kBad, 400},
      {"duplicate_cl_same", Post("Content-Length: 5\r\nContent-Length: 5\r\n"), kBad, 400},
      {"duplicate_cl_different", Post("Content-Length: 5\r\nContent-Length: 6\r\n"), kBad, 400},
      {"cl_list_in_one_field", Post("Content-Length: 5, 5\r\n"), kBad, 400},
      {"cl_alpha", Post("Content-Length: abc\r\n"), kBad, 400},
      {"cl_negative", Post("Content-Length: -1\r\n"), kBad, 400},
      {"cl_inner_space", Post("Content-Length: 1 2\r\n"), kBad, 400},
      {"cl_plus", Post("Content-Length: +5\r\n"), kBad, 400},
      {"cl_empty", Post("Content-Length: \r\n"), kBad, 400},
      {"cl_20_digits", Post("Content-Length: 12345678901234567890\r\n"), kBad, 400},
      {"cl_hex", Post("Content-Length: 0x10\r\n"), kBad, 400},
      // Line structure.
      {"obs_fold_space", Get("X-A: b\r\n c\r\n"), kBad, 400},
      {"obs_fold_tab", Get("X-A: b\r\n\tc\r\n"), kBad, 400},
      {"bare_lf_request_line", "GET / HTTP/1.1\nHost: gw\r\n\r\n", kBad, 400},
      {"bare_lf_header", "GET / HTTP/1.1\r\nHost: gw\nX-A: b\r\n\r\n", kBad, 400},
      {"bare_lf_end_of_head", "GET / HTTP/1.1\r\nHost: gw\r\n\n", kBad, 400},
      {"bare_cr_header_value", Get("X-A: a\rb\r\n"), kBad, 400},
      {"bare_cr_end_of_value", Get("X-A: ab\r\r\n"), kBad, 400},
      {"bare_cr_request_line", "GET / HTTP/1.1\rX\r\nHost: gw\r\n\r\n", kBad, 400},
      {"header_without_colon", Get("NoColon\r\n"), kBad, 400},
      {"empty_header_name", Get(": x\r\n"), kBad, 400},
      {"underscore_header_name", Get("X_Forwarded_For: 1.2.3.4\r\n"), kBad, 400},
      {"space_before_colon", "GET / HTTP/1.1\r\nHost : gw\r\n\r\n", kBad, 400},
      {"tab_before_colon", Get("X-A\t: b\r\n"), kBad, 400},
      {"header_name_non_ascii", Get("X-\xC3\xA9: b\r\n"), kBad, 400},
      // Control characters in values (HTAB is allowed, see the accept table).
      {"value_nul", Get("X-A: a"s + '\0' + "b\r\n"), kBad, 400},
      {"value_soh",
       Get("X-A: a\x01"
           "b\r\n"),
       kBad, 400},
      {"value_esc", Get("X-A: \x1b[31m\r\n"), kBad, 400},
      {"value_del",
       Get("X-A: a\x7f"
           "b\r\n"),
       kBad, 400},
      // Request line.
      {"method_invalid_char", "G(T / HTTP/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      {"method_control_char", "GE\x01T / HTTP/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      {"method_tab_separator", "GET\t/ HTTP/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      {"missing_method", " / HTTP/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      {"double_space", "GET  / HTTP/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      {"missing_version", "GET /\r\nHost: gw\r\n\r\n", kBad, 400},
      {"target_del", "GET /a\x7f HTTP/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      {"target_non_ascii", "GET /caf\xC3\xA9 HTTP/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      {"target_fragment", "GET /a#frag HTTP/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      {"target_control", "GET /a\x01 HTTP/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      {"target_tab", "GET /a\tb HTTP/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      {"absolute_form", "GET http://gw/v1/models HTTP/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      {"authority_form", "CONNECT gw:443 HTTP/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      {"asterisk_not_options", "GET * HTTP/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      {"relative_target", "GET v1/models HTTP/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      // Host.
      {"missing_host_11", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n", kBad, 400},
      {"duplicate_host_11", Get("Host: other\r\n"), kBad, 400},
      {"duplicate_host_10", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", kBad, 400},
      // Versions.
      {"http_2_0", "GET / HTTP/2.0\r\nHost: gw\r\n\r\n", ErrorClass::kUnsupportedVersion, 505},
      {"http_1_2", "GET / HTTP/1.2\r\nHost: gw\r\n\r\n", ErrorClass::kUnsupportedVersion, 505},
      {"http_0_9", "GET / HTTP/0.9\r\nHost: gw\r\n\r\n", ErrorClass::kUnsupportedVersion, 505},
      {"version_garbage", "GET / FOO/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      {"version_lowercase", "GET / http/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
      {"version_no_minor", "GET / HTTP/2\r\nHost: gw\r\n\r\n", kBad, 400},
      {"version_trailing", "GET / HTTP/1.1x\r\nHost: gw\r\n\r\n", kBad, 400},
      {"version_trailing_space", "GET / HTTP/1.1 \r\nHost: gw\r\n\r\n", kBad, 400},
      {"version_letters", "GET / HTTP/a.b\r\nHost: gw\r\n\r\n", kBad, 400},
      // Transfer-Encoding.
      {"te_gzip", Post("Transfer-Encoding: gzip\r\n"), ErrorClass::kNotImplemented, 501},
      {"te_chunked_gzip", Post("Transfer-Encoding: chunked, gzip\r\n"), ErrorClass::kNotImplemented,
       501},
      {"te_gzip_chunked", Post("Transfer-Encoding: gzip, chunked\r\n"), ErrorClass::kNotImplemented,
       501},
      {"te_identity", Post("Transfer-Encoding: identity\r\n"), ErrorClass::kNotImplemented, 501},
      {"te_empty", Post("Transfer-Encoding: \r\n"), kBad, 400},
      {"te_duplicate", Post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), kBad,
       400},
      {"te_http_10", "POST /v1/embeddings HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", kBad,
       400},
      // Limits (defaults: 64 KiB head, 100 fields, 8 KiB URI).
      {"header_too_large", Get("X-Big: " + std::string(70 * 1024, 'a') + "\r\n"),
       ErrorClass::kHeaderTooLarge, 431},
      {"head_too_large_many_lines", Get(LongFields(90, 800)), ErrorClass::kHeaderTooLarge, 431},
      {"too_many_fields", Get(Fields(100)), ErrorClass::kHeaderTooLarge, 431},
      {"uri_too_long", "GET /" + std::string(8192, 'a') + " HTTP/1.1\r\nHost: gw\r\n\r\n",
       ErrorClass::kUriTooLong, 414},
      {"uri_too_long_incomplete", "GET /" + std::string(9000, 'a'), ErrorClass::kUriTooLong, 414},
      // Found by fuzzing: the same bytes gave 400 (bare LF) when read at once and 414 when
      // read in pieces; the request line is now judged at the byte that makes it too long.
      {"uri_too_long_then_bare_lf", "GET /" + std::string(8300, 'a') + "\nHost: gw\r\n\r\n",
       ErrorClass::kUriTooLong, 414},
      {"uri_too_long_long_method",
       std::string(40, 'M') + " /" + std::string(8191, 'a') + " HTTP/1.1\r\nHost: gw\r\n\r\n",
       ErrorClass::kUriTooLong, 414},
      // Empty heads.
      {"too_many_leading_crlf", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: gw\r\n\r\n", kBad,
       400},
      {"leading_bare_lf", "\nGET / HTTP/1.1\r\nHost: gw\r\n\r\n", kBad, 400},
  };
  return table;
}

void PrintTo(const RejectCase& c, std::ostream* os) { *os << c.name; }

class RejectTest : public testing::TestWithParam<RejectCase> {};

TEST_P(RejectTest, WholeAndBytewiseGiveTheSameError) {
  const RejectCase& c = GetParam();
  // The table's status is the documented status of the error class.
  EXPECT_EQ(Describe(c.error).status, c.status);
  HttpRequest request;
  Outcome whole = ParseWhole(c.raw, request);
  EXPECT_EQ(whole.status, ParseStatus::kError);
  EXPECT_EQ(whole.error, c.error) << Describe(whole.error).name;
  Outcome bytewise = ParseBytewise(c.raw, request);
  EXPECT_EQ(bytewise.status, ParseStatus::kError);
  EXPECT_EQ(bytewise.error, c.error) << Describe(bytewise.error).name;
}

INSTANTIATE_TEST_SUITE_P(Design8, RejectTest, testing::ValuesIn(RejectTable()),
                         [](const testing::TestParamInfo<RejectCase>& info) {
                           return std::string(info.param.name);
                         });

// --- Accepted requests.

struct AcceptCase {
  const char* name;
  std::string raw;
  Method method;
  std::string_view method_text;
  std::string_view path;
  std::string_view query;
  int minor_version;
  bool keep_alive;
  bool expect_continue;
  bool chunked;
  uint64_t content_length;
};

const std::vector<AcceptCase>& AcceptTable() {
  static const std::vector<AcceptCase> table = {
      {"get", "GET /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n", Method::kGet, "GET", "/v1/models", "",
       1, true, false, false, 0},
      {"post_length", Post("Content-Type: application/json\r\nContent-Length: 42\r\n"),
       Method::kPost, "POST", "/v1/chat/completions", "", 1, true, false, false, 42},
      {"post_chunked", Post("Transfer-Encoding: chunked\r\n"), Method::kPost, "POST",
       "/v1/chat/completions", "", 1, true, false, true, 0},
      {"te_chunked_case", Post("transfer-encoding: Chunked\r\n"), Method::kPost, "POST",
       "/v1/chat/completions", "", 1, true, false, true, 0},
      {"cl_ows", Post("Content-Length:   7  \r\n"), Method::kPost, "POST", "/v1/chat/completions",
       "", 1, true, false, false, 7},
      {"cl_leading_zeros", Post("Content-Length: 0007\r\n"), Method::kPost, "POST",
       "/v1/chat/completions", "", 1, true, false, false, 7},
      {"cl_18_digits", Post("Content-Length: 999999999999999999\r\n"), Method::kPost, "POST",
       "/v1/chat/completions", "", 1, true, false, false, 999999999999999999ull},
      {"leading_crlfs", "\r\n\r\n\r\n\r\nGET /health/live HTTP/1.1\r\nHost: gw\r\n\r\n",
       Method::kGet, "GET", "/health/live", "", 1, true, false, false, 0},
      {"query", "GET /v1/models?limit=1&x=%20y HTTP/1.1\r\nHost: gw\r\n\r\n", Method::kGet, "GET",
       "/v1/models", "limit=1&x=%20y", 1, true, false, false, 0},
      {"empty_query", "GET /v1/models? HTTP/1.1\r\nHost: gw\r\n\r\n", Method::kGet, "GET",
       "/v1/models", "", 1, true, false, false, 0},
      {"two_question_marks", "GET /a?b?c HTTP/1.1\r\nHost: gw\r\n\r\n", Method::kGet, "GET", "/a",
       "b?c", 1, true, false, false, 0},
      {"options_asterisk", "OPTIONS * HTTP/1.1\r\nHost: gw\r\n\r\n", Method::kOptions, "OPTIONS",
       "*", "", 1, true, false, false, 0},
      {"extension_method", "PURGE /x HTTP/1.1\r\nHost: gw\r\n\r\n", Method::kOther, "PURGE", "/x",
       "", 1, true, false, false, 0},
      {"lowercase_method_is_other", "get / HTTP/1.1\r\nHost: gw\r\n\r\n", Method::kOther, "get",
       "/", "", 1, true, false, false, 0},
      // Keep-alive: HTTP/1.1 defaults to keep-alive, HTTP/1.0 to close; Connection tokens.
      {"http10_no_host", "GET / HTTP/1.0\r\n\r\n", Method::kGet, "GET", "/", "", 0, false, false,
       false, 0},
      {"http10_keep_alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", Method::kGet, "GET",
       "/", "", 0, true, false, false, 0},
      {"http10_keep_alive_case", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", Method::kGet,
       "GET", "/", "", 0, true, false, false, 0},
      {"http10_keep_alive_then_close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
       Method::kGet, "GET", "/", "", 0, false, false, false, 0},
      {"http10_close_then_keep_alive", "GET / HTTP/1.0\r\nConnection: close, keep-alive\r\n\r\n",
       Method::kGet, "GET", "/", "", 0, false, false, false, 0},
      {"http10_close_field_then_keep_alive_field",
       "GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n", Method::kGet, "GET",
       "/", "", 0, false, false, false, 0},
      {"http11_close", Get("Connection: close\r\n"), Method::kGet, "GET", "/v1/models", "", 1,
       false, false, false, 0},
      {"http11_close_case", Get("Connection: CLOSE\r\n"), Method::kGet, "GET", "/v1/models", "", 1,
       false, false, false, 0},
      {"http11_token_list", Get("Connection: upgrade ,\tclose\r\n"), Method::kGet, "GET",
       "/v1/models", "", 1, false, false, false, 0},
      {"http11_keep_alive", Get("Connection: keep-alive\r\n"), Method::kGet, "GET", "/v1/models",
       "", 1, true, false, false, 0},
      {"http11_closed_substring", Get("Connection: closed\r\n"), Method::kGet, "GET", "/v1/models",
       "", 1, true, false, false, 0},
      // Expect: 100-continue only means something in HTTP/1.1.
      {"expect_continue", Post("Expect: 100-continue\r\nContent-Length: 3\r\n"), Method::kPost,
       "POST", "/v1/chat/completions", "", 1, true, true, false, 3},
      {"expect_continue_case", Post("Expect: 100-Continue\r\nContent-Length: 3\r\n"), Method::kPost,
       "POST", "/v1/chat/completions", "", 1, true, true, false, 3},
      {"expect_other", Post("Expect: something\r\nContent-Length: 3\r\n"), Method::kPost, "POST",
       "/v1/chat/completions", "", 1, true, false, false, 3},
      {"expect_continue_http10",
       "POST /v1/embeddings HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
       Method::kPost, "POST", "/v1/embeddings", "", 0, false, false, false, 3},
      // Characters that are allowed.
      {"value_htab_and_obs_text", Get("X-A: a\tb \xC3\xA9\r\n"), Method::kGet, "GET", "/v1/models",
       "", 1, true, false, false, 0},
      {"empty_value", Get("X-Empty:\r\n"), Method::kGet, "GET", "/v1/models", "", 1, true, false,
       false, 0},
      {"token_chars_in_name", Get("X-!#$%&'*+.^`|~: v\r\n"), Method::kGet, "GET", "/v1/models", "",
       1, true, false, false, 0},
      {"hundred_fields", "GET / HTTP/1.1\r\nHost: gw\r\n" + Fields(99) + "\r\n", Method::kGet,
       "GET", "/", "", 1, true, false, false, 0},
      {"uri_at_limit", "GET /" + std::string(8191, 'a') + " HTTP/1.1\r\nHost: gw\r\n\r\n",
       Method::kGet, "GET", "", "", 1, true, false, false, 0},
  };
  return table;
}

void PrintTo(const AcceptCase& c, std::ostream* os) { *os << c.name; }

class AcceptTest : public testing::TestWithParam<AcceptCase> {};

void ExpectAccepted(const AcceptCase& c, const Outcome& outcome, const HttpRequest& r) {
  ASSERT_EQ(outcome.status, ParseStatus::kDone) << Describe(outcome.error).name;
  EXPECT_EQ(outcome.head_size, c.raw.size());
  EXPECT_EQ(r.method, c.method);
  EXPECT_EQ(r.method_text, c.method_text);
  if (!c.path.empty()) {
    EXPECT_EQ(r.path, c.path);
  }
  EXPECT_EQ(r.query, c.query);
  EXPECT_EQ(r.minor_version, c.minor_version);
  EXPECT_EQ(r.keep_alive, c.keep_alive);
  EXPECT_EQ(r.expect_continue, c.expect_continue);
  EXPECT_EQ(r.chunked, c.chunked);
  EXPECT_EQ(r.content_length, c.content_length);
}

TEST_P(AcceptTest, WholeAndBytewise) {
  const AcceptCase& c = GetParam();
  HttpRequest whole_request;
  ExpectAccepted(c, ParseWhole(c.raw, whole_request), whole_request);
  HttpRequest bytewise_request;
  ExpectAccepted(c, ParseBytewise(c.raw, bytewise_request), bytewise_request);
}

INSTANTIATE_TEST_SUITE_P(Requests, AcceptTest, testing::ValuesIn(AcceptTable()),
                         [](const testing::TestParamInfo<AcceptCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(RequestHead, HeadersAreTrimmedViewsIntoTheBuffer) {
  std::string raw =
      "POST /v1/embeddings HTTP/1.1\r\nHost:gw\r\nX-A: \t spaced value \t\r\n"
      "x-a: second\r\nContent-Length: 2\r\n\r\n{}";
  HttpRequest r;
  Outcome o = ParseWhole(raw, r);
  ASSERT_EQ(o.status, ParseStatus::kDone);
  EXPECT_EQ(o.head_size, raw.size() - 2);  // the body is not part of the head
  ASSERT_EQ(r.headers.size(), 4u);
  EXPECT_EQ(r.headers.Get("host"), "gw");
  EXPECT_EQ(r.headers.Get("X-A"), "spaced value");
  EXPECT_EQ(r.headers.Count("x-A"), 2);
  EXPECT_EQ(r.headers.fields()[2].value, "second");
  for (const Header& h : r.headers.fields()) {
    EXPECT_GE(h.name.data(), raw.data());
    EXPECT_LE(h.value.data() + h.value.size(), raw.data() + raw.size());
  }
}

TEST(RequestHead, PipelinedRequestsAreFoundOneAfterTheOther) {
  std::string first = "GET /a HTTP/1.1\r\nHost: gw\r\n\r\n";
  std::string second = "GET /b HTTP/1.1\r\nHost: gw\r\n\r\n";
  std::string data = first + second;
  HttpRequest r;
  Outcome o = ParseWhole(data, r);
  ASSERT_EQ(o.status, ParseStatus::kDone);
  EXPECT_EQ(o.head_size, first.size());
  EXPECT_EQ(r.path, "/a");
  o = ParseWhole(std::string_view(data).substr(first.size()), r);
  ASSERT_EQ(o.status, ParseStatus::kDone);
  EXPECT_EQ(r.path, "/b");
}

TEST(RequestHead, ScannerResetStartsOver) {
  HeadScanner scanner;
  ParseError error;
  size_t head_size = 0;
  HeadLimits limits;
  EXPECT_EQ(scanner.Scan("GET / HTTP/1.1\r\nHo", limits, true, head_size, error),
            ParseStatus::kIncomplete);
  scanner.Reset();
  std::string next = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_EQ(scanner.Scan(next, limits, true, head_size, error), ParseStatus::kDone);
  EXPECT_EQ(head_size, next.size());
}

TEST(RequestHead, ScannerCountsTheFieldLimitLikeTheParser) {
  HeadLimits limits;
  limits.max_header_fields = 3;
  HttpRequest r;
  // Request line + 3 fields: accepted; + 4 fields: 431 from both the scanner and the parser.
  std::string ok = "GET / HTTP/1.1\r\nHost: a\r\nX-1: 1\r\nX-2: 2\r\n\r\n";
  EXPECT_EQ(ParseWhole(ok, r, limits).status, ParseStatus::kDone);
  EXPECT_EQ(ParseBytewise(ok, r, limits).status, ParseStatus::kDone);
  std::string over = "GET / HTTP/1.1\r\nHost: a\r\nX-1: 1\r\nX-2: 2\r\nX-3: 3\r\n\r\n";
  EXPECT_EQ(ParseWhole(over, r, limits).error, ErrorClass::kHeaderTooLarge);
  EXPECT_EQ(ParseBytewise(over, r, limits).error, ErrorClass::kHeaderTooLarge);
  // The parser enforces the limit on its own too (heads not found by this scanner).
  ParseError error;
  EXPECT_FALSE(ParseRequestHead(over, limits, r, error));
  EXPECT_EQ(error.error, ErrorClass::kHeaderTooLarge);
}

TEST(RequestHead, HeadSizeLimitBoundary) {
  HeadLimits limits;
  limits.max_head_bytes = 1024;
  limits.max_uri_bytes = 256;
  std::string prefix = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
  auto head_of_size = [&](size_t size) {
    return prefix + std::string(size - prefix.size() - 4, 'p') + "\r\n\r\n";
  };
  HttpRequest r;
  std::string at_limit = head_of_size(1024);
  EXPECT_EQ(ParseWhole(at_limit, r, limits).status, ParseStatus::kDone);
  EXPECT_EQ(ParseBytewise(at_limit, r, limits).status, ParseStatus::kDone);
  // One byte over the limit is over the limit.
  std::string one_over = head_of_size(1025);
  EXPECT_EQ(ParseWhole(one_over, r, limits).error, ErrorClass::kHeaderTooLarge);
  EXPECT_EQ(ParseBytewise(one_over, r, limits).error, ErrorClass::kHeaderTooLarge);
  std::string over = head_of_size(1100);
  EXPECT_EQ(ParseWhole(over, r, limits).error, ErrorClass::kHeaderTooLarge);
  EXPECT_EQ(ParseBytewise(over, r, limits).error, ErrorClass::kHeaderTooLarge);
}

TEST(RequestHead, UriTooLongIsDetectedBeforeTheHeadCompletes) {
  HeadScanner scanner;
  ParseError error;
  size_t head_size = 0;
  HeadLimits limits;
  std::string data = "GET /" + std::string(limits.max_uri_bytes + 100, 'a');
  // No CRLF yet: the scanner cannot know where the head ends but already knows the URI is
  // too long.
  EXPECT_EQ(scanner.Scan(data, limits, true, head_size, error), ParseStatus::kError);
  EXPECT_EQ(error.error, ErrorClass::kUriTooLong);
  // A response scanner has no URI.
  HeadScanner response_scanner;
  std::string status_line = "HTTP/1.1 200 " + std::string(limits.max_uri_bytes + 100, 'a');
  EXPECT_EQ(response_scanner.Scan(status_line, limits, false, head_size, error),
            ParseStatus::kIncomplete);
}

// --- Response heads.

struct ResponseCase {
  const char* name;
  std::string raw;
  int status;
  int minor_version;
  bool chunked;
  bool has_length;
  uint64_t length;
  bool keep_alive;
  bool body_forbidden;  // for a GET request
};

const std::vector<ResponseCase>& ResponseTable() {
  static const std::vector<ResponseCase> table = {
      {"ok_length", "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", 200, 1, false, true, 12, true,
       false},
      {"no_reason", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 200, 1, false, true, 0, true,
       false},
      {"empty_reason", "HTTP/1.1 404 \r\nContent-Length: 3\r\n\r\n", 404, 1, false, true, 3, true,
       false},
      {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 200, 1, true, false, 0,
       true, false},
      {"close_delimited", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n", 200, 1,
       false, false, 0, true, false},
      {"close_delimited_close", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 200, 1, false,
       false, 0, false, false},
      {"http10", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", 200, 0, false, true, 1, false,
       false},
      {"http10_keep_alive",
       "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n", 200, 0, false,
       true, 1, true, false},
      {"continue", "HTTP/1.1 100 Continue\r\n\r\n", 100, 1, false, false, 0, true, true},
      {"early_hints", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", 103, 1, false, false, 0,
       true, true},
      {"no_content", "HTTP/1.1 204 No Content\r\n\r\n", 204, 1, false, false, 0, true, true},
      {"not_modified_with_length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", 304,
       1, false, true, 10, true, true},
      {"server_error", "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\r\n", 503, 1, false,
       false, 0, true, false},
      {"duplicate_identical_length",
       "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n", 200, 1, false, true, 4,
       true, false},
      {"underscore_allowed", "HTTP/1.1 200 OK\r\nX_Upstream: 1\r\nContent-Length: 0\r\n\r\n", 200,
       1, false, true, 0, true, false},
  };
  return table;
}

void PrintTo(const ResponseCase& c, std::ostream* os) { *os << c.name; }

class ResponseTest : public testing::TestWithParam<ResponseCase> {};

TEST_P(ResponseTest, Parses) {
  const ResponseCase& c = GetParam();
  HeadScanner scanner;
  ParseError error;
  size_t head_size = 0;
  ASSERT_EQ(scanner.Scan(c.raw, HeadLimits{}, /*is_request=*/false, head_size, error),
            ParseStatus::kDone);
  EXPECT_EQ(head_size, c.raw.size());
  HttpResponseHead head;
  ASSERT_TRUE(ParseResponseHead(c.raw, HeadLimits{}, head, error)) << error.message;
  EXPECT_EQ(head.status, c.status);
  EXPECT_EQ(head.minor_version, c.minor_version);
  EXPECT_EQ(head.chunked, c.chunked);
  EXPECT_EQ(head.has_content_length, c.has_length);
  EXPECT_EQ(head.content_length, c.length);
  EXPECT_EQ(head.keep_alive, c.keep_alive);
  EXPECT_EQ(head.BodyForbidden(/*request_was_head=*/false), c.body_forbidden);
  EXPECT_TRUE(head.BodyForbidden(/*request_was_head=*/true));
}

INSTANTIATE_TEST_SUITE_P(Responses, ResponseTest, testing::ValuesIn(ResponseTable()),
                         [](const testing::TestParamInfo<ResponseCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(ResponseHead, Rejections) {
  const struct {
    const char* name;
    std::string raw;
  } kCases[] = {
      {"two_digit_status", "HTTP/1.1 20 OK\r\n\r\n"},
      {"status_600", "HTTP/1.1 600 Nope\r\n\r\n"},
      {"status_099", "HTTP/1.1 099 Nope\r\n\r\n"},
      {"status_letters", "HTTP/1.1 2x0 OK\r\n\r\n"},
      {"no_space_after_code", "HTTP/1.1 200OK\r\n\r\n"},
      {"four_digit_status", "HTTP/1.1 2000 OK\r\n\r\n"},
      {"http2", "HTTP/2 200 OK\r\n\r\n"},
      {"http20", "HTTP/2.0 200 OK\r\n\r\n"},
      {"lowercase", "http/1.1 200 OK\r\n\r\n"},
      {"short", "HTTP/1.1\r\n\r\n"},
      {"te_gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"},
      {"te_and_cl", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"},
      {"conflicting_cl", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"},
      {"malformed_cl", "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n"},
      {"obs_fold", "HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\n\r\n"},
      {"bare_cr", "HTTP/1.1 200 OK\r\nX-A: b\rc\r\n\r\n"},
      {"nul_in_value", "HTTP/1.1 200 OK\r\nX-A: b"s + '\0' + "\r\n\r\n"},
      {"space_before_colon", "HTTP/1.1 200 OK\r\nX-A : b\r\n\r\n"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    HttpResponseHead head;
    ParseError error;
    EXPECT_FALSE(ParseResponseHead(c.raw, HeadLimits{}, head, error));
    EXPECT_EQ(error.error, ErrorClass::kUpstreamBadResponse);
    EXPECT_EQ(Describe(error.error).status, 502);
  }
}

TEST(ResponseHead, ScannerRejectsBareLfAndLeadingEmptyLine) {
  HeadScanner scanner;
  ParseError error;
  size_t head_size = 0;
  EXPECT_EQ(scanner.Scan("HTTP/1.1 200 OK\nX: y\r\n\r\n", HeadLimits{}, false, head_size, error),
            ParseStatus::kError);
  HeadScanner scanner2;
  EXPECT_EQ(scanner2.Scan("\r\nHTTP/1.1 200 OK\r\n\r\n", HeadLimits{}, false, head_size, error),
            ParseStatus::kError);
}

TEST(ResponseHead, ResetClearsPreviousResponse) {
  HttpResponseHead head;
  ParseError error;
  ASSERT_TRUE(ParseResponseHead(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", HeadLimits{},
      head, error));
  ASSERT_TRUE(ParseResponseHead("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n", HeadLimits{},
                                head, error));
  EXPECT_EQ(head.status, 201);
  EXPECT_FALSE(head.chunked);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_EQ(head.headers.size(), 1u);
}

TEST(TokenChars, MatchRfc9110) {
  std::string tchar =
      "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (int c = 0; c < 256; ++c) {
    bool expected = tchar.find(static_cast<char>(c)) != std::string::npos && c != 0;
    EXPECT_EQ(IsTokenChar(static_cast<unsigned char>(c)), expected) << c;
  }
}

// --- Chunked decoding.

struct DecodeResult {
  ParseStatus status = ParseStatus::kIncomplete;
  ErrorClass error = ErrorClass::kNone;
  std::string body;
  size_t consumed = 0;
};

// Feeds `input` split at the given offsets (sorted); stops at the first non-incomplete status.
DecodeResult DecodePieces(std::string_view input, const std::vector<size_t>& cuts) {
  ChunkedDecoder decoder;
  DecodeResult r;
  size_t begin = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    // Unconsumed bytes stay with the caller and are offered again with the next piece.
    std::string_view piece = input.substr(begin, end - begin);
    ParseError error;
    size_t consumed = 0;
    r.status = decoder.Decode(piece, r.body, consumed, error);
    EXPECT_LE(consumed, piece.size());
    begin += consumed;
    r.consumed = begin;
    if (r.status == ParseStatus::kError) {
      r.error = error.error;
      return r;
    }
    if (r.status == ParseStatus::kDone) {
      EXPECT_TRUE(decoder.done());
      return r;
    }
    EXPECT_EQ(consumed, piece.size());  // incomplete: everything offered was taken
  }
  return r;
}

struct ChunkedCase {
  const char* name;
  std::string input;
  std::string body;     // expected payload
  size_t trailing = 0;  // bytes of `input` after the chunked body (not consumed)
};

const std::vector<ChunkedCase>& ChunkedValidTable() {
  static const std::vector<ChunkedCase> table = {
      {"single", "5\r\nhello\r\n0\r\n\r\n", "hello"},
      {"two_chunks", "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", "abcde"},
      {"empty_body", "0\r\n\r\n", ""},
      {"upper_hex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
      {"lower_hex", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
      {"mixed_hex", "1B\r\n" + std::string(27, 'x') + "\r\n0\r\n\r\n", std::string(27, 'x')},
      {"leading_zeros", "005\r\nhello\r\n000\r\n\r\n", "hello"},
      {"extension", "5;ext=1\r\nhello\r\n0;last\r\n\r\n", "hello"},
      {"extension_bws", "5 ; a = b\r\nhello\r\n0\r\n\r\n", "hello"},
      {"quoted_extension", "5;name=\"quoted; value\\\" \\\\ \"\r\nhello\r\n0\r\n\r\n", "hello"},
      {"quoted_extension_crlf_lookalike", "5;a=\"x;\\r\\n\"\r\nhello\r\n0\r\n\r\n", "hello"},
      {"trailer", "5\r\nhello\r\n0\r\nX-Trailer: v\r\n\r\n", "hello"},
      {"two_trailers", "2\r\nhi\r\n0\r\nA: 1\r\nB: 2\r\n\r\n", "hi"},
      {"binary_data", "4\r\n\r\n\0\xff\r\n0\r\n\r\n"s, "\r\n\0\xff"s},
      {"followed_by_next_request", "1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n", "x", 16},
  };
  return table;
}

TEST(Chunked, ValidBodiesWholeAndSplitAtEveryByte) {
  for (const ChunkedCase& c : ChunkedValidTable()) {
    SCOPED_TRACE(c.name);
    DecodeResult whole = DecodePieces(c.input, {});
    ASSERT_EQ(whole.status, ParseStatus::kDone) << Describe(whole.error).name;
    EXPECT_EQ(whole.body, c.body);
    EXPECT_EQ(whole.consumed, c.input.size() - c.trailing);
    for (size_t cut = 1; cut < c.input.size(); ++cut) {
      SCOPED_TRACE("cut at " + std::to_string(cut));
      DecodeResult split = DecodePieces(c.input, {cut});
      EXPECT_EQ(split.status, ParseStatus::kDone);
      EXPECT_EQ(split.body, c.body);
      EXPECT_EQ(split.consumed, c.input.size() - c.trailing);
    }
    std::vector<size_t> every;
    for (size_t i = 1; i < c.input.size(); ++i) every.push_back(i);
    DecodeResult bytewise = DecodePieces(c.input, every);
    EXPECT_EQ(bytewise.status, ParseStatus::kDone);
    EXPECT_EQ(bytewise.body, c.body);
    EXPECT_EQ(bytewise.consumed, c.input.size() - c.trailing);
  }
}

TEST(Chunked, Rejections) {
  const struct {
    const char* name;
    std::string input;
  } kCases[] = {
      {"missing_size", "\r\nhello\r\n0\r\n\r\n"},
      {"missing_size_extension_only", ";ext\r\nhello\r\n0\r\n\r\n"},
      {"non_hex_size", "g\r\nhello\r\n0\r\n\r\n"},
      {"non_hex_after_digits", "5g\r\nhello\r\n0\r\n\r\n"},
      {"negative_size", "-5\r\nhello\r\n0\r\n\r\n"},
      {"hex_prefix", "0x5\r\nhello\r\n0\r\n\r\n"},
      {"size_overflow_16_digits", "1000000000000000\r\n"},
      {"size_overflow_many_digits", "ffffffffffffffffffff\r\n"},
      {"bare_lf_after_size", "5\nhello\r\n0\r\n\r\n"},
      {"bare_lf_after_extension", "5;a=b\nhello\r\n0\r\n\r\n"},
      {"bare_cr_after_size", "5\rhello\r\n0\r\n\r\n"},
      {"cr_in_quoted_extension", "5;a=\"x\ry\"\r\nhello\r\n0\r\n\r\n"},
      {"lf_in_quoted_extension", "5;a=\"x\ny\"\r\nhello\r\n0\r\n\r\n"},
      {"escaped_cr_in_quoted_extension", "5;a=\"x\\\ry\"\r\nhello\r\n0\r\n\r\n"},
      {"escaped_lf_in_quoted_extension", "5;a=\"x\\\ny\"\r\nhello\r\n0\r\n\r\n"},
      {"escaped_nul_in_quoted_extension", "5;a=\"x\\"s + '\0' + "y\"\r\nhello\r\n0\r\n\r\n"},
      {"control_in_extension", "5;a\x01\r\nhello\r\n0\r\n\r\n"},
      {"data_too_long", "5\r\nhelloX\r\n0\r\n\r\n"},
      {"data_then_bare_lf", "5\r\nhello\n0\r\n\r\n"},
      {"data_then_cr_only", "5\r\nhello\r0\r\n\r\n"},
      {"trailer_leading_space", "0\r\n X: y\r\n\r\n"},
      {"trailer_without_colon", "0\r\nXy\r\n\r\n"},
      {"trailer_space_before_colon", "0\r\nX : y\r\n\r\n"},
      {"trailer_control_char", "0\r\nX: a\x01\r\n\r\n"},
      {"trailer_bare_lf", "0\r\nX: y\n\r\n"},
      {"trailer_bare_cr", "0\r\nX: y\rz\r\n\r\n"},
      {"bare_cr_at_end", "0\r\n\r\r"},
      {"bare_lf_at_end", "0\r\n\n"},
      {"trailer_too_large", "0\r\nX: " + std::string(17 * 1024, 'a') + "\r\n\r\n"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    DecodeResult whole = DecodePieces(c.input, {});
    EXPECT_EQ(whole.status, ParseStatus::kError);
    EXPECT_EQ(whole.error, ErrorClass::kBadFraming);
    std::vector<size_t> every;
    for (size_t i = 1; i < c.input.size(); ++i) every.push_back(i);
    DecodeResult bytewise = DecodePieces(c.input, every);
    EXPECT_EQ(bytewise.status, ParseStatus::kError);
    EXPECT_EQ(bytewise.error, ErrorClass::kBadFraming);
  }
}

TEST(Chunked, IncompleteBodiesWaitForMore) {
  for (std::string input : {"5\r\nhel"s, "5\r\nhello\r\n"s, "5\r\nhello\r\n0\r\n"s,
                            "5\r\nhello\r\n0\r\nX: y\r\n"s, "5;a=\"q"s, ""s}) {
    SCOPED_TRACE(input);
    DecodeResult r = DecodePieces(input, {});
    EXPECT_EQ(r.status, ParseStatus::kIncomplete);
    EXPECT_EQ(r.consumed, input.size());
  }
}

TEST(Chunked, ResetAllowsReuse) {
  ChunkedDecoder decoder;
  std::string out;
  size_t consumed = 0;
  ParseError error;
  EXPECT_EQ(decoder.Decode("5;a=\"open", out, consumed, error), ParseStatus::kIncomplete);
  decoder.Reset();
  out.clear();
  EXPECT_EQ(decoder.Decode("2\r\nok\r\n0\r\n\r\n", out, consumed, error), ParseStatus::kDone);
  EXPECT_EQ(out, "ok");
  // Once done, further input is not consumed.
  EXPECT_EQ(decoder.Decode("more", out, consumed, error), ParseStatus::kDone);
  EXPECT_EQ(consumed, 0u);
}

}  // namespace
}  // namespace sluice
