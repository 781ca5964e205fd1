// Tests of the process_* metrics: /proc/self/stat parsing (command names with spaces and
// parentheses, malformed text), and live figures that must move the way the process does:
// RSS after touching 64 MiB, open descriptors after opening three files, CPU seconds after
// a busy loop (checked against getrusage), start time within the last hour.
#include "observability/process_metrics.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>

namespace sluice {
namespace {

// A /proc/<pid>/stat line (Linux 5.x, 52 fields) of a process named `comm`, with
// utime 250, stime 50, starttime 1234 ticks, vsize 104857600, rss 2560 pages.
std::string StatLine(const std::string& comm) {
  return "4242 (" + comm +
         ") S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 3 0 1234 104857600 2560 "
         "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
}

constexpr ProcStatUnits kUnits{
    .clock_ticks_per_second = 100, .page_size_bytes = 4096, .boot_time_seconds = 1700000000};

TEST(ProcessMetricsParse, ReadsTheFieldsAfterTheCommandName) {
  ProcessStats stats;
  ASSERT_TRUE(ParseProcStat(StatLine("sluice"), kUnits, stats));
  EXPECT_DOUBLE_EQ(*stats.cpu_seconds, 3.0);  // (250 + 50) / 100
  EXPECT_DOUBLE_EQ(*stats.virtual_memory_bytes, 104857600.0);
  EXPECT_DOUBLE_EQ(*stats.resident_memory_bytes, 2560.0 * 4096);
  EXPECT_DOUBLE_EQ(*stats.start_time_seconds, 1700000000 + 12.34);
}

TEST(ProcessMetricsParse, CommandNamesMayHoldSpacesAndParentheses) {
  ProcessStats stats;
  ASSERT_TRUE(ParseProcStat(StatLine("a b) S 1 (c"), kUnits, stats));
  EXPECT_DOUBLE_EQ(*stats.cpu_seconds, 3.0);
  EXPECT_DOUBLE_EQ(*stats.resident_memory_bytes, 2560.0 * 4096);
}

TEST(ProcessMetricsParse, NoBootTimeMeansNoStartTime) {
  ProcessStats stats;
  ProcStatUnits units = kUnits;
  units.boot_time_seconds = 0;
  ASSERT_TRUE(ParseProcStat(StatLine("sluice"), units, stats));
  EXPECT_FALSE(stats.start_time_seconds.has_value());
  EXPECT_TRUE(stats.cpu_seconds.has_value());
}

TEST(ProcessMetricsParse, MalformedTextIsRejectedAndLeavesStatsEmpty) {
  for (const std::string& text :
       {std::string(), std::string("4242 sluice S 1"), std::string("4242 (sluice) S 1 2 3\n"),
        StatLine("sluice").replace(StatLine("sluice").find(" 250 "), 5, " x50 ")}) {
    ProcessStats stats;
    EXPECT_FALSE(ParseProcStat(text, kUnits, stats)) << text;
    EXPECT_FALSE(stats.cpu_seconds.has_value()) << text;
    EXPECT_FALSE(stats.resident_memory_bytes.has_value()) << text;
  }
  ProcessStats stats;
  EXPECT_FALSE(ParseProcStat(StatLine("sluice"), ProcStatUnits{}, stats)) << "zero units";
}

TEST(ProcessMetricsParse, BootTimeComesFromTheBtimeLine) {
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1712345678\nprocesses 9\n"), 1712345678);
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\nbtime 17\n"), 17);
  EXPECT_FALSE(ParseBootTime("cpu  1 2 3\nxbtime 5\n").has_value());
  EXPECT_FALSE(ParseBootTime("btime nope\n").has_value());
  EXPECT_FALSE(ParseBootTime("").has_value());
}

TEST(ProcessMetricsLive, ResidentMemoryGrowsAfterTouching64MiB) {
  ProcessStats before = ReadProcessStats();
  ASSERT_TRUE(before.resident_memory_bytes.has_value());
  ASSERT_TRUE(before.virtual_memory_bytes.has_value());
  EXPECT_GT(*before.resident_memory_bytes, 0);
  EXPECT_GE(*before.virtual_memory_bytes, *before.resident_memory_bytes);
  constexpr size_t kSize = 64u << 20;
  auto block = std::make_unique<char[]>(kSize);
  std::memset(block.get(), 0x5a, kSize);
  ProcessStats after = ReadProcessStats();
  // Read the block after the measurement so that the writes cannot be elided.
  volatile char sink = block[kSize / 2];
  (void)sink;
  ASSERT_TRUE(after.resident_memory_bytes.has_value());
  EXPECT_GE(*after.resident_memory_bytes - *before.resident_memory_bytes, 60.0 * (1 << 20));
  EXPECT_GE(*after.virtual_memory_bytes - *before.virtual_memory_bytes, 60.0 * (1 << 20));
}

TEST(ProcessMetricsLive, OpenFdsGrowsByExactlyThreeAfterOpeningThreeFiles) {
  ProcessStats before = ReadProcessStats();
  ASSERT_TRUE(before.open_fds.has_value());
  EXPECT_GE(*before.open_fds, 3);  // stdin, stdout, stderr at least
  int fds[3];
  for (int& fd : fds) {
    fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
  }
  ProcessStats during = ReadProcessStats();
  for (int fd : fds) ::close(fd);
  ProcessStats after = ReadProcessStats();
  EXPECT_EQ(*during.open_fds - *before.open_fds, 3);
  EXPECT_EQ(*after.open_fds, *before.open_fds);
}

TEST(ProcessMetricsLive, MaxFdsIsTheSoftLimit) {
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  ProcessStats stats = ReadProcessStats();
  ASSERT_TRUE(stats.max_fds.has_value());
  EXPECT_EQ(*stats.max_fds, static_cast<double>(limit.rlim_cur));
}

TEST(ProcessMetricsLive, StartTimeIsWithinTheLastHour) {
  ProcessStats stats = ReadProcessStats();
  ASSERT_TRUE(stats.start_time_seconds.has_value());
  double now = static_cast<double>(std::time(nullptr));
  // Boot time and start ticks have whole-second and 10 ms resolution.
  EXPECT_LE(*stats.start_time_seconds, now + 1);
  EXPECT_GT(*stats.start_time_seconds, now - 3600);
}

double RusageCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

TEST(ProcessMetricsLive, CpuSecondsGrowAfterABusyLoop) {
  ProcessStats before = ReadProcessStats();
  ASSERT_TRUE(before.cpu_seconds.has_value());
  // Spin until getrusage has seen 200 ms more CPU (bounded by 20 s of wall time).
  double start = RusageCpuSeconds();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  volatile uint64_t spin = 0;
  while (RusageCpuSeconds() - start < 0.2 && std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 100000; ++i) spin = spin + i;
  }
  ASSERT_GE(RusageCpuSeconds() - start, 0.2) << "the busy loop got no CPU for 20 s";
  ProcessStats after = ReadProcessStats();
  // /proc counts in clock ticks (10 ms): allow two ticks of rounding.
  EXPECT_GE(*after.cpu_seconds - *before.cpu_seconds, 0.18);
}

TEST(ProcessMetricsText, WritesEveryFamilyWithTheOfficialNamesAndTypes) {
  PrometheusText out;
  AppendProcessMetrics(out);
  const std::string& text = out.text();
  for (const char* expected : {
           "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
           "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total ",
           "# HELP process_open_fds Number of open file descriptors.\n"
           "# TYPE process_open_fds gauge\nprocess_open_fds ",
           "# HELP process_max_fds Maximum number of open file descriptors.\n"
           "# TYPE process_max_fds gauge\nprocess_max_fds ",
           "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
           "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes ",
           "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
           "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes ",
           "# HELP process_start_time_seconds Start time of the process since unix epoch in "
           "seconds.\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds ",
       }) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\nin:\n" << text;
  }
  // Six families, one sample each, each line ending in a newline.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 18);
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace sluice
