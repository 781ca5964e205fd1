// Implementation of the HTTP vocabulary helpers (method names, header lookups).
#include "core/http_types.h"

namespace sluice {

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kPatch:
      return "PATCH";
    case Method::kOther:
      break;
  }
  return "OTHER";
}

Method ParseMethod(std::string_view text) {
  if (text == "GET") return Method::kGet;
  if (text == "POST") return Method::kPost;
  if (text == "HEAD") return Method::kHead;
  if (text == "PUT") return Method::kPut;
  if (text == "DELETE") return Method::kDelete;
  if (text == "OPTIONS") return Method::kOptions;
  if (text == "PATCH") return Method::kPatch;
  return Method::kOther;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    if ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z') return false;
  }
  return true;
}

std::string_view HeaderList::Get(std::string_view name) const {
  for (const Header& h : fields_) {
    if (EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

bool HeaderList::Has(std::string_view name) const {
  for (const Header& h : fields_) {
    if (EqualsIgnoreCase(h.name, name)) return true;
  }
  return false;
}

int HeaderList::Count(std::string_view name) const {
  int n = 0;
  for (const Header& h : fields_) n += EqualsIgnoreCase(h.name, name) ? 1 : 0;
  return n;
}

void HttpRequest::Reset() {
  method = Method::kOther;
  method_text = target = path = query = body = {};
  minor_version = 1;
  headers.Clear();
  keep_alive = true;
  expect_continue = false;
  chunked = false;
  content_length = 0;
}

}  // namespace sluice
