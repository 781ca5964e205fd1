// W3C Trace Context parsing, formatting and id generation (see trace_context.h).
#include "observability/trace_context.h"

#include <cstring>
#include <random>

namespace sluice {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Lowercase hex digit value, or -1 (uppercase is invalid in traceparent).
int LowerHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

template <size_t N>
bool ParseHexBytes(std::string_view text, std::array<uint8_t, N>& bytes) {
  for (size_t i = 0; i < N; ++i) {
    int high = LowerHexValue(text[2 * i]);
    int low = LowerHexValue(text[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    bytes[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return true;
}

template <size_t N>
char* WriteHex(char* out, const std::array<uint8_t, N>& bytes) {
  for (uint8_t b : bytes) {
    *out++ = kHexDigits[b >> 4];
    *out++ = kHexDigits[b & 15];
  }
  return out;
}

template <size_t N>
bool AnyNonZero(const std::array<uint8_t, N>& bytes) {
  for (uint8_t b : bytes) {
    if (b != 0) return true;
  }
  return false;
}

template <size_t N>
void FillRandom(Xoshiro256& rng, std::array<uint8_t, N>& bytes) {
  do {
    for (size_t i = 0; i < N; i += 8) {
      uint64_t word = rng.Next();
      std::memcpy(bytes.data() + i, &word, 8);
    }
  } while (!AnyNonZero(bytes));
}

bool IsLowerAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsKeyChar(char c) {
  return IsLowerAlpha(c) || IsDigit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

// key = simple-key / multi-tenant-key
// simple-key = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
// multi-tenant-key = tenant-id "@" system-id
// tenant-id = ( lcalpha / DIGIT ) 0*240( keychar ); system-id = lcalpha 0*13( keychar )
bool ValidTracestateKey(std::string_view key) {
  size_t at = key.find('@');
  if (at == std::string_view::npos) {
    if (key.empty() || key.size() > 256 || !IsLowerAlpha(key[0])) return false;
    for (char c : key.substr(1)) {
      if (!IsKeyChar(c)) return false;
    }
    return true;
  }
  std::string_view tenant = key.substr(0, at);
  std::string_view system = key.substr(at + 1);
  if (tenant.empty() || tenant.size() > 241 || !(IsLowerAlpha(tenant[0]) || IsDigit(tenant[0])))
    return false;
  if (system.empty() || system.size() > 14 || !IsLowerAlpha(system[0])) return false;
  for (char c : tenant.substr(1)) {
    if (!IsKeyChar(c)) return false;
  }
  for (char c : system.substr(1)) {
    if (!IsKeyChar(c)) return false;
  }
  return true;
}

// value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr;
// nblk-chr = %x21-2B / %x2D-3C / %x3E-7E (printable ASCII except ',' and '=').
bool ValidTracestateValue(std::string_view value) {
  if (value.empty() || value.size() > 256 || value.back() == ' ') return false;
  for (char c : value) {
    if (c < 0x20 || c > 0x7E || c == ',' || c == '=') return false;
  }
  return true;
}

std::string_view TrimOptionalWhitespace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool TraceId::valid() const { return AnyNonZero(bytes); }
bool SpanId::valid() const { return AnyNonZero(bytes); }

char* WriteHex(char* out, const TraceId& id) { return WriteHex(out, id.bytes); }
char* WriteHex(char* out, const SpanId& id) { return WriteHex(out, id.bytes); }

void AppendHex(std::string& out, const TraceId& id) {
  char text[32];
  WriteHex(text, id.bytes);
  out.append(text, sizeof(text));
}

void AppendHex(std::string& out, const SpanId& id) {
  char text[16];
  WriteHex(text, id.bytes);
  out.append(text, sizeof(text));
}

std::string ToHex(const TraceId& id) {
  std::string out;
  AppendHex(out, id);
  return out;
}

std::string ToHex(const SpanId& id) {
  std::string out;
  AppendHex(out, id);
  return out;
}

// version "-" trace-id "-" parent-id "-" trace-flags
// 00      -  32 hex    -  16 hex     -  2 hex      = 55 characters
bool ParseTraceparent(std::string_view header, TraceParent& out) {
  if (header.size() < kTraceparentLength) return false;
  int version_high = LowerHexValue(header[0]);
  int version_low = LowerHexValue(header[1]);
  if (version_high < 0 || version_low < 0) return false;
  int version = version_high << 4 | version_low;
  if (version == 0xff) return false;
  if (version == 0 && header.size() != kTraceparentLength) return false;
  if (version > 0 && header.size() > kTraceparentLength && header[kTraceparentLength] != '-')
    return false;
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') return false;
  if (!ParseHexBytes(header.substr(3, 32), out.trace_id.bytes)) return false;
  if (!ParseHexBytes(header.substr(36, 16), out.parent_id.bytes)) return false;
  std::array<uint8_t, 1> flags{};
  if (!ParseHexBytes(header.substr(53, 2), flags)) return false;
  out.sampled = (flags[0] & 0x01) != 0;
  return out.trace_id.valid() && out.parent_id.valid();
}

void FormatTraceparent(const TraceId& trace_id, const SpanId& span_id, bool sampled,
                       std::string& out) {
  char text[kTraceparentLength];
  char* p = text;
  *p++ = '0';
  *p++ = '0';
  *p++ = '-';
  p = WriteHex(p, trace_id.bytes);
  *p++ = '-';
  p = WriteHex(p, span_id.bytes);
  *p++ = '-';
  *p++ = '0';
  *p++ = sampled ? '1' : '0';
  out.append(text, sizeof(text));
}

bool ValidTracestate(std::string_view header) {
  if (header.size() > kMaxTracestateLength) return false;
  std::array<std::string_view, kMaxTracestateMembers> keys;
  size_t members = 0;
  while (true) {
    size_t comma = header.find(',');
    std::string_view member = TrimOptionalWhitespace(header.substr(0, comma));
    if (!member.empty()) {
      size_t equals = member.find('=');
      if (equals == std::string_view::npos) return false;
      std::string_view key = member.substr(0, equals);
      if (!ValidTracestateKey(key) || !ValidTracestateValue(member.substr(equals + 1)))
        return false;
      if (members == kMaxTracestateMembers) return false;
      for (size_t i = 0; i < members; ++i) {
        if (keys[i] == key) return false;
      }
      keys[members++] = key;
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return members > 0;
}

TraceId IdGenerator::NewTraceId() {
  TraceId id;
  FillRandom(rng_, id.bytes);
  return id;
}

SpanId IdGenerator::NewSpanId() {
  SpanId id;
  FillRandom(rng_, id.bytes);
  return id;
}

IdGenerator& ThreadIds() {
  thread_local IdGenerator generator = [] {
    std::random_device device;
    uint64_t seed = static_cast<uint64_t>(device()) << 32 ^ device();
    return IdGenerator(seed);
  }();
  return generator;
}

}  // namespace sluice
