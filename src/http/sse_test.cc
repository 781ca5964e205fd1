// Tests of the incremental SSE parser (events split at every byte offset, line endings,
// comments, multi-line data, size limit), of ExtractUsage and of StreamChunkTokens.
#include "http/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/request_context.h"

namespace sluice {
namespace {

// An owning copy of an SseEvent (its views die with the next Feed).
struct Ev {
  std::string raw, name, data;
  bool has_data = false;
  bool comment_only = false;
  bool operator==(const Ev&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Ev& e) {
  return os << "{raw=" << testing::PrintToString(e.raw) << " name=" << e.name
            << " data=" << testing::PrintToString(e.data) << " has_data=" << e.has_data
            << " comment_only=" << e.comment_only << "}";
}

Ev Copy(const SseEvent& e) {
  return Ev{std::string(e.raw), std::string(e.name), std::string(e.data), e.has_data,
            e.comment_only};
}

// Takes every complete event out of the parser; returns false on kTooLarge.
bool Drain(SseParser& parser, std::vector<Ev>& out) {
  SseEvent event;
  for (;;) {
    switch (parser.Next(event)) {
      case SseParser::Result::kEvent:
        out.push_back(Copy(event));
        break;
      case SseParser::Result::kNeedMore:
        return true;
      case SseParser::Result::kTooLarge:
        return false;
    }
  }
}

std::vector<Ev> ParseInPieces(std::string_view input, const std::vector<size_t>& cuts) {
  SseParser parser;
  std::vector<Ev> events;
  size_t begin = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    parser.Feed(input.substr(begin, end - begin));
    EXPECT_TRUE(Drain(parser, events));
    begin = end;
  }
  return events;
}

// Checks that `input` yields `expected` when fed whole, split in two at every offset, and
// one byte at a time.
void ExpectEvents(std::string_view input, const std::vector<Ev>& expected) {
  EXPECT_EQ(ParseInPieces(input, {}), expected) << "whole";
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    EXPECT_EQ(ParseInPieces(input, {cut}), expected) << "cut at " << cut;
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < input.size(); ++i) every.push_back(i);
  EXPECT_EQ(ParseInPieces(input, every), expected) << "byte by byte";
}

Ev Data(std::string raw, std::string data, std::string name = "") {
  return Ev{std::move(raw), std::move(name), std::move(data), true, false};
}

TEST(SseParser, OpenAiStream) {
  std::string a = "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n";
  std::string b = "data: {\"choices\":[],\"usage\":{\"total_tokens\":3}}\n\n";
  std::string done = "data: [DONE]\n\n";
  ExpectEvents(a + b + done,
               {Data(a, "{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}"),
                Data(b, "{\"choices\":[],\"usage\":{\"total_tokens\":3}}"), Data(done, "[DONE]")});
}

TEST(SseParser, LineEndings) {
  SCOPED_TRACE("CRLF");
  ExpectEvents("data: a\r\n\r\ndata: b\r\n\r\n",
               {Data("data: a\r\n\r\n", "a"), Data("data: b\r\n\r\n", "b")});
  SCOPED_TRACE("LF");
  ExpectEvents("data: a\n\ndata: b\n\n", {Data("data: a\n\n", "a"), Data("data: b\n\n", "b")});
  SCOPED_TRACE("mixed");
  ExpectEvents("event: x\r\ndata: a\n\r\n", {Data("event: x\r\ndata: a\n\r\n", "a", "x")});
}

TEST(SseParser, LoneCrLineEndings) {
  // A CR at the very end of the buffer may be the first half of a CRLF, so the parser waits
  // for the next byte before it ends the line; the last event is delivered once more input
  // arrives.
  ExpectEvents("data: a\r\rdata: b\r\r:", {Data("data: a\r\r", "a"), Data("data: b\r\r", "b")});
  SseParser parser;
  parser.Feed("data: a\r\r");
  std::vector<Ev> events;
  ASSERT_TRUE(Drain(parser, events));
  EXPECT_TRUE(events.empty());
  parser.Feed("\n");  // completes the blank line as CRLF
  ASSERT_TRUE(Drain(parser, events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a");
  EXPECT_EQ(events[0].raw, "data: a\r\r\n");
}

TEST(SseParser, CommentsAndPings) {
  ExpectEvents(": ping\n\n:keep-alive\r\n\r\ndata: x\n\n",
               {Ev{": ping\n\n", "", "", false, true},
                Ev{":keep-alive\r\n\r\n", "", "", false, true}, Data("data: x\n\n", "x")});
  // A comment inside an event does not make it comment-only and is not part of the data.
  ExpectEvents("data: a\n: note\ndata: b\n\n", {Data("data: a\n: note\ndata: b\n\n", "a\nb")});
}

TEST(SseParser, MultiLineDataAndFields) {
  ExpectEvents("event: delta\ndata: line1\ndata: line2\ndata:line3\nid: 7\nretry: 10\n\n",
               {Data("event: delta\ndata: line1\ndata: line2\ndata:line3\nid: 7\nretry: 10\n\n",
                     "line1\nline2\nline3", "delta")});
  // Only one leading space is removed; a field without a colon has an empty value.
  ExpectEvents("data:  two spaces\n\n", {Data("data:  two spaces\n\n", " two spaces")});
  ExpectEvents("data\ndata\n\n", {Data("data\ndata\n\n", "\n")});
  ExpectEvents("data:\n\n", {Data("data:\n\n", "")});
  // Colons after the first belong to the value.
  ExpectEvents("data: {\"a\":1}\n\n", {Data("data: {\"a\":1}\n\n", "{\"a\":1}")});
}

TEST(SseParser, EventWithoutData) {
  ExpectEvents("event: end\n\n", {Ev{"event: end\n\n", "end", "", false, false}});
  ExpectEvents("id: 1\n\n", {Ev{"id: 1\n\n", "", "", false, false}});
}

TEST(SseParser, StrayBlankLinesAreSkipped) {
  ExpectEvents("\n\r\n\rdata: a\n\n\n\ndata: b\n\n",
               {Data("data: a\n\n", "a"), Data("data: b\n\n", "b")});
}

TEST(SseParser, MultiLineEventAfterMultiLineEvent) {
  ExpectEvents("data: a\ndata: b\n\ndata: c\n\ndata: d\ndata: e\n\n",
               {Data("data: a\ndata: b\n\n", "a\nb"), Data("data: c\n\n", "c"),
                Data("data: d\ndata: e\n\n", "d\ne")});
}

TEST(SseParser, ManyEventsCompactTheBuffer) {
  // Enough traffic to make Feed compact its buffer several times, in odd-sized pieces.
  std::string input;
  std::vector<Ev> expected;
  for (int i = 0; i < 2000; ++i) {
    std::string raw = "event: e" + std::to_string(i) + "\ndata: " + std::to_string(i) +
                      "\ndata: " + std::string(i % 50, 'x') + "\n\n";
    input += raw;
    expected.push_back(
        Data(raw, std::to_string(i) + "\n" + std::string(i % 50, 'x'), "e" + std::to_string(i)));
  }
  std::vector<size_t> cuts;
  for (size_t i = 7; i < input.size(); i += 1237) cuts.push_back(i);
  EXPECT_EQ(ParseInPieces(input, cuts), expected);
}

TEST(SseParser, HugeEventUnderTheLimitIsIntact) {
  std::string payload(600 * 1024, 'x');
  for (size_t i = 0; i < payload.size(); i += 97) payload[i] = static_cast<char>('a' + i % 26);
  std::string raw = "data: " + payload + "\n\n";
  for (size_t piece : {size_t{4096}, size_t{65536}, raw.size()}) {
    SCOPED_TRACE(piece);
    SseParser parser;  // default limit: 1 MiB
    std::vector<Ev> events;
    for (size_t i = 0; i < raw.size(); i += piece) {
      parser.Feed(std::string_view(raw).substr(i, piece));
      ASSERT_TRUE(Drain(parser, events));
    }
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].data, payload);
    EXPECT_EQ(events[0].raw, raw);
    EXPECT_EQ(parser.pending_bytes(), 0u);
  }
}

TEST(SseParser, HugeMultiLineEventUnderTheLimitIsIntact) {
  std::string raw;
  std::string data;
  for (int i = 0; i < 300; ++i) {
    std::string line(2000, static_cast<char>('a' + i % 26));
    raw += "data: " + line + "\n";
    data += (i ? "\n" : "") + line;
  }
  raw += "\n";
  SseParser parser;
  std::vector<Ev> events;
  for (size_t i = 0; i < raw.size(); i += 1000) {
    parser.Feed(std::string_view(raw).substr(i, 1000));
    ASSERT_TRUE(Drain(parser, events));
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, data);
}

// Result of feeding `input` in pieces of `piece` bytes until the parser refuses.
bool FeedUntilTooLarge(SseParser& parser, std::string_view input, size_t piece,
                       std::vector<Ev>& events) {
  for (size_t i = 0; i < input.size(); i += piece) {
    parser.Feed(input.substr(i, piece));
    if (!Drain(parser, events)) return true;
  }
  return false;
}

TEST(SseParser, EventOverTheLimitIsTooLarge) {
  const size_t kLimit = 8 * 1024;
  std::string small = "data: ok\n\n";
  std::string single_line = "data: " + std::string(kLimit + 100, 'x') + "\n\n";
  std::string multi_line;
  for (int i = 0; i < 12; ++i) multi_line += "data: " + std::string(1000, 'y') + "\n";
  multi_line += "\n";
  std::string unterminated = "data: " + std::string(kLimit + 100, 'z');
  for (const std::string* big : {&single_line, &multi_line, &unterminated}) {
    for (size_t piece : {size_t{1}, size_t{1000}, size_t{4096}, small.size() + big->size()}) {
      SCOPED_TRACE(testing::Message()
                   << "event of " << big->size() << " bytes, pieces of " << piece);
      SseParser parser(kLimit);
      std::vector<Ev> events;
      EXPECT_TRUE(FeedUntilTooLarge(parser, small + *big, piece, events));
      ASSERT_EQ(events.size(), 1u);  // the small event before it still went through
      EXPECT_EQ(events[0].data, "ok");
    }
  }
}

TEST(SseParser, EventAtTheLimitPasses) {
  const size_t kLimit = 1000;
  std::string raw = "data: " + std::string(kLimit - 8, 'x') + "\n\n";
  ASSERT_EQ(raw.size(), kLimit);
  for (size_t piece : {size_t{1}, size_t{7}, raw.size()}) {
    SseParser parser(kLimit);
    std::vector<Ev> events;
    EXPECT_FALSE(FeedUntilTooLarge(parser, raw, piece, events));
    EXPECT_EQ(events.size(), 1u);
  }
  std::string over = "data: " + std::string(kLimit - 7, 'x') + "\n\n";
  for (size_t piece : {size_t{1}, size_t{7}, over.size()}) {
    SseParser parser(kLimit);
    std::vector<Ev> events;
    EXPECT_TRUE(FeedUntilTooLarge(parser, over, piece, events)) << piece;
    EXPECT_TRUE(events.empty());
  }
}

TEST(SseParser, PendingBytesAndReset) {
  SseParser parser;
  parser.Feed("data: a\n\ndata: partial");
  std::vector<Ev> events;
  ASSERT_TRUE(Drain(parser, events));
  EXPECT_EQ(events.size(), 1u);
  EXPECT_EQ(parser.pending_bytes(), std::string("data: partial").size());
  parser.Reset();
  EXPECT_EQ(parser.pending_bytes(), 0u);
  parser.Feed("data: b\n\n");
  events.clear();
  ASSERT_TRUE(Drain(parser, events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "b");
}

TEST(SseFraming, AppendSseData) {
  std::string out = "x";
  AppendSseData(out, "{\"a\":1}");
  EXPECT_EQ(out, "xdata: {\"a\":1}\n\n");
  SseParser parser;
  parser.Feed(std::string_view(out).substr(1));
  SseEvent event;
  ASSERT_EQ(parser.Next(event), SseParser::Result::kEvent);
  EXPECT_EQ(event.data, "{\"a\":1}");
}

// --- ExtractUsage.

TEST(ExtractUsage, NonStreamingBody) {
  std::string body = R"({"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,
    "message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],
    "usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}})";
  Usage usage;
  ASSERT_TRUE(ExtractUsage(body, usage));
  EXPECT_TRUE(usage.known);
  EXPECT_EQ(usage.prompt_tokens, 12);
  EXPECT_EQ(usage.completion_tokens, 5);
  EXPECT_EQ(usage.total_tokens, 17);
  EXPECT_EQ(usage.cached_tokens, 0);
}

TEST(ExtractUsage, StreamUsageChunkWithCachedTokens) {
  std::string chunk = R"({"id":"c","object":"chat.completion.chunk","choices":[],"usage": {
    "prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
    "prompt_tokens_details": {"cached_tokens": 64}, "completion_tokens_details": {"reasoning_tokens": 0}}})";
  Usage usage;
  ASSERT_TRUE(ExtractUsage(chunk, usage));
  EXPECT_EQ(usage.prompt_tokens, 100);
  EXPECT_EQ(usage.completion_tokens, 20);
  EXPECT_EQ(usage.total_tokens, 120);
  EXPECT_EQ(usage.cached_tokens, 64);
}

