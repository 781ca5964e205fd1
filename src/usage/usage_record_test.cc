// Tests of the usage record's journal encoding: CRC-32C against the standard check value,
// payload round trip with every field set (and extremes), frames that are torn at every
// byte or damaged anywhere are never read as records, and garbage never decodes unsafely.
#include "usage/usage_record.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>

#include "usage/usage_test_util.h"

namespace sluice {
namespace {

TEST(Crc32c, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c("6789", Crc32c("12345")), 0xE3069283u);  // continues
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(UsagePayload, RoundTripsEveryField) {
  for (int64_t n : {0, 1, 2, 3}) {
    const UsageRecord record = MakeRecord("req_" + std::to_string(n), n);
    std::string payload;
    EncodeUsagePayload(record, payload);
    UsageRecord decoded;
    ASSERT_TRUE(DecodeUsagePayload(payload, &decoded));
    EXPECT_EQ(decoded, record);
  }
}

TEST(UsagePayload, RoundTripsExtremesAndEmptyStrings) {
  UsageRecord record;
  record.request_id = std::string(300, 'x');
  record.time_ms = std::numeric_limits<int64_t>::min();
  record.cost_micros = std::numeric_limits<int64_t>::max();
  record.prompt_tokens = -1;
  record.status = 599;
  record.client_disconnected = true;
  std::string payload;
  EncodeUsagePayload(record, payload);
  UsageRecord decoded;
  ASSERT_TRUE(DecodeUsagePayload(payload, &decoded));
  EXPECT_EQ(decoded, record);
}

TEST(UsagePayload, IgnoresFieldsAppendedByANewerWriter) {
  const UsageRecord record = MakeRecord("req_1");
  std::string payload;
  EncodeUsagePayload(record, payload);
  payload += "\x05more!";
  UsageRecord decoded;
  ASSERT_TRUE(DecodeUsagePayload(payload, &decoded));
  EXPECT_EQ(decoded, record);
}

TEST(UsageFrame, ReadsBackConsecutiveFrames) {
  std::string bytes;
  AppendUsageFrame(MakeRecord("a", 1), bytes);
  AppendUsageFrame(MakeRecord("b", 2), bytes);
  FrameView first = ReadUsageFrame(bytes);
  ASSERT_EQ(first.status, FrameStatus::kOk);
  FrameView second = ReadUsageFrame(std::string_view(bytes).substr(first.frame_bytes));
  ASSERT_EQ(second.status, FrameStatus::kOk);
  EXPECT_EQ(first.frame_bytes + second.frame_bytes, bytes.size());
  UsageRecord b;
  ASSERT_TRUE(DecodeUsagePayload(second.payload, &b));
  EXPECT_EQ(b, MakeRecord("b", 2));
}

TEST(UsageFrame, ATornFrameIsNeverARecord) {
  std::string bytes;
  AppendUsageFrame(MakeRecord("a"), bytes);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_NE(ReadUsageFrame(std::string_view(bytes).substr(0, cut)).status, FrameStatus::kOk)
        << "cut at " << cut;
  }
}

TEST(UsageFrame, AnyFlippedBitIsDetected) {
  std::string bytes;
  AppendUsageFrame(MakeRecord("a"), bytes);
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      EXPECT_NE(ReadUsageFrame(damaged).status, FrameStatus::kOk) << "byte " << i;
    }
  }
}

TEST(UsageFrame, ZeroFilledAndOversizedHeadersAreCorrupt) {
  EXPECT_EQ(ReadUsageFrame(std::string(64, '\0')).status, FrameStatus::kCorrupt);
  EXPECT_EQ(ReadUsageFrame(std::string("\xff\xff\xff\x7f\0\0\0\0", 8)).status,
            FrameStatus::kCorrupt);
  EXPECT_EQ(ReadUsageFrame("\x10\0\0").status, FrameStatus::kIncomplete);
}

TEST(UsagePayload, GarbageNeverDecodesOutOfBounds) {
  std::mt19937 rng(42);
  std::string payload;
  EncodeUsagePayload(MakeRecord("req"), payload);
  for (int round = 0; round < 2000; ++round) {
    std::string garbage = payload.substr(0, rng() % (payload.size() + 1));
    for (char& c : garbage) {
      if (rng() % 8 == 0) c = static_cast<char>(rng());
    }
    UsageRecord decoded;
    (void)DecodeUsagePayload(garbage, &decoded);  // must not crash (ASan checks bounds)
  }
  UsageRecord decoded;
  EXPECT_FALSE(DecodeUsagePayload("", &decoded));
  EXPECT_FALSE(DecodeUsagePayload(payload.substr(0, payload.size() - 1), &decoded));
}

}  // namespace
}  // namespace sluice
