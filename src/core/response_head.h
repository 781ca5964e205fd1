// The response status and the headers filters may see and change on the way out. Framing
// headers (Content-Length, Transfer-Encoding, Connection, Date, X-Request-Id) are not here:
// the HTTP layer writes them itself so no filter can break the framing.
// Not thread-safe; one per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/http_types.h"

namespace sluice {

// A header name written in the source: the consteval constructor checks that it is an HTTP
// token, so a bad name does not compile and adding a field under it skips the run-time check
// (the per-request headers: x-ratelimit-*, traceparent, server-timing...). Explicit, so a
// plain string literal still takes HeaderBlock's checked overload.
class HeaderName {
 public:
  template <size_t N>
  explicit consteval HeaderName(const char (&name)[N]) : name_(name, N - 1) {
    if (N < 2) throw "a header name is not empty";
    for (size_t i = 0; i + 1 < N; ++i) {
      if (!kHttpTokenChars[static_cast<unsigned char>(name[i])]) throw "not an HTTP token";
    }
  }
  constexpr std::string_view view() const { return name_; }

 private:
  std::string_view name_;
};

class HeaderBlock {
 public:
  // A name that is not an HTTP token or a value with CR/LF is dropped (no header injection).
  void Add(std::string_view name, std::string_view value);
  // The same for a name checked at compile time: only the value is checked.
  void Add(const HeaderName& name, std::string_view value);
  // A decimal value (nothing to check).
  void Add(const HeaderName& name, int64_t value);
  // Replaces every field called `name` with one field.
  void Set(std::string_view name, std::string_view value);
  void Remove(std::string_view name);
  std::string_view Get(std::string_view name) const;
  void Clear() { text_.clear(); }
  bool empty() const { return text_.empty(); }
  // "Name: value\r\n" lines, ready to be written after the status line.
  const std::string& wire() const { return text_; }

 private:
  // Appends "name: value\r\n" with one append to text_ (the line assembled on the stack).
  void AppendLine(std::string_view name, std::string_view value);

  std::string text_;
};

struct ResponseHead {
  int status = 200;
  std::string content_type;
  HeaderBlock headers;

  void Reset() {
    status = 200;
    content_type.clear();
    headers.Clear();
  }
};

}  // namespace sluice