TEST(ExtractUsage, EmbeddingsAndMissingTotal) {
  Usage usage;
  ASSERT_TRUE(ExtractUsage(
      R"({"object":"list","data":[],"usage":{"prompt_tokens":8,"total_tokens":8}})", usage));
  EXPECT_EQ(usage.prompt_tokens, 8);
  EXPECT_EQ(usage.completion_tokens, 0);
  EXPECT_EQ(usage.total_tokens, 8);
  Usage derived;
  ASSERT_TRUE(ExtractUsage(R"({"usage":{"prompt_tokens":3,"completion_tokens":4}})", derived));
  EXPECT_EQ(derived.total_tokens, 7);
}

TEST(ExtractUsage, NoUsage) {
  const char* kCases[] = {
      R"({"choices":[{"delta":{"content":"hi"}}],"usage":null})",
      R"({"choices":[{"delta":{"content":"hi"}}]})",
      // An escaped "usage" inside a string is not the key.
      R"({"choices":[{"delta":{"content":"the \"usage\": {\"prompt_tokens\": 5}"}}]})",
      R"({"usage":"none"})",
      R"({"usage":{"prompt_tokens":1)",  // truncated
      R"({"usage": )",
      "",
      "[DONE]",
  };
  for (const char* json : kCases) {
    SCOPED_TRACE(json);
    Usage usage;
    EXPECT_FALSE(ExtractUsage(json, usage));
    EXPECT_FALSE(usage.known);
  }
}

