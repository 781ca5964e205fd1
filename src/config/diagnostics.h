// Collects configuration errors as "file:line: message" so `sluice config check` can
// report all of them at once. Used only while loading config; not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice {

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}
  // `line` is 1-based; 0 means "the file as a whole".
  void Error(int line, std::string_view message);
  bool ok() const { return errors_.empty(); }
  const std::vector<std::string>& errors() const { return errors_; }
  const std::string& file() const { return file_; }
  std::string Joined() const;

 private:
  std::string file_;
  std::vector<std::string> errors_;
};

}  // namespace sluice
