// Hand-written JSON escaping and number formatting used by json_text.h.
#include "core/json_text.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "core/swar.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Bytes that go into a JSON string as they are: printable ASCII except '"' and '\\'.
constexpr std::array<bool, 256> MakeJsonPlainTable() {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
  return t;
}
constexpr std::array<bool, 256> kJsonPlain = MakeJsonPlainTable();

// True when any of the 8 bytes in `w` is a control character (< 0x20), '"', '\\' or a
// non-ASCII byte (>= 0x80): the classic "has zero byte / has byte less than" bit tricks.
inline bool NeedsAttention(uint64_t w) {
  uint64_t below_space = (w - kSwarOnes * 0x20) & ~w;
  return ((below_space | SwarHasByte(w, '"') | SwarHasByte(w, '\\') | w) & kSwarHigh) != 0;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (len == 0 || c > 0xF4 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  unsigned char c1 = byte(i + 1);
  if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
  if (c == 0xED && c1 > 0x9F) return 0;  // surrogates
  if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
  if (c == 0xF4 && c1 > 0x8F) return 0;  // > U+10FFFF
  return len;
}

// The escaping of AppendJsonString and WriteJsonEscaped (without the quotes), into any
// `out` with append(const char*, size_t): a std::string or a raw cursor.
template <typename Out>
void EscapeJson(Out& out, std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // Copy the longest run of bytes that need no escaping in one append, testing eight
    // bytes at a time (SWAR) and falling back to the table only near a special byte.
    size_t start = i;
#if defined(__SSE2__)
    // 16 bytes per step: one compare each for '"' and '\\', a signed compare catches both
    // control characters (< 0x20) and non-ASCII bytes (negative as signed chars).
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (i + 16 <= n) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      __m128i special =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                       _mm_cmplt_epi8(v, space));
      if (_mm_movemask_epi8(special) != 0) break;
      i += 16;
    }
#endif
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      if (NeedsAttention(word)) break;
      i += 8;
    }
    while (i < n && kJsonPlain[p[i]]) ++i;
    if (i > start) out.append(text.data() + start, i - start);
    if (i == n) break;
    unsigned char c = p[i];
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(text, i);
      if (len == 0) {
        out.append("\xEF\xBF\xBD", 3);
        ++i;
      } else {
        out.append(text.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"", 2);
        break;
      case '\\':
        out.append("\\\\", 2);
        break;
      case '\n':
        out.append("\\n", 2);
        break;
      case '\r':
        out.append("\\r", 2);
        break;
      case '\t':
        out.append("\\t", 2);
        break;
      default: {
        const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(escape, 6);
      }
    }
    ++i;
  }
}

// Writes through a cursor into memory the caller sized (WriteJsonEscaped's contract).
struct CursorOut {
  char* at;
  void append(const char* data, size_t size) {
    std::memcpy(at, data, size);
    at += size;
  }
};

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  EscapeJson(out, text);
  out.push_back('"');
}

char* WriteJsonEscaped(char* out, std::string_view text) {
  CursorOut cursor{out};
  EscapeJson(cursor, text);
  return cursor.at;
}

void AppendDecimal(std::string& out, int64_t value) {
  char buf[kMaxDecimalChars];
  out.append(buf, WriteDecimal(buf, value));
}

char* WriteDecimal(char* out, int64_t value) {
  return std::to_chars(out, out + kMaxDecimalChars, value).ptr;
}

void AppendMillis(std::string& out, int64_t microseconds) {
  char buf[kMaxMillisChars];
  out.append(buf, WriteMillis(buf, microseconds));
}

char* WriteMillis(char* out, int64_t microseconds) {
  if (microseconds < 0) microseconds = 0;
  out = WriteDecimal(out, microseconds / 1000);
  int64_t frac = microseconds % 1000;
  out[0] = '.';
  out[1] = static_cast<char>('0' + frac / 100);
  out[2] = static_cast<char>('0' + frac / 10 % 10);
  out[3] = static_cast<char>('0' + frac % 10);
  return out + 4;
}

void AppendFixed(std::string& out, double value, int decimals) {
  if (!std::isfinite(value)) {
    out.append("0");
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed, decimals);
  if (ec != std::errc()) {
    out.append("0");
    return;
  }
  out.append(buf, end);
}

}  // namespace sluice
