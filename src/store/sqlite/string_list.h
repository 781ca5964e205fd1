// How the SQLite store keeps structured columns: string lists (roles, allowed models) as JSON
// arrays of strings, and opaque metadata/details as JSON objects. Encoding round-trips every
// byte string exactly (including invalid UTF-8 and NUL). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice::sqlite {

std::string EncodeStringList(const std::vector<std::string>& list);
// False when `json` is not an array of strings.
bool DecodeStringList(std::string_view json, std::vector<std::string>* out);
// True when `json` parses as a JSON object.
bool IsJsonObject(std::string_view json);

}  // namespace sluice::sqlite
