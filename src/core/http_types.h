// Plain HTTP vocabulary shared by every layer: methods, header views and the parsed
// request. The views point into the session's input buffer and stay valid until the
// response is complete. Not thread-safe; owned by one session at a time.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace sluice {

enum class Method : uint8_t { kGet, kHead, kPost, kPut, kDelete, kOptions, kPatch, kOther };

std::string_view MethodName(Method method);
Method ParseMethod(std::string_view text);

// ASCII case-insensitive equality, as header names require.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// RFC 9110 `tchar`: the characters of a token (header names, methods, parameters).
inline constexpr std::array<bool, 256> kHttpTokenChars = [] {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

struct Header {
  std::string_view name;
  std::string_view value;
};

// The request's header fields in arrival order. Lookups are linear: requests carry few
// fields (the parser caps them) and a scan beats hashing at that size.
class HeaderList {
 public:
  void Clear() { fields_.clear(); }
  void Add(std::string_view name, std::string_view value) { fields_.push_back({name, value}); }
  size_t size() const { return fields_.size(); }
  const std::vector<Header>& fields() const { return fields_; }
  // First value of `name`, or empty view when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  int Count(std::string_view name) const;

 private:
  std::vector<Header> fields_;
};

struct HttpRequest {
  Method method = Method::kOther;
  std::string_view method_text;
  std::string_view target;  // as received, origin-form
  std::string_view path;    // target without the query
  std::string_view query;   // after '?', without it
  int minor_version = 1;    // HTTP/1.<minor>
  HeaderList headers;
  std::string_view body;
  bool keep_alive = true;
  bool expect_continue = false;
  bool chunked = false;
  uint64_t content_length = 0;

  void Reset();
};

}  // namespace sluice
