// Table printing and the small value formatters of the CLI's list output.
#include "cli/cli_table.h"

#include <algorithm>
#include <ctime>

namespace sluice::cli {

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(header_.size(), 0);
  auto measure = [&widths](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(header_);
  for (const auto& row : rows_) measure(row);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << '\n';
  };
  print(header_);
  for (const auto& row : rows_) print(row);
}

std::string FormatTime(const boost::json::value& unix_seconds) {
  if (!unix_seconds.is_int64() || unix_seconds.get_int64() <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(unix_seconds.get_int64());
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M", &utc);
  return text;
}

std::string StringOf(const boost::json::value& value) {
  return value.is_string() ? std::string(value.get_string()) : std::string();
}

std::string TextOrDash(const boost::json::value& value) {
  if (!value.is_string() || value.get_string().empty()) return "-";
  return std::string(value.get_string());
}

std::string JoinList(const boost::json::value& list) {
  std::string out;
  if (list.is_array()) {
    for (const boost::json::value& item : list.get_array()) {
      if (!item.is_string()) continue;
      if (!out.empty()) out += ',';
      out += item.get_string();
    }
  }
  return out.empty() ? "-" : out;
}

}  // namespace sluice::cli
