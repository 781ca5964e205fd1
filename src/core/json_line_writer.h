// JsonLineWriter: writes a JSON text into a std::string through a raw cursor, for lines built
// once per request (the access log). Each std::string::append is an out-of-line call with its
// own capacity check; a line of ~40 fields made ~60 of them. Here every write first makes room
// for its worst case (one compare), then copies: literals of known length compile to a few
// moves, strings are escaped with json_text.h's scanner, numbers formatted in place.
// Single-threaded; the string must not be touched until Finish().
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/json_text.h"

namespace sluice {

class JsonLineWriter {
 public:
  // Starts writing at the beginning of `out` (its old text is dropped; its capacity is kept).
  explicit JsonLineWriter(std::string& out) : out_(out) {
    out_.resize(std::max(out_.capacity(), kInitialBytes));
    at_ = out_.data();
    end_ = out_.data() + out_.size();
  }
  JsonLineWriter(const JsonLineWriter&) = delete;
  JsonLineWriter& operator=(const JsonLineWriter&) = delete;

  // Text copied as it is: keys with their punctuation, literals (",\"status\":", "null").
  template <size_t N>
  void Raw(const char (&text)[N]) {
    Reserve(N - 1);
    std::memcpy(at_, text, N - 1);
    at_ += N - 1;
  }
  void Raw(std::string_view text) {
    Reserve(text.size());
    std::memcpy(at_, text.data(), text.size());
    at_ += text.size();
  }
  void Char(char c) {
    Reserve(1);
    *at_++ = c;
  }
  // A JSON string with its quotes, escaped.
  void String(std::string_view text) {
    Reserve(kJsonEscapeFactor * text.size() + 2);
    *at_++ = '"';
    at_ = WriteJsonEscaped(at_, text);
    *at_++ = '"';
  }
  // The string, or null when it is empty.
  void StringOrNull(std::string_view text) {
    if (text.empty()) {
      Raw("null");
    } else {
      String(text);
    }
  }
  // A member: `key` with its punctuation (",\"model\":"), then the value.
  template <size_t N>
  void StringField(const char (&key)[N], std::string_view value) {
    Raw(key);
    StringOrNull(value);
  }
  template <size_t N>
  void DecimalField(const char (&key)[N], int64_t value) {
    Raw(key);
    Decimal(value);
  }
  void Decimal(int64_t value) {
    Reserve(kMaxDecimalChars);
    at_ = WriteDecimal(at_, value);
  }
  void Millis(int64_t microseconds) {
    Reserve(kMaxMillisChars);
    at_ = WriteMillis(at_, microseconds);
  }
  // Room for `bytes` more at cursor(), for a caller that writes them itself then Advance()s.
  [[gnu::always_inline]] char* Reserve(size_t bytes) {
    if (static_cast<size_t>(end_ - at_) < bytes) Grow(bytes);
    return at_;
  }
  void Advance(char* new_cursor) { at_ = new_cursor; }

  // Cuts the string to what was written; the writer is done.
  void Finish() { out_.resize(static_cast<size_t>(at_ - out_.data())); }

 private:
  static constexpr size_t kInitialBytes = 1024;

  [[gnu::noinline, gnu::cold]] void Grow(size_t bytes) {
    size_t used = static_cast<size_t>(at_ - out_.data());
    out_.resize(std::max(2 * out_.size(), used + bytes));
    at_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }

  std::string& out_;
  char* at_ = nullptr;
  char* end_ = nullptr;
};

}  // namespace sluice
