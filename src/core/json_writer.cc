// The compact JSON writer (see json_writer.h).
#include "core/json_writer.h"

#include <charconv>
#include <cmath>

#include "core/json_text.h"

namespace sluice {
namespace {

void AppendNumber(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out.append("null");
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  std::string_view text(buf, static_cast<size_t>(end - buf));
  out.append(text);
  // Keep doubles recognisable as such ("1.0", not "1") so a round trip preserves the kind.
  if (text.find_first_of(".eE") == std::string_view::npos) out.append(".0");
}

}  // namespace

void AppendJsonValue(std::string& out, const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null:
      out.append("null");
      return;
    case boost::json::kind::bool_:
      out.append(value.get_bool() ? "true" : "false");
      return;
    case boost::json::kind::int64:
      AppendDecimal(out, value.get_int64());
      return;
    case boost::json::kind::uint64: {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value.get_uint64());
      out.append(buf, end);
      return;
    }
    case boost::json::kind::double_:
      AppendNumber(out, value.get_double());
      return;
    case boost::json::kind::string:
      AppendJsonString(out, value.get_string());
      return;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const boost::json::value& item : value.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        AppendJsonValue(out, item);
      }
      out.push_back(']');
      return;
    }
    case boost::json::kind::object:
      AppendJsonObject(out, value.get_object());
      return;
  }
}

void AppendJsonObject(std::string& out, const boost::json::object& object) {
  out.push_back('{');
  bool first = true;
  for (const boost::json::key_value_pair& member : object) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, member.key());
    out.push_back(':');
    AppendJsonValue(out, member.value());
  }
  out.push_back('}');
}

}  // namespace sluice
