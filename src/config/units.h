// Parsers for the value formats used in configuration: durations ("250ms", "10s", "2m",
// "1h", "30d"), byte sizes ("512", "64KiB", "10MiB", "1GB"), listen addresses ("127.0.0.1:8080",
// "[::1]:0") and ${ENV} interpolation. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);
std::optional<uint64_t> ParseSize(std::string_view text);

struct ListenAddress {
  std::string host;  // numeric IPv4 or IPv6, without brackets
  uint16_t port = 0;
};
std::optional<ListenAddress> ParseListenAddress(std::string_view text);

// Replaces ${NAME} and ${NAME:-default} with environment values; "$$" is a literal "$".
// Returns false and sets `error` when a variable is unset and has no default, or the
// syntax is broken.
bool InterpolateEnv(std::string_view text, std::string& out, std::string& error);

}  // namespace sluice
