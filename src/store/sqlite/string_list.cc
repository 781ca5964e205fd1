// JSON encoding of string lists and checks of JSON objects (see string_list.h). Pure
// functions; thread-safe.
#include "store/sqlite/string_list.h"

#include <boost/json.hpp>

namespace sluice::sqlite {
namespace {

// The serializer writes bytes >= 0x80 unchanged, so a list holding invalid UTF-8 must be
// readable again: accept it when parsing.
boost::json::parse_options ParseOptions() {
  boost::json::parse_options options;
  options.allow_invalid_utf8 = true;
  return options;
}

}  // namespace

std::string EncodeStringList(const std::vector<std::string>& list) {
  boost::json::array array;
  array.reserve(list.size());
  for (const std::string& item : list) array.emplace_back(boost::json::string_view(item));
  return boost::json::serialize(array);
}

bool DecodeStringList(std::string_view json, std::vector<std::string>* out) {
  boost::json::error_code ec;
  boost::json::value value = boost::json::parse(json, ec, {}, ParseOptions());
  if (ec || !value.is_array()) return false;
  out->clear();
  out->reserve(value.get_array().size());
  for (const boost::json::value& item : value.get_array()) {
    if (!item.is_string()) return false;
    out->emplace_back(item.get_string().data(), item.get_string().size());
  }
  return true;
}

bool IsJsonObject(std::string_view json) {
  boost::json::error_code ec;
  boost::json::value value = boost::json::parse(json, ec, {}, ParseOptions());
  return !ec && value.is_object();
}

}  // namespace sluice::sqlite
