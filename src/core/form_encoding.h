// application/x-www-form-urlencoded and URL query strings: "a=1&b=x%20y" → pairs, with
// percent-decoding ('+' is a space). Used for OAuth2 form sign-in and admin API queries.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice {

// Decodes %XX and '+'. Malformed escapes are kept as written.
std::string FormDecode(std::string_view text);

// Every "name=value" pair, decoded, in order (a pair without '=' has an empty value).
std::vector<std::pair<std::string, std::string>> ParseForm(std::string_view text);

}  // namespace sluice