TEST(ExtractUsage, AStringValueNamedUsageAfterTheKeyDoesNotHideIt) {
  Usage usage;
  ASSERT_TRUE(ExtractUsage(
      R"({"usage":{"prompt_tokens":3,"completion_tokens":4},"note":"usage","x":["usage", "usage"]})",
      usage));
  EXPECT_EQ(usage.prompt_tokens, 3);
  EXPECT_EQ(usage.completion_tokens, 4);
  EXPECT_EQ(usage.total_tokens, 7);
}

TEST(SseParser, OneByteAtATimeStaysLinear) {
  // A 256 KiB data line fed one byte per call: with rescanning this is ~3·10^10 byte
  // comparisons and takes minutes; linear scanning takes milliseconds. The assertion is on
  // behaviour (one intact event); the time bound is enforced by the test timeout.
  std::string event = "data: " + std::string(256 * 1024, 'x') + "\r\n\r\n";
  SseParser parser(1 << 20);
  SseEvent out;
  int events = 0;
  for (char c : event) {
    parser.Feed(std::string_view(&c, 1));
    while (parser.Next(out) == SseParser::Result::kEvent) {
      ++events;
      EXPECT_EQ(out.data.size(), 256u * 1024);
    }
  }
  EXPECT_EQ(events, 1);
}

