// Tests of sluice-mock's deterministic content (word list, sizes, prebuilt table) and of
// the usage formula (mock_text.h). Single-threaded.
#include "mock_text.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace sluice {
namespace {

std::string Concatenate(int64_t n) {
  std::string text;
  for (int64_t i = 0; i < n; ++i) text.append(TokenText(i));
  return text;
}

TEST(MockTextTest, TokensFollowTheWordListWithLeadingSpaces) {
  EXPECT_EQ(TokenText(0), "Hello");
  EXPECT_EQ(TokenText(1), " from");
  EXPECT_EQ(TokenText(2), " the");
  EXPECT_EQ(TokenText(3), " simulated");
  EXPECT_EQ(TokenText(4), " upstream");
  // The list repeats; after the first token every word has its leading space.
  EXPECT_EQ(TokenText(kWordCount), " Hello");
  EXPECT_EQ(TokenText(kWordCount + 1), " from");
}

TEST(MockTextTest, WordsNeedNoJsonEscaping) {
  for (std::string_view word : kWords) {
    ASSERT_FALSE(word.empty());
    for (char c : word) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f && c != '"' && c != '\\') << word;
    }
  }
}

TEST(MockTextTest, ContentBytesAndAppendContentMatchTheConcatenation) {
  for (int64_t n = 0; n <= 3 * kWordCount + 1; ++n) {
    std::string expected = Concatenate(n);
    std::string content;
    AppendContent(content, n);
    EXPECT_EQ(content, expected) << n;
    EXPECT_EQ(ContentBytes(n), expected.size()) << n;
  }
}

TEST(MockTextTest, AppendContentBeyondThePrebuiltTable) {
  const int64_t n = (1 << 16) + 3 * kWordCount + 5;
  std::string content;
  AppendContent(content, n);
  EXPECT_EQ(content, Concatenate(n));
  EXPECT_EQ(content.size(), ContentBytes(n));
}

TEST(MockTextTest, TokensForBytesIsTheSmallestSufficientCount) {
  EXPECT_EQ(TokensForBytes(0), 0);
  EXPECT_EQ(TokensForBytes(-5), 0);
  for (int64_t bytes = 1; bytes <= 2000; ++bytes) {
    int64_t n = TokensForBytes(bytes);
    ASSERT_GE(ContentBytes(n), static_cast<uint64_t>(bytes)) << bytes;
    ASSERT_LT(ContentBytes(n - 1), static_cast<uint64_t>(bytes)) << bytes;
  }
}

TEST(MockTextTest, PromptTokensAreCeilingOfBytesOverFourAtLeastOne) {
  struct Case {
    uint64_t bytes;
    int64_t tokens;
  };
  for (Case c : {Case{0, 1}, Case{1, 1}, Case{4, 1}, Case{5, 2}, Case{8, 2}, Case{9, 3},
                 Case{4000, 1000}, Case{4001, 1001}}) {
    EXPECT_EQ(PromptTokensFromBytes(c.bytes), c.tokens) << c.bytes;
  }
}

TEST(MockTextTest, ChatPromptBytesCountStringAndTextPartContents) {
  // "Hi" (2) + "\u00e9t\u00e9" decoded to UTF-8 "été" (5) + text part "abc" (3); the image
  // part, the missing content and the role names count nothing.
  auto messages = boost::json::parse(R"([
      {"role":"system","content":"Hi"},
      {"role":"user","content":"\u00e9t\u00e9"},
      {"role":"user","content":[{"type":"text","text":"abc"},
                                {"type":"image_url","image_url":{"url":"http://x/y.png"}}]},
      {"role":"assistant","tool_calls":[]}])");
  EXPECT_EQ(ChatPromptBytes(&messages), 10u);
  EXPECT_EQ(PromptTokensFromBytes(ChatPromptBytes(&messages)), 3);
  EXPECT_EQ(ChatPromptBytes(nullptr), 0u);
}

TEST(MockTextTest, InputBytesForEveryPromptShape) {
  auto text = boost::json::parse(R"("hello")");
  auto texts = boost::json::parse(R"(["ab","cde"])");
  auto ids = boost::json::parse(R"([1,2,3])");
  auto id_lists = boost::json::parse(R"([[1,2],[3]])");
  EXPECT_EQ(InputBytes(&text), 5u);
  EXPECT_EQ(InputBytes(&texts), 5u);
  EXPECT_EQ(PromptTokensFromBytes(InputBytes(&ids)), 3);  // one token per id
  EXPECT_EQ(PromptTokensFromBytes(InputBytes(&id_lists)), 3);
  EXPECT_EQ(InputBytes(nullptr), 0u);
}

}  // namespace
}  // namespace sluice
