// Time zones (fixed offsets, TZif files with their POSIX TZ footer) and calendar windows.
// TZif layout: RFC 8536. The 64-bit (v2+) section is used when present.
#include "limits/calendar_window.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace sluice::limits {
namespace {

namespace chr = std::chrono;
constexpr int64_t kDay = 86400;
constexpr int64_t kMicros = 1'000'000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

chr::sys_days DaysToDate(int64_t days) { return chr::sys_days(chr::days(days)); }
int64_t DateToDays(chr::sys_days d) { return d.time_since_epoch().count(); }

// ---- POSIX TZ rules ---------------------------------------------------------------------

struct Cursor {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
  bool Eat(char c) {
    if (peek() != c) return false;
    ++i;
    return true;
  }
  bool Number(int max_digits, int* out) {
    int v = 0, n = 0;
    while (n < max_digits && !done() && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + (s[i++] - '0');
      ++n;
    }
    *out = v;
    return n > 0;
  }
};

bool ParseName(Cursor& c) {
  if (c.Eat('<')) {
    while (!c.done() && c.peek() != '>') ++c.i;
    return c.Eat('>');
  }
  const size_t start = c.i;
  while (!c.done() &&
         ((c.peek() >= 'A' && c.peek() <= 'Z') || (c.peek() >= 'a' && c.peek() <= 'z'))) {
    ++c.i;
  }
  return c.i - start >= 3;
}

// [+-]hh[:mm[:ss]] as seconds (sign applied as written).
bool ParseClock(Cursor& c, int max_hours, int32_t* seconds) {
  int sign = 1;
  if (c.Eat('-')) {
    sign = -1;
  } else {
    c.Eat('+');
  }
  int h = 0, m = 0, s = 0;
  if (!c.Number(3, &h) || h > max_hours) return false;
  if (c.Eat(':') && (!c.Number(2, &m) || m > 59)) return false;
  if (c.Eat(':') && (!c.Number(2, &s) || s > 59)) return false;
  *seconds = sign * (h * 3600 + m * 60 + s);
  return true;
}

bool ParseRuleDate(Cursor& c, TimeZone::Rule::Date* d) {
  if (c.Eat('M')) {
    d->form = 'M';
    if (!c.Number(2, &d->month) || !c.Eat('.') || !c.Number(1, &d->week) || !c.Eat('.') ||
        !c.Number(1, &d->weekday)) {
      return false;
    }
    if (d->month < 1 || d->month > 12 || d->week < 1 || d->week > 5 || d->weekday > 6) return false;
  } else if (c.Eat('J')) {
    d->form = 'J';
    if (!c.Number(3, &d->day) || d->day < 1 || d->day > 365) return false;
  } else {
    d->form = 'N';
    if (!c.Number(3, &d->day) || d->day > 365) return false;
  }
  d->time_s = 7200;
  if (c.Eat('/')) return ParseClock(c, 167, &d->time_s);
  return true;
}

// The day (days since the epoch) a rule date falls on in `year`.
int64_t RuleDay(const TimeZone::Rule::Date& d, int year) {
  const chr::year y{year};
  if (d.form == 'J') {
    const int extra = (y.is_leap() && d.day >= 60) ? 1 : 0;
    return DateToDays(chr::sys_days(y / chr::January / 1)) + d.day - 1 + extra;
  }
  if (d.form == 'N') return DateToDays(chr::sys_days(y / chr::January / 1)) + d.day;
  const chr::year_month ym = y / chr::month(static_cast<unsigned>(d.month));
  const chr::sys_days first = chr::sys_days(ym / 1);
  const unsigned first_wd = chr::weekday(first).c_encoding();
  int64_t day =
      DateToDays(first) + (d.weekday - static_cast<int>(first_wd) + 7) % 7 + (d.week - 1) * 7;
  const int64_t last = DateToDays(chr::sys_days(ym / chr::last));
  while (day > last) day -= 7;
  return day;
}

int32_t RuleOffsetAt(const TimeZone::Rule& r, int64_t unix_s) {
  if (!r.has_dst) return r.std_offset;
  const int year = static_cast<int>(
      chr::year_month_day(DaysToDate(FloorDiv(unix_s + r.std_offset, kDay))).year());
  const int64_t start = RuleDay(r.start, year) * kDay + r.start.time_s - r.std_offset;
  const int64_t end = RuleDay(r.end, year) * kDay + r.end.time_s - r.dst_offset;
  const bool dst =
      start < end ? (unix_s >= start && unix_s < end) : !(unix_s >= end && unix_s < start);
  return dst ? r.dst_offset : r.std_offset;
}

// ---- TZif ---------------------------------------------------------------------------------

uint32_t Be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
int64_t Be64(const unsigned char* p) {
  return static_cast<int64_t>((uint64_t{Be32(p)} << 32) | Be32(p + 4));
}

struct Counts {
  uint32_t isut, isstd, leap, time, type, chars;
  size_t Size(size_t time_size) const {
    return size_t{time} * time_size + time + size_t{type} * 6 + chars +
           size_t{leap} * (time_size + 4) + isstd + isut;
  }
};

bool ReadHeader(std::string_view data, size_t at, char* version, Counts* c) {
  if (data.size() < at + 44 || data.substr(at, 4) != "TZif") return false;
  *version = data[at + 4];
  const auto* p = reinterpret_cast<const unsigned char*>(data.data() + at + 20);
  *c = Counts{Be32(p), Be32(p + 4), Be32(p + 8), Be32(p + 12), Be32(p + 16), Be32(p + 20)};
  return c->type >= 1 && c->type <= 256 && c->time <= 100'000 && c->chars <= 65536 &&
         c->leap <= 10'000;
}

}  // namespace