TEST(ExtractUsage, HostileCountsStayInRange) {
  // Absurd numbers from a broken upstream must not overflow the sum or the conversion.
  const char* kCases[] = {
      R"({"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}})",
      R"({"usage":{"prompt_tokens":1e300,"completion_tokens":-1e300,"total_tokens":1e400}})",
      R"({"usage":{"prompt_tokens":18446744073709551615,"completion_tokens":-5}})",
  };
  for (const char* json : kCases) {
    SCOPED_TRACE(json);
    Usage usage;
    if (ExtractUsage(json, usage)) {
      EXPECT_GE(usage.prompt_tokens, 0);
      EXPECT_GE(usage.completion_tokens, 0);
      EXPECT_GE(usage.total_tokens, 0);
    }
  }
}

TEST(ExtractUsage, WrongTypesCountAsZero) {
  Usage usage;
  ASSERT_TRUE(ExtractUsage(R"({"usage":{"prompt_tokens":"12","completion_tokens":true,
    "prompt_tokens_details":null}})",
                           usage));
  EXPECT_EQ(usage.prompt_tokens, 0);
  EXPECT_EQ(usage.completion_tokens, 0);
  EXPECT_EQ(usage.total_tokens, 0);
  EXPECT_EQ(usage.cached_tokens, 0);
}

// --- StreamChunkTokens: the table is the spec of what counts as a delivered token.

