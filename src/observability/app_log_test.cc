// Tests of the application log: the JSON format parses and has its fields, the text format's
// shape (UTC time, level, one line per message), secrets in messages are redacted, levels
// filter, and invalid options are refused without disturbing the installed logger.
#include "observability/app_log.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tests/testing/file_lines.h"

namespace sluice {
namespace {

using sluice::testing::ReadLines;

// Configures the app log into a fresh file under the test's name.
std::string ConfigureToFile(const std::string& name, const std::string& level,
                            const std::string& format) {
  std::string path = ::testing::TempDir() + "sluice_ut_app_log_" + name + ".log";
  std::remove(path.c_str());
  AppLogOptions options;
  options.level = level;
  options.format = format;
  options.output = path;
  std::string error;
  EXPECT_TRUE(ConfigureAppLog(options, error)) << error;
  return path;
}

// Seconds between a "2026-11-26T10:00:00.123Z" timestamp and now (UTC).
int64_t SecondsFromNow(const std::string& stamp) {
  struct tm tm = {};
  if (stamp.size() != 24 || stamp[23] != 'Z' || stamp[19] != '.' ||
      strptime(stamp.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) {
    return INT64_MAX;
  }
  int64_t then = timegm(&tm);
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  return now - then;
}

TEST(AppLog, JsonLinesParseAndCarryTimeLevelAndMessage) {
  std::string path = ConfigureToFile("json", "info", "json");
  spdlog::info("hello {}", "world");
  spdlog::error("quote \" backslash \\ newline \n tab \t bad utf8 \xff end");
  FlushAppLog();
  std::vector<std::string> lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 2u);
  boost::json::error_code ec;
  boost::json::value first = boost::json::parse(lines[0], ec);
  ASSERT_FALSE(ec) << lines[0];
  const boost::json::object& object = first.as_object();
  EXPECT_EQ(object.size(), 3u);
  EXPECT_EQ(object.at("level").as_string(), "info");
  EXPECT_EQ(object.at("msg").as_string(), "hello world");
  std::string time(object.at("time").as_string());
  EXPECT_LE(std::abs(SecondsFromNow(time)), 5) << time << " is not UTC now";
  boost::json::value second = boost::json::parse(lines[1], ec);
  ASSERT_FALSE(ec) << lines[1];
  EXPECT_EQ(second.at("level").as_string(), "error");
  EXPECT_EQ(second.at("msg").as_string(),
            "quote \" backslash \\ newline \n tab \t bad utf8 \xEF\xBF\xBD end");
  std::remove(path.c_str());
}

TEST(AppLog, TextLinesHaveUtcTimeLevelAndOneLinePerMessage) {
  std::string path = ConfigureToFile("text", "info", "text");
  spdlog::warn("disk {}% full", 91);
  spdlog::info("two\nlines\r\n2026-01-01T00:00:00.000Z error forged");
  FlushAppLog();
  std::vector<std::string> lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 2u);
  ASSERT_GT(lines[0].size(), 25u);
  EXPECT_LE(std::abs(SecondsFromNow(lines[0].substr(0, 24))), 5) << lines[0];
  EXPECT_EQ(lines[0].substr(24), " warn disk 91% full");
  EXPECT_EQ(lines[1].substr(24), " info two\\nlines\\r\\n2026-01-01T00:00:00.000Z error forged");
  std::remove(path.c_str());
}

TEST(AppLog, MessagesAreRedacted) {
  std::string path = ConfigureToFile("redact", "info", "text");
  spdlog::info("upstream rejected Bearer sk-abc123def456 for jane.doe@example.com");
  FlushAppLog();
  std::vector<std::string> lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find("sk-abc"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("jane"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("upstream rejected Bearer [REDACTED:token] for [REDACTED:email]"),
            std::string::npos)
      << lines[0];
  std::remove(path.c_str());
}

TEST(AppLog, LevelFilters) {
  std::string path = ConfigureToFile("levels", "warn", "text");
  spdlog::trace("t");
  spdlog::debug("d");
  spdlog::info("i");
  spdlog::warn("w");
  spdlog::error("e");
  spdlog::critical("c");
  FlushAppLog();
  std::vector<std::string> lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].substr(24), " warn w");
  EXPECT_EQ(lines[1].substr(24), " error e");
  EXPECT_EQ(lines[2].substr(24), " critical c");
  EXPECT_EQ(AppLogSink()->written(), 3u);
  std::remove(path.c_str());

  path = ConfigureToFile("off", "off", "json");
  spdlog::critical("nothing");
  FlushAppLog();
  EXPECT_TRUE(ReadLines(path).empty());
  std::remove(path.c_str());

  path = ConfigureToFile("trace", "trace", "json");
  spdlog::trace("everything");
  FlushAppLog();
  EXPECT_EQ(ReadLines(path).size(), 1u);
  std::remove(path.c_str());
}

TEST(AppLog, InvalidOptionsAreRefusedAndKeepTheCurrentLogger) {
  std::string path = ConfigureToFile("keep", "info", "text");
  std::shared_ptr<LineSink> sink = AppLogSink();
  std::string error;
  AppLogOptions options;
  options.level = "verbose";
  EXPECT_FALSE(ConfigureAppLog(options, error));
  EXPECT_EQ(error,
            "invalid logging level 'verbose' (expected trace, debug, info, warn, error or off)");
  options.level = "info";
  options.format = "xml";
  EXPECT_FALSE(ConfigureAppLog(options, error));
  EXPECT_NE(error.find("invalid logging format 'xml'"), std::string::npos) << error;
  options.format = "json";
  options.output = "/nonexistent/dir/app.log";
  EXPECT_FALSE(ConfigureAppLog(options, error));
  EXPECT_NE(error.find("cannot open '/nonexistent/dir/app.log'"), std::string::npos) << error;
  EXPECT_EQ(AppLogSink(), sink);
  spdlog::info("still here");
  FlushAppLog();
  std::vector<std::string> lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].substr(24), " info still here");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace sluice
