// The standard process_* metrics of Prometheus client libraries (CPU seconds, resident and
// virtual memory, open and maximum descriptors, start time), read from /proc at scrape time
// and written with the official clients' names and help texts. Admin path only (reads files).
// Thread-safe: no shared state; each call reads /proc afresh.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "observability/prometheus_text.h"

namespace sluice {

// What /proc says about this process; a value it could not read stays empty (and its metric
// is left out of the scrape rather than reported as 0).
struct ProcessStats {
  std::optional<double> cpu_seconds;            // user + system
  std::optional<double> resident_memory_bytes;  // RSS
  std::optional<double> virtual_memory_bytes;   // VSZ
  std::optional<double> open_fds;
  std::optional<double> max_fds;             // RLIMIT_NOFILE, soft limit
  std::optional<double> start_time_seconds;  // Unix time
};

// The constants that turn /proc/self/stat fields into seconds and bytes.
struct ProcStatUnits {
  int64_t clock_ticks_per_second = 0;  // sysconf(_SC_CLK_TCK)
  int64_t page_size_bytes = 0;         // sysconf(_SC_PAGESIZE)
  int64_t boot_time_seconds = 0;       // btime of /proc/stat
};

// Fills cpu_seconds, virtual and resident memory and (when units.boot_time_seconds > 0) the
// start time from the text of /proc/<pid>/stat. The command name (field 2) may hold spaces
// and parentheses; fields are counted after its last ')'. Returns false, leaving `stats`
// untouched, when the text is not in that format.
bool ParseProcStat(std::string_view stat_text, const ProcStatUnits& units, ProcessStats& stats);

// The `btime` line of /proc/stat (seconds since the epoch at boot), or nullopt.
std::optional<int64_t> ParseBootTime(std::string_view proc_stat_text);

// Reads this process's figures now.
ProcessStats ReadProcessStats();

// Appends the process_* families (those that could be read) to `out`.
void AppendProcessMetrics(PrometheusText& out);

}  // namespace sluice
