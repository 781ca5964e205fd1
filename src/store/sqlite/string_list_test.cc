// Tests of the JSON encoding of string lists and the JSON object check used by the SQLite
// store: every byte string round-trips, and malformed stored values are rejected.
#include "store/sqlite/string_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::sqlite {
namespace {

TEST(SqliteStoreStringList, RoundTripsEveryByteString) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {""},
      {"admin", "viewer"},
      {"quote\"", "back\\slash", "tab\t", "newline\n", "ctl\x01"},
      {"é", "模型", "emoji 🚀"},
      {std::string("nul\0mid", 7)},
      {"\xff\xfe invalid utf-8", "\xc3"},
      {"gpt-4o*", "llama-3.1-70b"},
  };
  for (const std::vector<std::string>& list : cases) {
    std::string json = EncodeStringList(list);
    std::vector<std::string> decoded = {"stale"};
    ASSERT_TRUE(DecodeStringList(json, &decoded)) << json;
    EXPECT_EQ(decoded, list) << json;
  }
  EXPECT_EQ(EncodeStringList({}), "[]");
  EXPECT_EQ(EncodeStringList({"a", "b"}), R"(["a","b"])");
}

TEST(SqliteStoreStringList, RejectsWhatIsNotAnArrayOfStrings) {
  std::vector<std::string> out;
  for (const char* bad : {"", "{}", "\"a\"", "[1]", "[\"a\",null]", "[\"a\"", "[[\"a\"]]"}) {
    EXPECT_FALSE(DecodeStringList(bad, &out)) << bad;
  }
}

TEST(SqliteStoreStringList, RecognisesJsonObjects) {
  EXPECT_TRUE(IsJsonObject("{}"));
  EXPECT_TRUE(IsJsonObject(R"({"a":[1,{"b":null}]})"));
  EXPECT_TRUE(IsJsonObject(" { } "));
  for (const char* bad : {"", "[]", "1", "null", "{", "{} {}", "{\"a\":}"}) {
    EXPECT_FALSE(IsJsonObject(bad)) << bad;
  }
}

}  // namespace
}  // namespace sluice::sqlite
