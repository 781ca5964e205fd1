// Parsers of upstream retry hints (see the header).
#include "routing/retry_hint.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace sluice::routing {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A non-negative decimal "123" or "1.25" consumed from the front of `s`.
std::optional<double> TakeNumber(std::string_view& s) {
  size_t n = 0;
  while (n < s.size() && IsDigit(s[n])) ++n;
  size_t end = n;
  if (end < s.size() && s[end] == '.') {
    ++end;
    while (end < s.size() && IsDigit(s[end])) ++end;
  }
  if (n == 0 || end == n + 1) return std::nullopt;  // no integer part, or "1."
  double value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + end, value);
  if (ec != std::errc() || ptr != s.data() + end || !std::isfinite(value)) return std::nullopt;
  s.remove_prefix(end);
  return value;
}

Duration FromSeconds(double seconds) {
  const double capped = std::min(seconds, std::chrono::duration<double>(kMaxRetryHint).count());
  return std::chrono::round<Duration>(std::chrono::duration<double>(std::max(0.0, capped)));
}

std::optional<int> TakeInt(std::string_view& s, size_t digits) {
  if (s.size() < digits) return std::nullopt;
  int value = 0;
  for (size_t i = 0; i < digits; ++i) {
    if (!IsDigit(s[i])) return std::nullopt;
    value = value * 10 + (s[i] - '0');
  }
  s.remove_prefix(digits);
  return value;
}

bool TakeLiteral(std::string_view& s, std::string_view literal) {
  if (!s.starts_with(literal)) return false;
  s.remove_prefix(literal.size());
  return true;
}

std::optional<unsigned> TakeMonth(std::string_view& s) {
  static constexpr std::array<std::string_view, 12> kMonths{
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned m = 0; m < kMonths.size(); ++m) {
    if (TakeLiteral(s, kMonths[m])) return m + 1;
  }
  return std::nullopt;
}

// "08:49:37"
std::optional<std::chrono::seconds> TakeTimeOfDay(std::string_view& s) {
  const auto h = TakeInt(s, 2);
  if (!h || !TakeLiteral(s, ":")) return std::nullopt;
  const auto m = TakeInt(s, 2);
  if (!m || !TakeLiteral(s, ":")) return std::nullopt;
  const auto sec = TakeInt(s, 2);
  if (!sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  return std::chrono::seconds(*h * 3600 + *m * 60 + std::min(*sec, 59));
}

std::optional<WallTime> MakeDate(int year, unsigned month, int day, std::chrono::seconds tod) {
  const std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::time_point_cast<WallTime::duration>(std::chrono::sys_days(ymd) + tod);
}

// The three HTTP-date forms of RFC 9110 §5.6.7; the day name is skipped, not checked.
std::optional<WallTime> ParseHttpDate(std::string_view s) {
  const size_t comma = s.find(',');
  if (comma != std::string_view::npos) {
    s.remove_prefix(comma + 1);
    if (!TakeLiteral(s, " ")) return std::nullopt;
    std::optional<int> day = TakeInt(s, 2);
    if (!day) return std::nullopt;
    if (TakeLiteral(s, " ")) {  // IMF-fixdate: "06 Nov 1994 08:49:37 GMT"
      const auto month = TakeMonth(s);
      if (!month || !TakeLiteral(s, " ")) return std::nullopt;
      const auto year = TakeInt(s, 4);
      if (!year || !TakeLiteral(s, " ")) return std::nullopt;
      const auto tod = TakeTimeOfDay(s);
      if (!tod || s != " GMT") return std::nullopt;
      return MakeDate(*year, *month, *day, *tod);
    }
    if (!TakeLiteral(s, "-")) return std::nullopt;  // RFC 850: "06-Nov-94 08:49:37 GMT"
    const auto month = TakeMonth(s);
    if (!month || !TakeLiteral(s, "-")) return std::nullopt;
    const auto yy = TakeInt(s, 2);
    if (!yy || !TakeLiteral(s, " ")) return std::nullopt;
    const auto tod = TakeTimeOfDay(s);
    if (!tod || s != " GMT") return std::nullopt;
    return MakeDate(*yy < 70 ? 2000 + *yy : 1900 + *yy, *month, *day, *tod);
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  if (s.size() < 4 || s[3] != ' ') return std::nullopt;
  s.remove_prefix(4);
  const auto month = TakeMonth(s);
  if (!month || !TakeLiteral(s, " ")) return std::nullopt;
  if (!s.empty() && s.front() == ' ') s.remove_prefix(1);  // "  6" pads one digit
  int day = 0;
  if (s.size() >= 2 && IsDigit(s[0]) && IsDigit(s[1])) {
    day = *TakeInt(s, 2);
  } else if (auto d = TakeInt(s, 1)) {
    day = *d;
  } else {
    return std::nullopt;
  }
  if (!TakeLiteral(s, " ")) return std::nullopt;
  const auto tod = TakeTimeOfDay(s);
  if (!tod || !TakeLiteral(s, " ")) return std::nullopt;
  const auto year = TakeInt(s, 4);
  if (!year || !s.empty()) return std::nullopt;
  return MakeDate(*year, *month, day, *tod);
}

}  // namespace

std::optional<Duration> ParseRetryAfter(std::string_view value, WallTime now) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (IsDigit(value.front())) {
    std::string_view rest = value;
    const auto seconds = TakeNumber(rest);
    if (!seconds || !rest.empty()) return std::nullopt;
    return FromSeconds(*seconds);
  }
  const auto date = ParseHttpDate(value);
  if (!date) return std::nullopt;
  if (*date <= now) return Duration::zero();
  return std::min<Duration>(std::chrono::duration_cast<Duration>(*date - now), kMaxRetryHint);
}

