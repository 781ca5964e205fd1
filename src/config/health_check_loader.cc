// Health check settings from YAML (see health_check_loader.h and docs/configuration.md).
#include "config/health_check_loader.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace sluice {
namespace {

constexpr std::chrono::milliseconds kMinPeriod{10};

// Endpoints that cost money (or run a model) on OpenAI-compatible servers.
constexpr std::array<std::string_view, 9> kPaidSuffixes{
    "/completions",  "/embeddings",           "/responses",
    "/messages",     "/moderations",          "/images/generations",
    "/audio/speech", "/audio/transcriptions", "/audio/translations"};

std::optional<int> ParseStatus(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 100 || value > 599) {
    return std::nullopt;
  }
  return value;
}

// "200", "2xx" or "200-299".
std::optional<HealthStatusRange> ParseStatusRange(std::string_view text) {
  if (text.size() == 3 && text[0] >= '1' && text[0] <= '5' && (text[1] == 'x' || text[1] == 'X') &&
      (text[2] == 'x' || text[2] == 'X')) {
    uint16_t base = static_cast<uint16_t>((text[0] - '0') * 100);
    return HealthStatusRange{base, static_cast<uint16_t>(base + 99)};
  }
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    auto status = ParseStatus(text);
    if (!status) return std::nullopt;
    return HealthStatusRange{static_cast<uint16_t>(*status), static_cast<uint16_t>(*status)};
  }
  auto low = ParseStatus(text.substr(0, dash));
  auto high = ParseStatus(text.substr(dash + 1));
  if (!low || !high || *high < *low) return std::nullopt;
  return HealthStatusRange{static_cast<uint16_t>(*low), static_cast<uint16_t>(*high)};
}

void ReadExpectedStatus(const ConfigNode& node, HealthCheckConfig& c) {
  ConfigNode child = node.Child("expected_status");
  if (!child.defined()) return;
  std::vector<ConfigNode> items = child.is_sequence() ? child.Items() : std::vector{child};
  if (items.empty()) {
    child.Error("must name at least one status");
    return;
  }
  std::vector<HealthStatusRange> ranges;
  for (const ConfigNode& item : items) {
    auto text = item.Scalar();
    if (!text) continue;
    auto range = ParseStatusRange(*text);
    if (!range) {
      item.Error(
          "must be a status (200), a class (2xx) or a range (200-299) within 100-599, not '" +
          *text + "'");
      continue;
    }
    ranges.push_back(*range);
  }
  if (!ranges.empty()) c.expected_status = std::move(ranges);
}

std::chrono::milliseconds Period(const ConfigNode& node, std::string_view key,
                                 std::chrono::milliseconds fallback) {
  std::chrono::milliseconds value = node.Duration(key, fallback);
  if (value < kMinPeriod) {
    node.Child(key).Error("must be at least 10ms");
    return fallback;
  }
  return value;
}

// The keys of a health_check mapping over `c`; checks on unless `enabled: false`.
void ReadBlock(const ConfigNode& node, HealthCheckConfig& c) {
  node.AllowKeys({"enabled", "path", "method", "interval", "timeout", "healthy_threshold",
                  "unhealthy_threshold", "expected_status"});
  c.enabled = node.Bool("enabled", true);
  if (node.Has("path")) {
    c.path = node.String("path", c.path);
    if (std::string problem = HealthPathProblem(c.path); !problem.empty()) {
      node.Child("path").Error(problem);
    }
  }
  if (node.Has("method")) {
    std::string method = node.String("method", c.method);
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    if (method != "GET" && method != "HEAD") {
      node.Child("method").Error("must be GET or HEAD (a health check never sends a body), not '" +
                                 method + "'");
    } else {
      c.method = method;
    }
  }
  c.interval = Period(node, "interval", c.interval);
  c.timeout = Period(node, "timeout", c.timeout);
  c.healthy_threshold =
      static_cast<uint32_t>(node.Int("healthy_threshold", c.healthy_threshold, 1, 1'000));
  c.unhealthy_threshold =
      static_cast<uint32_t>(node.Int("unhealthy_threshold", c.unhealthy_threshold, 1, 1'000));
  ReadExpectedStatus(node, c);
}

}  // namespace

std::string HealthPathProblem(std::string_view path) {
  if (path.empty() || path.front() != '/')
    return "must start with '/', not '" + std::string(path) + "'";
  for (char ch : path) {
    if (static_cast<unsigned char>(ch) <= ' ' || ch == 0x7f || ch == '#') {
      return "must not contain spaces, control characters or a fragment";
    }
  }
  std::string_view route = path.substr(0, path.find('?'));
  while (route.size() > 1 && route.back() == '/') route.remove_suffix(1);
  std::string lower(route);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  for (std::string_view suffix : kPaidSuffixes) {
    if (std::string_view(lower).ends_with(suffix)) {
      return "must not be a model endpoint ('" + std::string(route) +
             "'): health checks never make paid calls; use e.g. /health or /v1/models";
    }
  }
  return {};
}

void ReadHealthCheckDefaults(const ConfigNode& node, HealthCheckConfig& defaults) {
  if (!node.ExpectMap()) return;
  ReadBlock(node, defaults);
}

void ReadBackendHealthCheck(const ConfigNode& node, const HealthCheckConfig& defaults,
                            HealthCheckConfig& out) {
  out = defaults;
  if (!node.defined()) return;
  if (node.is_scalar()) {
    auto text = node.Scalar();
    if (!text) return;
    if (*text == "false" || *text == "no" || *text == "off") {
      out.enabled = false;
    } else if (*text == "true" || *text == "yes" || *text == "on") {
      out.enabled = true;  // the defaults' settings
    } else {
      node.Error("must be a mapping of health check settings, true or false, not '" + *text + "'");
    }
    return;
  }
  if (!node.ExpectMap()) return;
  ReadBlock(node, out);
}

bool HealthStatusExpected(const HealthCheckConfig& config, int status) {
  for (const HealthStatusRange& range : config.expected_status) {
    if (status >= range.low && status <= range.high) return true;
  }
  return false;
}

}  // namespace sluice
