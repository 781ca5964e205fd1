// HeaderBlock: a flat "Name: value\r\n" buffer whose capacity is reused across requests,
// so adding headers on the response path does not allocate once warmed up.
#include "core/response_head.h"

#include <algorithm>

#include "core/http_types.h"

namespace sluice {
namespace {

// A value may not end its line early (no header injection).
bool HasLineBreak(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n') return true;
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
  // Headers come in a few at a time: grow once for this one and some more, not per append.
  size_t needed = text_.size() + name.size() + value.size() + 4;
  if (needed > text_.capacity()) {
    text_.reserve(std::max({needed, 2 * text_.capacity(), size_t{256}}));
  }
  text_.append(name);
  text_.append(": ");
  text_.append(value);
  text_.append("\r\n");
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
