// Diagnostics formatting.
#include "config/diagnostics.h"

namespace sluice {

void Diagnostics::Error(int line, std::string_view message) {
  std::string text = file_;
  if (line > 0) {
    text += ':';
    text += std::to_string(line);
  }
  text += ": ";
  text += message;
  errors_.push_back(std::move(text));
}

std::string Diagnostics::Joined() const {
  std::string out;
  for (const std::string& e : errors_) {
    out += e;
    out += '\n';
  }
  return out;
}

}  // namespace sluice