class TimeZoneParser {
 public:
  static bool Parse(std::string_view data, TimeZone& tz) {
    char version = 0;
    Counts c{};
    if (!ReadHeader(data, 0, &version, &c)) return false;
    size_t at = 44;
    size_t time_size = 4;
    if (version >= '2') {
      at += c.Size(4);
      if (!ReadHeader(data, at, &version, &c)) return false;
      at += 44;
      time_size = 8;
    }
    if (data.size() < at + c.Size(time_size)) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(data.data() + at);
    const unsigned char* indices = p + size_t{c.time} * time_size;
    const unsigned char* types = indices + c.time;
    std::vector<int32_t> type_offsets(c.type);
    for (uint32_t t = 0; t < c.type; ++t) {
      type_offsets[t] = static_cast<int32_t>(Be32(types + 6 * t));
      if (type_offsets[t] < -26 * 3600 || type_offsets[t] > 26 * 3600) return false;
    }
    tz.initial_offset_ = type_offsets[0];
    for (uint32_t t = 0; t < c.time; ++t) {
      const int64_t when = time_size == 8 ? Be64(p + 8 * t) : static_cast<int32_t>(Be32(p + 4 * t));
      if (indices[t] >= c.type || (!tz.transitions_.empty() && when <= tz.transitions_.back())) {
        return false;
      }
      tz.transitions_.push_back(when);
      tz.offsets_.push_back(type_offsets[indices[t]]);
    }
    if (time_size == 8) {  // footer: "\n<POSIX TZ>\n"
      const size_t footer = at + c.Size(8);
      if (data.size() > footer + 1 && data[footer] == '\n') {
        const size_t close = data.find('\n', footer + 1);
        if (close != std::string_view::npos && close > footer + 1) {
          tz.has_rule_ = ParsePosixRule(data.substr(footer + 1, close - footer - 1), &tz.rule_);
        }
      }
    }
    return true;
  }
};

bool ParsePosixRule(std::string_view text, TimeZone::Rule* rule) {
  Cursor c{text};
  TimeZone::Rule r;
  int32_t west = 0;
  if (!ParseName(c) || !ParseClock(c, 24, &west)) return false;
  r.std_offset = -west;
  if (c.done()) {
    *rule = r;
    return true;
  }
  if (!ParseName(c)) return false;
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (c.peek() != ',' && !c.done()) {
    if (!ParseClock(c, 24, &west)) return false;
    r.dst_offset = -west;
  }
  if (c.done()) {  // no rule given: the US rules (POSIX leaves it to the implementation)
    r.start = {'M', 3, 2, 0, 0, 7200};
    r.end = {'M', 11, 1, 0, 0, 7200};
  } else if (!c.Eat(',') || !ParseRuleDate(c, &r.start) || !c.Eat(',') ||
             !ParseRuleDate(c, &r.end) || !c.done()) {
    return false;
  }
  *rule = r;
  return true;
}

