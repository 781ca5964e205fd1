// Parsing of the per-request "mock" overrides, their resolution against the flags, and
// listen-address splitting (see mock_config.h). Pure functions; thread-safe.
#include "mock_config.h"

#include <boost/json/value.hpp>
#include <charconv>

#include "mock_text.h"

namespace sluice {
namespace {

struct OverrideField {
  std::string_view name;
  std::optional<int64_t> RequestOverrides::*member;
  int64_t min;
  int64_t max;
};

constexpr OverrideField kFields[] = {
    {"tokens", &RequestOverrides::tokens, 0, kMaxTokens},
    {"ttft_ms", &RequestOverrides::ttft_ms, 0, kMaxDelayMs},
    {"itl_ms", &RequestOverrides::itl_ms, 0, kMaxDelayMs},
    {"jitter_ms", &RequestOverrides::jitter_ms, 0, kMaxDelayMs},
    {"latency_ms", &RequestOverrides::latency_ms, 0, kMaxDelayMs},
    {"status", &RequestOverrides::status, 400, 599},
    {"reset_after", &RequestOverrides::reset_after, 0, kMaxTokens},
    {"response_bytes", &RequestOverrides::response_bytes, 0, kMaxResponseBytes},
};

}  // namespace

bool ParseOverrides(const boost::json::value* mock, RequestOverrides& out, std::string& message,
                    std::string& param) {
  out = RequestOverrides();
  if (mock == nullptr || mock->is_null()) return true;
  const boost::json::object* object = mock->if_object();
  if (object == nullptr) {
    message = "'mock' must be an object.";
    param = "mock";
    return false;
  }
  for (const OverrideField& field : kFields) {
    const boost::json::value* value = object->if_contains(field.name);
    if (value == nullptr || value->is_null()) continue;
    int64_t number = 0;
    bool ok = true;
    if (const int64_t* i = value->if_int64()) {
      number = *i;
    } else if (const uint64_t* u = value->if_uint64()) {
      ok = *u <= static_cast<uint64_t>(field.max);
      number = static_cast<int64_t>(ok ? *u : 0);
    } else {
      ok = false;
    }
    if (!ok || number < field.min || number > field.max) {
      param = "mock.";
      param.append(field.name);
      message = "'" + param + "' must be an integer from " + std::to_string(field.min) + " to " +
                std::to_string(field.max) + ".";
      return false;
    }
    out.*(field.member) = number;
  }
  return true;
}

Effective Resolve(const MockConfig& config, const RequestOverrides& overrides, bool stream) {
  Effective e;
  if (overrides.response_bytes.value_or(0) > 0) {
    e.tokens = TokensForBytes(*overrides.response_bytes);
  } else if (overrides.tokens.has_value()) {
    e.tokens = *overrides.tokens;
  } else if (!stream && config.response_bytes > 0) {
    e.tokens = TokensForBytes(config.response_bytes);
  } else {
    e.tokens = config.tokens;
  }
  e.ttft_ms = overrides.ttft_ms.value_or(config.ttft_ms);
  e.itl_ms = overrides.itl_ms.value_or(config.itl_ms);
  e.jitter_ms = overrides.jitter_ms.value_or(config.jitter_ms);
  e.latency_ms = overrides.latency_ms.value_or(config.latency_ms);
  return e;
}

bool SplitHostPort(std::string_view text, std::string& host, uint16_t& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) return false;
  std::string_view host_part = text.substr(0, colon);
  std::string_view port_part = text.substr(colon + 1);
  if (host_part.size() >= 2 && host_part.front() == '[' && host_part.back() == ']') {
    host_part = host_part.substr(1, host_part.size() - 2);
  } else if (host_part.find(':') != std::string_view::npos) {
    return false;  // an IPv6 literal needs brackets
  }
  if (host_part.empty()) return false;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port_part.data(), port_part.data() + port_part.size(), value);
  if (ec != std::errc() || end != port_part.data() + port_part.size() || value > 65535) {
    return false;
  }
  host.assign(host_part);
  port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace sluice
