// Calendar windows against reference values computed with Python's zoneinfo (same tzdata):
// UTC, fixed offsets, DST days of 23 and 25 hours, months, ISO weeks across a year end,
// dates after the last listed transition (the POSIX rule), midnight gaps; load errors.
#include "limits/calendar_window.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

namespace sluice::limits {
namespace {

using W = WindowUnit;

struct Case {
  const char* zone;
  int64_t now_s;
  WindowUnit unit;
  int64_t start_s;
  int64_t end_s;
  const char* label;
};

// clang-format off
const Case kCases[] = {
  {"UTC", 1795696496, W::kDay, 1795651200, 1795737600, "2026-11-26"},  // 2026-11-26T12:34:56Z
  {"UTC", 1795696496, W::kWeek, 1795392000, 1795996800, "2026-W48"},
  {"UTC", 1795696496, W::kMonth, 1793491200, 1796083200, "2026-11"},
  {"+08:00", 1795636800, W::kDay, 1795622400, 1795708800, "2026-11-26"},  // 2026-11-25T20:00Z
  {"-05:30", 1795662000, W::kDay, 1795584600, 1795671000, "2026-11-25"},  // 2026-11-26T03:00Z
  {"America/New_York", 1772971200, W::kDay, 1772946000, 1773028800, "2026-03-08"},  // 23 h
  {"America/New_York", 1793534400, W::kDay, 1793505600, 1793595600, "2026-11-01"},  // 25 h
  {"America/New_York", 1793505599, W::kDay, 1793419200, 1793505600, "2026-10-31"},  // last second
  {"America/New_York", 1772668800, W::kWeek, 1772427600, 1773028800, "2026-W10"},  // 167 h
  {"America/New_York", 1773576000, W::kMonth, 1772341200, 1775016000, "2026-03"},  // 743 h
  {"America/New_York", 2215080000, W::kDay, 2215054800, 2215137600, "2040-03-11"},  // rule, 23 h
  {"America/New_York", 2235643200, W::kDay, 2235614400, 2235704400, "2040-11-04"},  // rule, 25 h
  {"Asia/Shanghai", 1796054400, W::kMonth, 1796054400, 1798732800, "2026-12"},  // its first second
  {"Asia/Shanghai", 1798734600, W::kMonth, 1798732800, 1801411200, "2027-01"},  // year end
  {"UTC", 1834185600, W::kMonth, 1832976000, 1835481600, "2028-02"},  // leap February
  {"UTC", 1798711200, W::kWeek, 1798416000, 1799020800, "2026-W53"},  // ISO week 53
  {"UTC", 1799020799, W::kWeek, 1798416000, 1799020800, "2026-W53"},  // Sunday 2027-01-03
  {"UTC", 1799020800, W::kWeek, 1799020800, 1799625600, "2027-W01"},
  {"UTC", 1798416000, W::kWeek, 1798416000, 1799020800, "2026-W53"},
  {"Australia/Sydney", 1791072000, W::kDay, 1791036000, 1791118800, "2026-10-04"},  // 23 h
  {"Australia/Sydney", 2390428800, W::kDay, 2390392800, 2390475600, "2045-10-01"},  // rule, south
  {"America/Santiago", 1788696000, W::kDay, 1788667200, 1788750000, "2026-09-06"},  // no midnight
  {"America/Santiago", 1775390400, W::kDay, 1775361600, 1775448000, "2026-04-05"},
  {"Europe/Dublin", 1792929600, W::kDay, 1792882800, 1792972800, "2026-10-25"},  // negative DST
};
// clang-format on

TEST(CalendarWindowTest, MatchesReferenceWindows) {
  for (const Case& c : kCases) {
    std::string error;
    const auto tz = TimeZone::Load(c.zone, &error);
    ASSERT_NE(tz, nullptr) << c.zone << ": " << error;
    const CalendarWindow w = WindowContaining(*tz, c.unit, c.now_s * 1'000'000 + 123);
    EXPECT_EQ(w.start_us, c.start_s * 1'000'000) << c.zone << " " << c.label;
    EXPECT_EQ(w.end_us, c.end_s * 1'000'000) << c.zone << " " << c.label;
    EXPECT_EQ(w.label(), c.label) << c.zone;
  }
}

TEST(CalendarWindowTest, OffsetsAroundNewYorkTransitions) {
  std::string error;
  const auto ny = TimeZone::Load("America/New_York", &error);
  ASSERT_NE(ny, nullptr) << error;
  EXPECT_EQ(ny->UtcOffsetAt(1772953199), -5 * 3600);  // 2026-03-08 01:59:59 EST
  EXPECT_EQ(ny->UtcOffsetAt(1772953200), -4 * 3600);  // 03:00 EDT
  EXPECT_EQ(ny->UtcOffsetAt(1793512799), -4 * 3600);  // 2026-11-01 01:59:59 EDT
  EXPECT_EQ(ny->UtcOffsetAt(1793512800), -5 * 3600);  // 01:00 EST again
  EXPECT_EQ(ny->name(), "America/New_York");
}

TEST(CalendarWindowTest, PosixRules) {
  TimeZone::Rule r;
  ASSERT_TRUE(ParsePosixRule("EST5EDT,M3.2.0,M11.1.0", &r));
  EXPECT_EQ(r.std_offset, -18000);
  EXPECT_EQ(r.dst_offset, -14400);
  EXPECT_TRUE(r.has_dst);
  EXPECT_EQ(r.start.month, 3);
  EXPECT_EQ(r.end.time_s, 7200);
  ASSERT_TRUE(ParsePosixRule("<+0530>-5:30", &r));
  EXPECT_EQ(r.std_offset, 19800);
  EXPECT_FALSE(r.has_dst);
  ASSERT_TRUE(ParsePosixRule("IST-1GMT0,M10.5.0,M3.5.0/1", &r));
  EXPECT_EQ(r.std_offset, 3600);
  EXPECT_EQ(r.dst_offset, 0);
  ASSERT_TRUE(ParsePosixRule("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", &r));
  EXPECT_EQ(r.start.time_s, -3600);
  ASSERT_TRUE(ParsePosixRule("XXX3YYY,J60,300/25", &r));
  EXPECT_EQ(r.start.form, 'J');
  EXPECT_EQ(r.end.form, 'N');
  EXPECT_EQ(r.end.time_s, 25 * 3600);
  EXPECT_FALSE(ParsePosixRule("", &r));
  EXPECT_FALSE(ParsePosixRule("EST", &r));
  EXPECT_FALSE(ParsePosixRule("EST5EDT,M13.1.0,M11.1.0", &r));
  EXPECT_FALSE(ParsePosixRule("EST5EDT,M3.2.0", &r));
}

TEST(CalendarWindowTest, FixedOffsets) {
  int32_t off = 0;
  EXPECT_TRUE(ParseUtcOffset("+08:00", &off));
  EXPECT_EQ(off, 8 * 3600);
  EXPECT_TRUE(ParseUtcOffset("-05:30", &off));
  EXPECT_EQ(off, -(5 * 3600 + 1800));
  EXPECT_TRUE(ParseUtcOffset("+0545", &off));
  EXPECT_EQ(off, 5 * 3600 + 2700);
  EXPECT_TRUE(ParseUtcOffset("-3", &off));
  EXPECT_EQ(off, -3 * 3600);
  EXPECT_FALSE(ParseUtcOffset("08:00", &off));
  EXPECT_FALSE(ParseUtcOffset("+08:0", &off));
  EXPECT_FALSE(ParseUtcOffset("+08:60", &off));
  EXPECT_FALSE(ParseUtcOffset("+30:00", &off));
  EXPECT_FALSE(ParseUtcOffset("+8x", &off));
}

TEST(CalendarWindowTest, LoadErrorsAreReportedNotThrown) {
  std::string error;
  EXPECT_EQ(TimeZone::Load("Mars/Olympus_Mons", &error), nullptr);
  EXPECT_EQ(error, "unknown time zone 'Mars/Olympus_Mons'");
  EXPECT_EQ(TimeZone::Load("../../etc/passwd", &error), nullptr);
  EXPECT_EQ(error, "unknown time zone '../../etc/passwd'");
  EXPECT_EQ(TimeZone::Load("/etc/passwd", &error), nullptr);
  EXPECT_EQ(TimeZone::Load("", &error), nullptr);
  EXPECT_EQ(TimeZone::Load("+25:00", &error), nullptr);
  EXPECT_EQ(error, "malformed UTC offset '+25:00' (expected like +08:00)");

  // Malformed and truncated TZif files in a directory of our own.
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("sluice_tz_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "Garbage") << "not a tzif file at all, but long enough to have a header....";
  {
    std::ifstream in("/usr/share/zoneinfo/America/New_York", std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(data.size(), 200u);
    std::ofstream(dir / "Truncated", std::ios::binary) << data.substr(0, data.size() / 2);
    std::ofstream(dir / "Whole", std::ios::binary) << data;
  }
  EXPECT_EQ(TimeZone::Load("Garbage", &error, dir.string()), nullptr);
  EXPECT_EQ(error, "malformed time zone file for 'Garbage'");
  EXPECT_EQ(TimeZone::Load("Truncated", &error, dir.string()), nullptr);
  EXPECT_EQ(error, "malformed time zone file for 'Truncated'");
  EXPECT_NE(TimeZone::Load("Whole", &error, dir.string()), nullptr);
  std::filesystem::remove_all(dir);
}

TEST(CalendarWindowTest, InstantsBeforeTheEpochAndSubSeconds) {
  std::string error;
  const auto utc = TimeZone::Load("UTC", &error);
  ASSERT_NE(utc, nullptr);
  const CalendarWindow w =
      WindowContaining(*utc, WindowUnit::kDay, -1);  // 1969-12-31T23:59:59.999999
  EXPECT_EQ(w.label(), "1969-12-31");
  EXPECT_EQ(w.start_us, -86'400'000'000);
  EXPECT_EQ(w.end_us, 0);
}

// The per-thread cache answers exactly as WindowContaining: through DST days of 23 and 25
// hours (each instant of a day, hour by hour, and the last microsecond of a window), when
// another unit or another zone is asked in between, and going back in time.
TEST(CalendarWindowTest, CachedWindowsEqualComputedOnes) {
  std::string error;
  const auto new_york = TimeZone::Load("America/New_York", &error);
  ASSERT_NE(new_york, nullptr) << error;
  const auto tokyo = TimeZone::Fixed("+09:00", 9 * 3600);
  auto same = [](const CalendarWindow& a, const CalendarWindow& b) {
    return a.start_us == b.start_us && a.end_us == b.end_us && a.label() == b.label();
  };
  constexpr int64_t kHourUs = 3'600'000'000;
  std::vector<int64_t> instants;
  for (int64_t start_s : {int64_t{1772946000}, int64_t{1793505600}}) {  // 2026-03-08, 11-01
    for (int64_t h = -2; h <= 27; ++h) instants.push_back(start_s * 1'000'000 + h * kHourUs);
    instants.push_back(start_s * 1'000'000 - 1);
  }
  instants.push_back(1772946000LL * 1'000'000);  // back in time
  for (int64_t now : instants) {
    for (WindowUnit unit : {WindowUnit::kDay, WindowUnit::kWeek, WindowUnit::kMonth}) {
      EXPECT_TRUE(same(CachedWindowContaining(*new_york, unit, now),
                       WindowContaining(*new_york, unit, now)))
          << now << " unit " << static_cast<int>(unit);
      EXPECT_TRUE(
          same(CachedWindowContaining(*tokyo, unit, now), WindowContaining(*tokyo, unit, now)))
          << now << " unit " << static_cast<int>(unit);
    }
  }
}

TEST(CalendarWindowTest, EveryTimeZoneHasItsOwnSerial) {
  const auto a = TimeZone::Fixed("UTC", 0);
  const auto b = TimeZone::Fixed("UTC", 0);
  EXPECT_NE(a->serial(), b->serial());
  EXPECT_NE(a->serial(), 0u);
}

}  // namespace
}  // namespace sluice::limits
