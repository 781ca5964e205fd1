// The response status and the headers filters may see and change on the way out. Framing
// headers (Content-Length, Transfer-Encoding, Connection, Date, X-Request-Id) are not here:
// the HTTP layer writes them itself so no filter can break the framing.
// Not thread-safe; one per request.
#pragma once

#include <string>
#include <string_view>

namespace sluice {

class HeaderBlock {
 public:
  // A name that is not an HTTP token or a value with CR/LF is dropped (no header injection).
  void Add(std::string_view name, std::string_view value);
  // Replaces every field called `name` with one field.
  void Set(std::string_view name, std::string_view value);
  void Remove(std::string_view name);
  std::string_view Get(std::string_view name) const;
  void Clear() { text_.clear(); }
  bool empty() const { return text_.empty(); }
  // "Name: value\r\n" lines, ready to be written after the status line.
  const std::string& wire() const { return text_; }

 private:
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
