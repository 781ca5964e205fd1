// Plain-text output of the CLI's list commands: an aligned table (header in capitals, two
// spaces between columns), Unix times as UTC dates and lists joined with commas. Used by
// `sluice keys|users|teams list`; pure functions and a value type, thread-compatible.
#pragma once

#include <boost/json/value.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// "2025-01-31 14:05" (UTC) for a Unix time in seconds; "-" for null or 0.
std::string FormatTime(const boost::json::value& unix_seconds);
// A string field ("" when it is not a string): a json::string streams with quotes.
std::string StringOf(const boost::json::value& value);
// A string field, or "-" when null or empty.
std::string TextOrDash(const boost::json::value& value);
// A JSON array of strings joined with ","; "-" when empty.
std::string JoinList(const boost::json::value& list);

}  // namespace sluice::cli