bool ParseUtcOffset(std::string_view text, int32_t* offset_s) {
  if (text.size() < 2 || (text[0] != '+' && text[0] != '-')) return false;
  const int sign = text[0] == '-' ? -1 : 1;
  std::string_view rest = text.substr(1);
  int h = 0, m = 0;
  auto digits = [](std::string_view s, int* out) {
    if (s.empty() || s.size() > 2) return false;
    *out = 0;
    for (char ch : s) {
      if (ch < '0' || ch > '9') return false;
      *out = *out * 10 + (ch - '0');
    }
    return true;
  };
  const size_t colon = rest.find(':');
  bool ok = false;
  if (colon != std::string_view::npos) {
    ok = digits(rest.substr(0, colon), &h) && rest.size() - colon - 1 == 2 &&
         digits(rest.substr(colon + 1), &m);
  } else if (rest.size() == 4) {
    ok = digits(rest.substr(0, 2), &h) && digits(rest.substr(2), &m);
  } else {
    ok = digits(rest, &h);
  }
  if (!ok || h > 18 || m > 59 || (h == 18 && m > 0)) return false;  // ±18:00 as in ISO 8601 APIs
  *offset_s = sign * (h * 3600 + m * 60);
  return true;
}

// `new` because the constructor is private (only Load and Fixed make zones).
std::shared_ptr<const TimeZone> TimeZone::Fixed(std::string name, int32_t utc_offset_s) {
  std::shared_ptr<TimeZone> tz(new TimeZone());
  tz->name_ = std::move(name);
  tz->initial_offset_ = utc_offset_s;
  return tz;
}

std::shared_ptr<const TimeZone> TimeZone::Load(std::string_view name, std::string* error,
                                               std::string_view zoneinfo_dir) {
  const std::string quoted = "'" + std::string(name.substr(0, 64)) + "'";
  if (name == "UTC" || name == "Z") return Fixed(std::string(name), 0);
  int32_t offset = 0;
  if (!name.empty() && (name[0] == '+' || name[0] == '-')) {
    if (ParseUtcOffset(name, &offset)) return Fixed(std::string(name), offset);
    if (error != nullptr) *error = "malformed UTC offset " + quoted + " (expected like +08:00)";
    return nullptr;
  }
  const bool valid_name = !name.empty() && name.size() <= 128 && name[0] != '/' &&
                          name.find("..") == std::string_view::npos &&
                          std::all_of(name.begin(), name.end(), [](char ch) {
                            return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                                   (ch >= '0' && ch <= '9') || ch == '/' || ch == '_' ||
                                   ch == '-' || ch == '+';
                          });
  std::string data;
  if (valid_name) {
    std::ifstream in(std::string(zoneinfo_dir) + "/" + std::string(name), std::ios::binary);
    if (in) {
      constexpr size_t kMaxFile = 1 << 20;
      data.resize(kMaxFile + 1);
      in.read(data.data(), static_cast<std::streamsize>(data.size()));
      data.resize(static_cast<size_t>(in.gcount()));
      if (data.size() > kMaxFile) data.clear();
    }
  }
  if (data.empty()) {
    if (error != nullptr) *error = "unknown time zone " + quoted;
    return nullptr;
  }
  std::shared_ptr<TimeZone> tz(new TimeZone());
  tz->name_ = std::string(name);
  if (!TimeZoneParser::Parse(data, *tz)) {
    if (error != nullptr) *error = "malformed time zone file for " + quoted;
    return nullptr;
  }
  return tz;
}

int32_t TimeZone::UtcOffsetAt(int64_t unix_s) const {
  if (transitions_.empty()) return has_rule_ ? RuleOffsetAt(rule_, unix_s) : initial_offset_;
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), unix_s);
  if (it == transitions_.begin()) return initial_offset_;
  if (it == transitions_.end() && has_rule_) return RuleOffsetAt(rule_, unix_s);
  return offsets_[static_cast<size_t>(std::distance(transitions_.begin(), it)) - 1];
}

