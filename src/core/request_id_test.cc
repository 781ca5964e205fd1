// Tests of request id validation and generation.
#include "core/request_id.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

namespace sluice {
namespace {

TEST(RequestId, ValidationTable) {
  const struct {
    std::string id;
    bool valid;
  } kCases[] = {
      {"req_0123456789abcdef0123456789abcdef", true},
      {"a", true},
      {"A-Z.a_z:0/9+=", true},
      {"550e8400-e29b-41d4-a716-446655440000", true},
      {std::string(128, 'x'), true},
      {std::string(129, 'x'), false},
      {"", false},
      {"has space", false},
      {"semi;colon", false},
      {"quote\"", false},
      {"new\nline", false},
      {"cr\r", false},
      {"tab\t", false},
      {"comma,", false},
      {"percent%20", false},
      {"caf\xC3\xA9", false},
      {std::string("nul\0", 4), false},
      {"<script>", false},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(IsValidRequestId(c.id), c.valid) << testing::PrintToString(c.id);
  }
}

TEST(RequestId, GeneratedFormat) {
  std::string id = "previous content is replaced";
  GenerateRequestId(id);
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id.substr(0, 4), "req_");
  for (char c : id.substr(4)) {
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
  }
  EXPECT_TRUE(IsValidRequestId(id));
}

TEST(RequestId, UniqueOver10k) {
  std::unordered_set<std::string> seen;
  std::string id;
  // Every hex digit position takes more than one value across the run (no stuck nibbles).
  std::vector<std::unordered_set<char>> digits(36);
  for (int i = 0; i < 10000; ++i) {
    GenerateRequestId(id);
    EXPECT_TRUE(seen.insert(id).second) << "duplicate " << id;
    for (size_t k = 4; k < id.size(); ++k) digits[k].insert(id[k]);
  }
  EXPECT_EQ(seen.size(), 10000u);
  for (size_t k = 4; k < 36; ++k) EXPECT_EQ(digits[k].size(), 16u) << "position " << k;
}

}  // namespace
}  // namespace sluice
