// Process metrics from /proc/self/stat, /proc/stat, /proc/self/fd and getrlimit, with the
// names and help texts of the official Prometheus clients (client_golang, client_python).
#include "observability/process_metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <string>

namespace sluice {
namespace {

// The whole of a /proc file (their reported size is 0, so read to the end); nullopt if it
// cannot be opened or read.
std::optional<std::string> ReadWholeFile(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

bool ParseInt(std::string_view text, int64_t& value) {
  auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

std::optional<double> CountOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  // Counts the directory's own descriptor too, as the official clients do.
  double count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count;
}

std::optional<double> MaxFds() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::nullopt;
  if (limit.rlim_cur == RLIM_INFINITY) return std::nullopt;
  return static_cast<double>(limit.rlim_cur);
}

void AppendSingleSample(PrometheusText& out, std::string_view name, std::string_view type,
                        std::string_view help, const std::optional<double>& value) {
  if (!value) return;
  out.Family(name, type, help);
  out.Sample(name, {}, *value);
}

}  // namespace

bool ParseProcStat(std::string_view stat_text, const ProcStatUnits& units, ProcessStats& stats) {
  size_t close_paren = stat_text.rfind(')');
  if (close_paren == std::string_view::npos) return false;
  // Fields 3 (state) to 24 (rss) follow the command name; field n is fields[n - 3].
  constexpr size_t kFieldsNeeded = 22;
  std::array<std::string_view, kFieldsNeeded> fields;
  size_t count = 0;
  size_t pos = close_paren + 1;
  while (count < kFieldsNeeded) {
    while (pos < stat_text.size() && stat_text[pos] == ' ') ++pos;
    if (pos >= stat_text.size()) break;
    size_t end = stat_text.find_first_of(" \n", pos);
    if (end == std::string_view::npos) end = stat_text.size();
    fields[count++] = stat_text.substr(pos, end - pos);
    pos = end;
    if (pos < stat_text.size() && stat_text[pos] == '\n') break;
  }
  if (count < kFieldsNeeded) return false;
  int64_t utime = 0, stime = 0, start_ticks = 0, vsize = 0, rss_pages = 0;
  if (!ParseInt(fields[14 - 3], utime) || !ParseInt(fields[15 - 3], stime) ||
      !ParseInt(fields[22 - 3], start_ticks) || !ParseInt(fields[23 - 3], vsize) ||
      !ParseInt(fields[24 - 3], rss_pages)) {
    return false;
  }
  if (units.clock_ticks_per_second <= 0 || units.page_size_bytes <= 0) return false;
  const double ticks = static_cast<double>(units.clock_ticks_per_second);
  stats.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  stats.virtual_memory_bytes = static_cast<double>(vsize);
  stats.resident_memory_bytes = static_cast<double>(rss_pages * units.page_size_bytes);
  if (units.boot_time_seconds > 0) {
    stats.start_time_seconds =
        static_cast<double>(units.boot_time_seconds) + static_cast<double>(start_ticks) / ticks;
  }
  return true;
}

std::optional<int64_t> ParseBootTime(std::string_view proc_stat_text) {
  constexpr std::string_view kKey = "btime ";
  size_t pos = 0;
  while (pos < proc_stat_text.size()) {
    size_t end = proc_stat_text.find('\n', pos);
    if (end == std::string_view::npos) end = proc_stat_text.size();
    std::string_view line = proc_stat_text.substr(pos, end - pos);
    if (line.starts_with(kKey)) {
      int64_t value = 0;
      if (ParseInt(line.substr(kKey.size()), value)) return value;
      return std::nullopt;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

ProcessStats ReadProcessStats() {
  ProcessStats stats;
  ProcStatUnits units;
  units.clock_ticks_per_second = ::sysconf(_SC_CLK_TCK);
  units.page_size_bytes = ::sysconf(_SC_PAGESIZE);
  if (auto proc_stat = ReadWholeFile("/proc/stat")) {
    units.boot_time_seconds = ParseBootTime(*proc_stat).value_or(0);
  }
  if (auto self_stat = ReadWholeFile("/proc/self/stat")) {
    ParseProcStat(*self_stat, units, stats);
  }
  stats.open_fds = CountOpenFds();
  stats.max_fds = MaxFds();
  return stats;
}

void AppendProcessMetrics(PrometheusText& out) {
  ProcessStats stats = ReadProcessStats();
  AppendSingleSample(out, "process_cpu_seconds_total", "counter",
                     "Total user and system CPU time spent in seconds.", stats.cpu_seconds);
  AppendSingleSample(out, "process_open_fds", "gauge", "Number of open file descriptors.",
                     stats.open_fds);
  AppendSingleSample(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
                     stats.max_fds);
  AppendSingleSample(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
                     stats.virtual_memory_bytes);
  AppendSingleSample(out, "process_resident_memory_bytes", "gauge",
                     "Resident memory size in bytes.", stats.resident_memory_bytes);
  AppendSingleSample(out, "process_start_time_seconds", "gauge",
                     "Start time of the process since unix epoch in seconds.",
                     stats.start_time_seconds);
}

}  // namespace sluice
