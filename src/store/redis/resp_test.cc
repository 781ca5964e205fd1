// RESP encoding and parsing without a server: exact bytes, nested replies, split input,
// error and nil replies, protocol errors.
#include "store/redis/resp.h"

#include <gtest/gtest.h>

namespace sluice::redis {
namespace {

TEST(AppendCommandTest, EncodesStringsAndIntegersAsBulkStrings) {
  std::string out;
  std::array<RedisArg, 4> args{"SET", std::string_view("k\r\ny"), int64_t{-42}, ""};
  AppendCommand(out, args);
  EXPECT_EQ(out, "*4\r\n$3\r\nSET\r\n$4\r\nk\r\ny\r\n$3\r\n-42\r\n$0\r\n\r\n");
  std::array<RedisArg, 1> ping{"PING"};
  AppendCommand(out, ping);  // appends
  EXPECT_EQ(out.substr(out.size() - 14), "*1\r\n$4\r\nPING\r\n");
}

TEST(RespReaderTest, ParsesEveryReplyKind) {
  RespReader reader;
  ASSERT_TRUE(reader.Feed("+OK\r\n-NOSCRIPT No matching script\r\n:-7\r\n$3\r\nabc\r\n$-1\r\n"));
  RedisReply r;
  ASSERT_EQ(reader.Next(r), RespReader::Status::kReply);
  EXPECT_EQ(r.kind, RedisReplyKind::kStatus);
  EXPECT_EQ(r.str, "OK");
  ASSERT_EQ(reader.Next(r), RespReader::Status::kReply);
  EXPECT_TRUE(r.is_error());
  EXPECT_TRUE(r.IsErrorCode("NOSCRIPT"));
  EXPECT_FALSE(r.IsErrorCode("NOSCRIP"));
  ASSERT_EQ(reader.Next(r), RespReader::Status::kReply);
  EXPECT_EQ(r.kind, RedisReplyKind::kInteger);
  EXPECT_EQ(r.integer, -7);
  ASSERT_EQ(reader.Next(r), RespReader::Status::kReply);
  EXPECT_EQ(r.kind, RedisReplyKind::kString);
  EXPECT_EQ(r.str, "abc");
  ASSERT_EQ(reader.Next(r), RespReader::Status::kReply);
  EXPECT_EQ(r.kind, RedisReplyKind::kNil);
  EXPECT_EQ(reader.Next(r), RespReader::Status::kNeedMore);
}

TEST(RespReaderTest, ParsesNestedArraysFedByteByByte) {
  RespReader reader;
  std::string_view wire = "*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n*0\r\n";
  RedisReply r;
  for (size_t i = 0; i < wire.size(); ++i) {
    EXPECT_EQ(reader.Next(r), RespReader::Status::kNeedMore) << i;
    ASSERT_TRUE(reader.Feed(wire.substr(i, 1)));
  }
  ASSERT_EQ(reader.Next(r), RespReader::Status::kReply);
  ASSERT_EQ(r.kind, RedisReplyKind::kArray);
  ASSERT_EQ(r.elements.size(), 3u);
  EXPECT_EQ(r.elements[0].integer, 1);
  ASSERT_EQ(r.elements[1].elements.size(), 2u);
  EXPECT_EQ(r.elements[1].elements[0].str, "a");
  EXPECT_EQ(r.elements[1].elements[1].kind, RedisReplyKind::kNil);
  EXPECT_EQ(r.elements[2].kind, RedisReplyKind::kArray);
  EXPECT_TRUE(r.elements[2].elements.empty());
}

TEST(RespReaderTest, ReportsProtocolErrorsAndRecoversAfterReset) {
  RespReader reader;
  ASSERT_TRUE(reader.Feed("*2\r\n:1\r\n?bad\r\n"));
  RedisReply r;
  EXPECT_EQ(reader.Next(r), RespReader::Status::kProtocolError);
  EXPECT_FALSE(reader.error().empty());
  reader.Reset();
  ASSERT_TRUE(reader.Feed(":5\r\n"));
  ASSERT_EQ(reader.Next(r), RespReader::Status::kReply);
  EXPECT_EQ(r.integer, 5);
}

}  // namespace
}  // namespace sluice::redis
