// Calendar windows for budgets: the [start, end) in Unix µs of the day, ISO week (from
// Monday) or month that contains an instant, in a time zone, and a stable label for the
// counter key ("2026-11-26", "2026-W48", "2026-11"). Time zones are "UTC", a fixed offset
// ("+08:00", "-05:30") or an IANA name read from the TZif files of /usr/share/zoneinfo (our
// own parser: GCC 12's libstdc++ has no chrono tzdb). Days follow the zone's local clock,
// so a day can last 23 or 25 hours across a DST change.
// A TimeZone is immutable after Load and thread-safe; the functions are pure.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::limits {

class TimeZone {
 public:
  // Never throws: on failure returns null and sets *error ("unknown time zone 'X'",
  // "malformed time zone file ...").
  static std::shared_ptr<const TimeZone> Load(
      std::string_view name, std::string* error,
      std::string_view zoneinfo_dir = "/usr/share/zoneinfo");
  static std::shared_ptr<const TimeZone> Fixed(std::string name, int32_t utc_offset_s);

  // Seconds east of UTC in effect at `unix_s`.
  int32_t UtcOffsetAt(int64_t unix_s) const;
  const std::string& name() const { return name_; }
  // Unique per TimeZone object of the process (never reused, unlike its address).
  uint64_t serial() const { return serial_; }

  // A POSIX TZ rule ("EST5EDT,M3.2.0,M11.1.0"): the zone after its last listed transition.
  struct Rule {
    struct Date {
      char form = 'M';  // 'M' (month.week.day), 'J' (1..365, no Feb 29), 'N' (0..365)
      int month = 0, week = 0, weekday = 0, day = 0;
      int32_t time_s = 7200;  // local time of the change
    };
    int32_t std_offset = 0;  // seconds east of UTC
    int32_t dst_offset = 0;
    bool has_dst = false;
    Date start, end;
  };

 private:
  friend class TimeZoneParser;
  TimeZone() = default;
  static uint64_t NextSerial();
  uint64_t serial_ = NextSerial();
  std::string name_;
  std::vector<int64_t> transitions_;  // sorted Unix seconds
  std::vector<int32_t> offsets_;      // offset in effect from transitions_[i]
  int32_t initial_offset_ = 0;        // before the first transition
  bool has_rule_ = false;
  Rule rule_;
};

// Parses "+08:00", "-0530", "+8" (at most ±18:00); false if malformed.
bool ParseUtcOffset(std::string_view text, int32_t* offset_s);
// Parses a POSIX TZ string; false if malformed.
bool ParsePosixRule(std::string_view text, TimeZone::Rule* rule);

enum class WindowUnit : uint8_t { kDay, kWeek, kMonth };

struct CalendarWindow {
  int64_t start_us = 0;
  int64_t end_us = 0;
  char label_buf[16] = {};
  uint8_t label_len = 0;
  std::string_view label() const { return {label_buf, label_len}; }
};

// The window of `unit` containing `now_us` in `tz`. Costs ~1 µs (a few offset lookups):
// callers cache the result until end_us.
CalendarWindow WindowContaining(const TimeZone& tz, WindowUnit unit, int64_t now_us);

// The same, from a cache of the calling thread (one window per unit, for the last zone
// asked): recomputed only when `now_us` leaves the cached window or the zone changes, so a
// budget check costs a comparison per request. The reference is valid until this thread's
// next call.
const CalendarWindow& CachedWindowContaining(const TimeZone& tz, WindowUnit unit, int64_t now_us);

}  // namespace sluice::limits