std::optional<Duration> ParseRetryAfterMs(std::string_view value) {
  std::string_view rest = Trim(value);
  const auto ms = TakeNumber(rest);
  if (!ms || !rest.empty()) return std::nullopt;
  return FromSeconds(*ms / 1000);
}

std::optional<Duration> ParseResetDuration(std::string_view value) {
  std::string_view rest = Trim(value);
  if (rest.empty()) return std::nullopt;
  double seconds = 0;
  while (!rest.empty()) {
    const auto number = TakeNumber(rest);
    if (!number) return std::nullopt;
    // Longest unit first: "ms" before "m".
    static constexpr std::array<std::pair<std::string_view, double>, 9> kUnits{{
        {"ns", 1e-9},
        {"us", 1e-6},
        {"\xC2\xB5s", 1e-6},  // µ (micro sign)
        {"\xCE\xBCs", 1e-6},  // μ (Greek mu)
        {"ms", 1e-3},
        {"s", 1},
        {"m", 60},
        {"h", 3600},
        {"d", 86400},  // not Go syntax, but seen from some providers
    }};
    bool matched = false;
    for (const auto& [unit, scale] : kUnits) {
      if (TakeLiteral(rest, unit)) {
        seconds += *number * scale;
        matched = true;
        break;
      }
    }
    if (!matched) return std::nullopt;
  }
  return FromSeconds(seconds);
}

std::optional<Duration> ServerRetryHint(const RetryHintHeaders& headers, WallTime now) {
  if (!headers.retry_after_ms.empty()) {
    if (auto d = ParseRetryAfterMs(headers.retry_after_ms)) return d;
  }
  if (!headers.retry_after.empty()) {
    if (auto d = ParseRetryAfter(headers.retry_after, now)) return d;
  }
  const auto requests =
      headers.reset_requests.empty() ? std::nullopt : ParseResetDuration(headers.reset_requests);
  const auto tokens =
      headers.reset_tokens.empty() ? std::nullopt : ParseResetDuration(headers.reset_tokens);
  const bool requests_out = Trim(headers.remaining_requests) == "0";
  const bool tokens_out = Trim(headers.remaining_tokens) == "0";
  std::optional<Duration> exhausted;
  if (requests_out && requests) exhausted = *requests;
  if (tokens_out && tokens) exhausted = exhausted ? std::max(*exhausted, *tokens) : *tokens;
  if (exhausted) return exhausted;
  if (requests && tokens) return std::min(*requests, *tokens);
  return requests ? requests : tokens;
}

}  // namespace sluice::routing
