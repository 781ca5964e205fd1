// HeaderBlock: a flat "Name: value\r\n" buffer whose capacity is reused across requests,
// so adding headers on the response path does not allocate once warmed up.
#include "core/response_head.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "core/http_types.h"
#include "core/swar.h"

namespace sluice {
namespace {

// A value may not end its line early (no header injection). Eight bytes per step (the
// "has a zero byte" bit trick on the bytes XORed with CR and with LF): a traceparent value is
// 55 bytes, on every upstream request.
bool HasLineBreak(std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    if (SwarHasByte(word, '\r') | SwarHasByte(word, '\n')) return true;
  }
  for (; i < s.size(); ++i) {
    if (s[i] == '\r' || s[i] == '\n') return true;
  }
  return false;
}

bool IsHeaderName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!kHttpTokenChars[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

}  // namespace

void HeaderBlock::Add(std::string_view name, std::string_view value) {
  if (!IsHeaderName(name) || HasLineBreak(value)) return;
  AppendLine(name, value);
}

void HeaderBlock::Add(const HeaderName& name, std::string_view value) {
  if (HasLineBreak(value)) return;
  AppendLine(name.view(), value);
}

void HeaderBlock::Add(const HeaderName& name, int64_t value) {
  char digits[24];
  AppendLine(
      name.view(),
      std::string_view(digits, std::to_chars(digits, digits + sizeof digits, value).ptr - digits));
}

void HeaderBlock::AppendLine(std::string_view name, std::string_view value) {
  const size_t line = name.size() + value.size() + 4;
  // Headers come in a few at a time: grow once for this one and some more, not per append.
  if (text_.size() + line > text_.capacity()) {
    text_.reserve(std::max({text_.size() + line, 2 * text_.capacity(), size_t{256}}));
  }
  char assembled[160];
  if (line > sizeof assembled) {
    text_.append(name).append(": ").append(value).append("\r\n");
    return;
  }
  char* out = assembled;
  std::memcpy(out, name.data(), name.size());
  out += name.size();
  *out++ = ':';
  *out++ = ' ';
  std::memcpy(out, value.data(), value.size());
  out += value.size();
  *out++ = '\r';
  *out++ = '\n';
  text_.append(assembled, line);
}

void HeaderBlock::Set(std::string_view name, std::string_view value) {
  Remove(name);
  Add(name, value);
}

void HeaderBlock::Remove(std::string_view name) {
  size_t pos = 0;
  while (pos < text_.size()) {
    size_t eol = text_.find("\r\n", pos);
    size_t colon = text_.find(':', pos);
    if (colon < eol && EqualsIgnoreCase(std::string_view(text_).substr(pos, colon - pos), name)) {
      text_.erase(pos, eol + 2 - pos);
    } else {
      pos = eol + 2;
    }
  }
}

std::string_view HeaderBlock::Get(std::string_view name) const {
  std::string_view all(text_);
  size_t pos = 0;
  while (pos < all.size()) {
    size_t eol = all.find("\r\n", pos);
    size_t colon = all.find(':', pos);
    if (colon < eol && EqualsIgnoreCase(all.substr(pos, colon - pos), name)) {
      return all.substr(colon + 2, eol - colon - 2);
    }
    pos = eol + 2;
  }
  return {};
}

}  // namespace sluice
