// The token estimate on known bodies, with the exact numbers token_estimator.h promises.
#include "limits/token_estimator.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace sluice::limits {
namespace {

TokenEstimate Estimate(std::string_view body, int64_t default_completion = 256) {
  return EstimateTokens(boost::json::parse(body).as_object(), default_completion);
}

TEST(TokenEstimatorTest, TextIsBytesOverFourRoundedUp) {
  EXPECT_EQ(TextTokens(""), 0);
  EXPECT_EQ(TextTokens("a"), 1);
  EXPECT_EQ(TextTokens("abcd"), 1);
  EXPECT_EQ(TextTokens("abcde"), 2);
  EXPECT_EQ(TextTokens("h\xc3\xa9llo"), 2);                          // 6 UTF-8 bytes
  EXPECT_EQ(TextTokens("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"), 3);  // 9 bytes
}

TEST(TokenEstimatorTest, CompactJsonSizeMatchesCompactSerialisation) {
  // len(json.dumps(v, separators=(',', ':'))) for values without escapes or doubles.
  EXPECT_EQ(CompactJsonSize(boost::json::parse(
                R"({"a":-12,"b":[true,false,null],"c":{},"d":[],"e":18446744073709551615})")),
            70);
  EXPECT_EQ(CompactJsonSize(boost::json::parse("1.5")), 8);
}

TEST(TokenEstimatorTest, ChatMessagesWithOverhead) {
  const TokenEstimate e = Estimate(R"({"model":"gpt-4o","max_tokens":100,"messages":[
      {"role":"system","content":"You are helpful."},
      {"role":"user","content":"Hello there, how are you?"}]})");
  EXPECT_EQ(e.prompt, (3 + 2 + 4) + (3 + 1 + 7) + 3);
  EXPECT_EQ(e.completion_reserve, 100);
  EXPECT_EQ(e.total(), 123);
}

TEST(TokenEstimatorTest, NameCostsOneMoreAndNMultipliesTheReservation) {
  const TokenEstimate e = Estimate(R"({"max_completion_tokens":50,"max_tokens":100,"n":3,
      "messages":[{"role":"user","name":"bob","content":"hi"}]})");
  EXPECT_EQ(e.prompt, 3 + 1 + 1 + 1 + 1 + 3);
  EXPECT_EQ(e.completion_reserve, 150);  // max_completion_tokens wins over max_tokens
}

TEST(TokenEstimatorTest, ContentPartsTextAndImages) {
  const TokenEstimate e = Estimate(R"({"messages":[{"role":"user","content":[
      {"type":"text","text":"What is in this image?"},
      {"type":"image_url","image_url":{"url":"https://example.com/a.png"}},
      {"type":"image_url","image_url":{"url":"https://example.com/b.png","detail":"low"}}]}]})");
  EXPECT_EQ(e.prompt, 3 + 1 + 6 + kImageTokens + kLowDetailImageTokens + 3);
  EXPECT_EQ(e.completion_reserve, 256);  // the configured default
}

TEST(TokenEstimatorTest, ToolsFunctionsAndToolCalls) {
  const std::string tools =
      R"([{"type":"function","function":{"name":"get_weather","description":"Get the weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}])";
  EXPECT_EQ(JsonTokens(boost::json::parse(tools)), 48);  // 189 bytes
  EXPECT_EQ(
      Estimate(R"({"messages":[{"role":"user","content":"hi"}],"tools":)" + tools + "}").prompt,
      8 + 48);
  EXPECT_EQ(Estimate(R"({"messages":[{"role":"user","content":"hi"}],"tools":)" + tools +
                     R"(,"functions":)" + tools + "}")
                .prompt,
            8 + 48 + 48);
  const TokenEstimate calls = Estimate(R"({"messages":[
      {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"call_1","content":"22C"}]})");
  EXPECT_EQ(calls.prompt, (3 + 3 + 0 + 19) + (3 + 1 + 2 + 1) + 3);
}

TEST(TokenEstimatorTest, CompletionsPromptForms) {
  EXPECT_EQ(Estimate(R"({"prompt":"Say this is a test","max_tokens":7})").prompt, 5);
  EXPECT_EQ(Estimate(R"({"prompt":"Say this is a test","max_tokens":7})").completion_reserve, 7);
  EXPECT_EQ(Estimate(R"({"prompt":["abc","defgh"]})").prompt, 3);
  EXPECT_EQ(Estimate(R"({"prompt":[1,2,3]})").prompt, 3);
  EXPECT_EQ(Estimate(R"({"prompt":[[1,2,3],[4,5]]})").prompt, 5);
}

TEST(TokenEstimatorTest, EmbeddingsReserveNothing) {
  const TokenEstimate e =
      Estimate(R"({"model":"e","input":"The food was delicious","max_tokens":9})");
  EXPECT_EQ(e.prompt, 6);
  EXPECT_EQ(e.completion_reserve, 0);
  EXPECT_EQ(Estimate(R"({"input":["ab","cdefg",[1,2]]})").prompt, 1 + 2 + 2);
}

TEST(TokenEstimatorTest, InvalidReservationsFallBackToTheDefault) {
  EXPECT_EQ(Estimate(R"({"messages":[],"max_tokens":-5})").completion_reserve, 256);
  EXPECT_EQ(Estimate(R"({"messages":[],"max_tokens":1.5})").completion_reserve, 256);
  EXPECT_EQ(
      Estimate(R"({"messages":[],"max_completion_tokens":"9","max_tokens":4})").completion_reserve,
      4);
  EXPECT_EQ(Estimate(R"({"messages":[],"n":0,"max_tokens":4})").completion_reserve, 4);
  EXPECT_EQ(Estimate(R"({"messages":[]})").prompt, 3);
  const TokenEstimate empty = Estimate("{}", 1000);
  EXPECT_EQ(empty.prompt, 0);
  EXPECT_EQ(empty.completion_reserve, 1000);
  // Garbage shapes never throw.
  EXPECT_EQ(Estimate(R"({"messages":"x"})").prompt, 3);
  EXPECT_EQ(Estimate(R"({"messages":[7,{"content":[null,"ab"]}]})").prompt,
            (3 + 1) + (3 + 1 + 1) + 3);
}

}  // namespace
}  // namespace sluice::limits