namespace {

// The first instant whose local time is at or after `local_s` (local midnight → UTC): the
// midnight itself, the earlier of two when the clock repeats it, or the end of the gap
// when the clock skips it. Offsets are sampled every 6 hours over ±30 h and each change is
// found by bisection (no real zone changes its offset twice within 6 hours).
int64_t FirstInstantAtLocal(const TimeZone& tz, int64_t local_s) {
  constexpr int kSamples = 11;
  constexpr int64_t kStep = 6 * 3600;
  const int64_t from = local_s - 30 * 3600;
  std::array<int64_t, kSamples * 2> seg_start{};
  std::array<int32_t, kSamples * 2> seg_offset{};
  size_t segments = 0;
  seg_start[0] = from;
  seg_offset[0] = tz.UtcOffsetAt(from);
  segments = 1;
  for (int k = 1; k < kSamples; ++k) {
    const int64_t t = from + k * kStep;
    const int32_t off = tz.UtcOffsetAt(t);
    if (off == seg_offset[segments - 1]) continue;
    int64_t lo = t - kStep, hi = t;  // offset(lo) == previous, offset(hi) == off
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      (tz.UtcOffsetAt(mid) == off ? hi : lo) = mid;
    }
    seg_start[segments] = hi;
    seg_offset[segments] = off;
    ++segments;
  }
  for (size_t s = 0; s < segments; ++s) {
    const int64_t begin = seg_start[s];
    const int64_t end = s + 1 < segments ? seg_start[s + 1] : INT64_MAX;
    if (begin + seg_offset[s] >= local_s) return begin;  // skipped: the gap's end
    if (local_s - seg_offset[s] < end) return local_s - seg_offset[s];
  }
  return local_s - tz.UtcOffsetAt(local_s);
}

template <typename... Args>
void SetLabel(CalendarWindow& w, const char* format, Args... args) {
  const int n = std::snprintf(w.label_buf, sizeof(w.label_buf), format, args...);
  w.label_len = static_cast<uint8_t>(std::clamp(n, 0, static_cast<int>(sizeof(w.label_buf)) - 1));
}

}  // namespace

uint64_t TimeZone::NextSerial() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

const CalendarWindow& CachedWindowContaining(const TimeZone& tz, WindowUnit unit, int64_t now_us) {
  struct Cached {
    uint64_t zone = 0;  // TimeZone::serial(); 0: empty
    CalendarWindow window;
  };
  thread_local std::array<Cached, 3> cache;  // by WindowUnit
  Cached& c = cache[static_cast<size_t>(unit)];
  if (c.zone != tz.serial() || now_us < c.window.start_us || now_us >= c.window.end_us) {
    c.window = WindowContaining(tz, unit, now_us);
    c.zone = tz.serial();
  }
  return c.window;
}

CalendarWindow WindowContaining(const TimeZone& tz, WindowUnit unit, int64_t now_us) {
  const int64_t now_s = FloorDiv(now_us, kMicros);
  const int64_t local_days = FloorDiv(now_s + tz.UtcOffsetAt(now_s), kDay);
  const chr::year_month_day ymd(DaysToDate(local_days));
  int64_t first = local_days, next = local_days + 1;
  CalendarWindow w;
  switch (unit) {
    case WindowUnit::kDay:
      SetLabel(w, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
               static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
      break;
    case WindowUnit::kWeek: {
      const unsigned iso_wd = chr::weekday(DaysToDate(local_days)).iso_encoding();  // Mon = 1
      first = local_days - (iso_wd - 1);
      next = first + 7;
      const chr::year iso_year = chr::year_month_day(DaysToDate(first + 3)).year();  // Thursday
      const int64_t jan1 = DateToDays(chr::sys_days(iso_year / chr::January / 1));
      const unsigned week = static_cast<unsigned>((first + 3 - jan1) / 7 + 1);
      SetLabel(w, "%04d-W%02u", static_cast<int>(iso_year), week);
      break;
    }
    case WindowUnit::kMonth: {
      const chr::year_month ym = ymd.year() / ymd.month();
      first = DateToDays(chr::sys_days(ym / 1));
      next = DateToDays(chr::sys_days((ym + chr::months(1)) / 1));
      SetLabel(w, "%04d-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()));
      break;
    }
  }
  w.start_us = FirstInstantAtLocal(tz, first * kDay) * kMicros;
  w.end_us = FirstInstantAtLocal(tz, next * kDay) * kMicros;
  return w;
}

}  // namespace sluice::limits