TEST(StreamChunkTokens, OneTokenPerChunkThatCarriesGeneratedText) {
  struct Case {
    const char* name;
    const char* data;
    int64_t tokens;
  };
  const Case kCases[] = {
      {"vLLM content",
       R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m",)"
       R"("choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}]})",
       1},
      {"one space is a token", R"({"choices":[{"index":0,"delta":{"content":" "}}]})", 1},
      {"escaped quote is a token", R"({"choices":[{"index":0,"delta":{"content":"\""}}]})", 1},
      {"whitespace around the colon", R"({"choices":[{"delta": {"content" : "Hi"}}]})", 1},
      {"empty content", R"({"choices":[{"index":0,"delta":{"content":""}}]})", 0},
      {"null content", R"({"choices":[{"index":0,"delta":{"content":null}}]})", 0},
      {"OpenAI role-only first chunk",
       R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":)"
       R"({"role":"assistant","content":"","refusal":null},"logprobs":null,)"
       R"("finish_reason":null}]})",
       0},
      {"vLLM role-only first chunk",
       R"({"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]})", 0},
      {"OpenAI finish chunk", R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})", 0},
      {"vLLM finish chunk",
       R"({"choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}]})", 0},
      {"completions text",
       R"({"id":"cmpl-1","object":"text_completion","choices":[{"index":0,"text":" world",)"
       R"("logprobs":null,"finish_reason":null}]})",
       1},
      {"completions finish",
       R"({"object":"text_completion","choices":[{"index":0,"text":"","finish_reason":"length"}]})",
       0},
      {"usage-only chunk",
       R"({"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":5,)"
       R"("completion_tokens":3,"total_tokens":8}})",
       0},
      {"tool call opening (name, empty arguments)",
       R"({"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[)"
       R"({"index":0,"id":"call_1","type":"function","function":{"name":"get_weather",)"
       R"("arguments":""}}]},"finish_reason":null}]})",
       0},
      {"tool call arguments",
       R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":)"
       R"({"arguments":"{\"city\":"}}]}}]})",
       1},
      {"reasoning_content", R"({"choices":[{"delta":{"reasoning_content":"Let"}}]})", 1},
      {"reasoning", R"({"choices":[{"delta":{"reasoning":"Let"}}]})", 1},
      {"refusal", R"({"choices":[{"delta":{"refusal":"I"}}]})", 1},
      {"two fields still one token",
       R"({"choices":[{"delta":{"reasoning_content":"a","content":"b"}}]})", 1},
      {"logprobs content is an array, not text",
       R"({"choices":[{"delta":{"content":""},"logprobs":{"content":[{"token":"a",)"
       R"("logprob":-0.1,"bytes":[97],"top_logprobs":[]}]}}]})",
       0},
      {"a key inside a string value is not a key",
       R"({"id":"\"content\":\"x\"","choices":[{"delta":{"content":""}}]})", 0},
      {"a string ending like a member, before a colon",
       R"({"id":"{\"content\":","choices":[{"index":0,"delta":{}}]})", 0},
      {"a string ending with a backslash before the real member",
       R"({"id":"a\\","choices":[{"delta":{"content":"Hi"}}]})", 1},
      {"a value equal to a key name",
       R"({"choices":[{"delta":{"role":"content","content":""},"finish_reason":"text"}]})", 0},
      {"similar key names", R"({"choices":[{"delta":{"contents":"x","texts":"y","ctext":"z"}}]})",
       0},
      {"[DONE]", "[DONE]", 0},
      {"empty", "", 0},
      {"truncated before the value", R"({"choices":[{"delta":{"content":)", 0},
      {"truncated inside the name", R"({"choices":[{"delta":{"cont)", 0},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(StreamChunkTokens(c.data), c.tokens) << c.name << ": " << c.data;
  }
}

TEST(StreamChunkTokens, EveryPrefixOfAChunkIsSafe) {
  // Views of a growing prefix in a buffer of exactly that size: ASan catches any read past.
  const std::string chunk =
      R"({"choices":[{"index":0,"delta":{"reasoning_content":"","content" : "Hi"}}]})";
  for (size_t n = 0; n <= chunk.size(); ++n) {
    std::vector<char> exact(chunk.begin(), chunk.begin() + static_cast<ptrdiff_t>(n));
    int64_t tokens = StreamChunkTokens(std::string_view(exact.data(), exact.size()));
    EXPECT_GE(tokens, 0);
    EXPECT_LE(tokens, 1);
  }
  EXPECT_EQ(StreamChunkTokens(chunk), 1);
}

}  // namespace
}  // namespace sluice
