// Value-format parsers for configuration (see units.h).
#include "config/units.h"

#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace sluice {
namespace {

// Splits "123unit" into number and unit.
bool SplitNumber(std::string_view text, double& number, std::string_view& unit) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, number);
  if (ec != std::errc() || ptr != text.data() + i || number < 0) return false;
  unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return true;
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  double number = 0;
  std::string_view unit;
  if (!SplitNumber(text, number, unit)) return std::nullopt;
  double ms;
  if (unit == "ms") {
    ms = number;
  } else if (unit == "s") {
    ms = number * 1000;
  } else if (unit == "m") {
    ms = number * 60'000;
  } else if (unit == "h") {
    ms = number * 3'600'000;
  } else if (unit == "d") {
    ms = number * 86'400'000;
  } else {
    return std::nullopt;
  }
  if (ms > 1e13) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

std::optional<uint64_t> ParseSize(std::string_view text) {
  double number = 0;
  std::string_view unit;
  if (!SplitNumber(text, number, unit)) return std::nullopt;
  double factor;
  if (unit.empty() || unit == "B") {
    factor = 1;
  } else if (unit == "KiB") {
    factor = 1024.0;
  } else if (unit == "MiB") {
    factor = 1024.0 * 1024;
  } else if (unit == "GiB") {
    factor = 1024.0 * 1024 * 1024;
  } else if (unit == "KB" || unit == "kB") {
    factor = 1e3;
  } else if (unit == "MB") {
    factor = 1e6;
  } else if (unit == "GB") {
    factor = 1e9;
  } else {
    return std::nullopt;
  }
  double bytes = number * factor;
  if (bytes > 1e15) return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

std::optional<ListenAddress> ParseListenAddress(std::string_view text) {
  ListenAddress out;
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (host.empty()) return std::nullopt;
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // IPv6 needs [brackets]
  }
  if (host.empty()) host = "0.0.0.0";
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  unsigned value = 0;
  auto [ptr, perr] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || perr != std::errc() || ptr != port.data() + port.size() || value > 65535) {
    return std::nullopt;
  }
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(value);
  return out;
}

bool InterpolateEnv(std::string_view text, std::string& out, std::string& error) {
  out.clear();
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '$') {
      out.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      out.push_back('$');
      i += 2;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      out.push_back('$');
      ++i;
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      error = "unterminated ${...} reference";
      return false;
    }
    std::string_view inner = text.substr(i + 2, close - i - 2);
    std::string_view name = inner;
    std::optional<std::string_view> fallback;
    if (size_t sep = inner.find(":-"); sep != std::string_view::npos) {
      name = inner.substr(0, sep);
      fallback = inner.substr(sep + 2);
    }
    bool valid_name = !name.empty() && !std::isdigit(static_cast<unsigned char>(name.front()));
    for (char n : name)
      valid_name = valid_name && (std::isalnum(static_cast<unsigned char>(n)) || n == '_');
    if (!valid_name) {
      error = "invalid environment variable name in ${" + std::string(inner) + "}";
      return false;
    }
    const char* value = std::getenv(std::string(name).c_str());
    if (value != nullptr && *value != '\0') {
      out.append(value);
    } else if (fallback) {
      out.append(*fallback);
    } else {
      error = "environment variable " + std::string(name) + " is not set";
      return false;
    }
    i = close + 1;
  }
  return true;
}

}  // namespace sluice
