// Tests of response head framing (length, chunked, close; HTTP/1.0 keep-alive), the Date
// header and chunk framing. Heads are also read back with the strict response parser.
#include "http/response_writer.h"

#include <gtest/gtest.h>

#include <ctime>
#include <regex>
#include <string>

#include "http/http_parser.h"

namespace sluice {
namespace {

std::string Head(int status, std::string_view content_type, const HeaderBlock& extra,
                 std::string_view request_id, HeadFraming framing) {
  std::string out;
  AppendResponseHead(out, status, content_type, extra, request_id, framing);
  return out;
}

// The head without its Date line, which changes every second.
std::string WithoutDate(std::string head) {
  size_t pos = head.find("\r\nDate: ");
  if (pos == std::string::npos) return head;
  size_t end = head.find("\r\n", pos + 2);
  head.erase(pos, end - pos);
  return head;
}

HttpResponseHead ParseBack(const std::string& head) {
  HttpResponseHead parsed;
  ParseError error;
  EXPECT_TRUE(ParseResponseHead(head, HeadLimits{}, parsed, error)) << error.message;
  return parsed;
}

HeadFraming Framing(HeadFraming::Kind kind, uint64_t length, bool keep_alive, int minor) {
  HeadFraming f;
  f.kind = kind;
  f.content_length = length;
  f.keep_alive = keep_alive;
  f.minor_version = minor;
  return f;
}

TEST(ResponseWriter, ContentLengthHead) {
  HeaderBlock extra;
  extra.Add("X-RateLimit-Limit-Requests", "60");
  std::string head = Head(200, "application/json", extra, "req_abc",
                          Framing(HeadFraming::Kind::kLength, 12, true, 1));
  EXPECT_EQ(WithoutDate(head),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n"
            "X-Request-Id: req_abc\r\nX-RateLimit-Limit-Requests: 60\r\n\r\n");
  HttpResponseHead parsed = ParseBack(head);
  EXPECT_EQ(parsed.status, 200);
  EXPECT_TRUE(parsed.has_content_length);
  EXPECT_EQ(parsed.content_length, 12u);
  EXPECT_TRUE(parsed.keep_alive);
  EXPECT_EQ(parsed.headers.Get("x-request-id"), "req_abc");
  EXPECT_EQ(parsed.headers.Count("date"), 1);
}

TEST(ResponseWriter, ChunkedHead) {
  std::string head = Head(200, "text/event-stream", HeaderBlock{}, "req_1",
                          Framing(HeadFraming::Kind::kChunked, 0, true, 1));
  EXPECT_EQ(WithoutDate(head),
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            "Transfer-Encoding: chunked\r\nX-Request-Id: req_1\r\n\r\n");
  HttpResponseHead parsed = ParseBack(head);
  EXPECT_TRUE(parsed.chunked);
  EXPECT_FALSE(parsed.has_content_length);
}

TEST(ResponseWriter, CloseDelimitedHeadAlwaysSaysClose) {
  for (bool keep_alive : {true, false}) {
    std::string head = Head(200, "text/event-stream", HeaderBlock{}, "",
                            Framing(HeadFraming::Kind::kClose, 0, keep_alive, 1));
    EXPECT_EQ(WithoutDate(head),
              "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
    HttpResponseHead parsed = ParseBack(head);
    EXPECT_FALSE(parsed.keep_alive);
    EXPECT_FALSE(parsed.chunked);
    EXPECT_FALSE(parsed.has_content_length);
  }
}

TEST(ResponseWriter, ConnectionHeaderTable) {
  const struct {
    int minor;
    bool keep_alive;
    const char* connection;  // expected Connection header, "" when absent
  } kCases[] = {
      {1, true, ""},
      {1, false, "close"},
      {0, true, "keep-alive"},
      {0, false, "close"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(testing::Message() << "HTTP/1." << c.minor << " keep_alive=" << c.keep_alive);
    std::string head = Head(404, "application/json", HeaderBlock{}, "r",
                            Framing(HeadFraming::Kind::kLength, 0, c.keep_alive, c.minor));
    EXPECT_EQ(
        head.rfind(c.minor == 0 ? "HTTP/1.0 404 Not Found\r\n" : "HTTP/1.1 404 Not Found\r\n", 0),
        0u);
    HttpResponseHead parsed = ParseBack(head);
    EXPECT_EQ(parsed.headers.Get("connection"), c.connection);
    EXPECT_EQ(parsed.headers.Count("connection"), *c.connection ? 1 : 0);
    EXPECT_EQ(parsed.keep_alive, c.keep_alive);
    EXPECT_EQ(parsed.minor_version, c.minor);
  }
}

TEST(ResponseWriter, NoContentTypeNoRequestId) {
  std::string head =
      Head(204, "", HeaderBlock{}, "", Framing(HeadFraming::Kind::kLength, 0, true, 1));
  EXPECT_EQ(WithoutDate(head), "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
}

TEST(ResponseWriter, StatusLines) {
  const struct {
    int status;
    const char* line;
  } kCases[] = {
      {400, "HTTP/1.1 400 Bad Request\r\n"},
      {413, "HTTP/1.1 413 Content Too Large\r\n"},
      {414, "HTTP/1.1 414 URI Too Long\r\n"},
      {429, "HTTP/1.1 429 Too Many Requests\r\n"},
      {431, "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
      {499, "HTTP/1.1 499 Client Closed Request\r\n"},
      {502, "HTTP/1.1 502 Bad Gateway\r\n"},
      {505, "HTTP/1.1 505 HTTP Version Not Supported\r\n"},
      {418, "HTTP/1.1 418 Client Error\r\n"},
      {299, "HTTP/1.1 299 Success\r\n"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.status);
    std::string head = Head(c.status, "", HeaderBlock{}, "", HeadFraming{});
    EXPECT_EQ(head.substr(0, std::string_view(c.line).size()), c.line);
    EXPECT_EQ(ParseBack(head).status, c.status);
  }
}

TEST(ResponseWriter, DateIsImfFixdateOfNow) {
  std::string_view date = HttpDateNow();
  EXPECT_TRUE(std::regex_match(std::string(date),
                               std::regex(R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} )"
                                          R"((Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) )"
                                          R"(\d{4} \d{2}:\d{2}:\d{2} GMT)")))
      << date;
  std::tm tm{};
  ASSERT_NE(strptime(std::string(date).c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm), nullptr);
  std::time_t parsed = timegm(&tm);
  std::time_t now = std::time(nullptr);
  EXPECT_LE(parsed, now);
  EXPECT_GE(parsed, now - 2);
  std::string head = Head(200, "", HeaderBlock{}, "", HeadFraming{});
  EXPECT_NE(head.find("\r\nDate: " + std::string(HttpDateNow().substr(0, 5))), std::string::npos);
}

TEST(ResponseWriter, ChunkHeaderIsLowercaseHex) {
  const struct {
    size_t size;
    const char* text;
  } kCases[] = {
      {0, "0\r\n"},
      {1, "1\r\n"},
      {10, "a\r\n"},
      {255, "ff\r\n"},
      {4096, "1000\r\n"},
      {0xABCDEF, "abcdef\r\n"},
      {SIZE_MAX, "ffffffffffffffff\r\n"},
  };
  for (const auto& c : kCases) {
    std::string out = "prefix";
    AppendChunkHeader(out, c.size);
    EXPECT_EQ(out, std::string("prefix") + c.text);
  }
  EXPECT_EQ(kLastChunk, "0\r\n\r\n");
  EXPECT_EQ(kChunkTrailer, "\r\n");
}

TEST(ResponseWriter, ChunkFramingRoundTripsThroughTheDecoder) {
  std::string wire;
  std::string expected;
  for (std::string piece :
       {std::string("data: a\n\n"), "data: " + std::string(300, 'b') + "\n\n"}) {
    AppendChunkHeader(wire, piece.size());
    wire += piece;
    wire += kChunkTrailer;
    expected += piece;
  }
  wire += kLastChunk;
  ChunkedDecoder decoder;
  std::string body;
  size_t consumed = 0;
  ParseError error;
  ASSERT_EQ(decoder.Decode(wire, body, consumed, error), ParseStatus::kDone);
  EXPECT_EQ(consumed, wire.size());
  EXPECT_EQ(body, expected);
}

}  // namespace
}  // namespace sluice
