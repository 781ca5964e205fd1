// Settings of the request_id filter (YAML `- request_id: {...}`). Immutable after load.
#pragma once

#include <optional>
#include <string>

#include "config/config_node.h"

namespace sluice::filters {

struct RequestIdConfig {
  // Keep a valid X-Request-Id sent by the client (else always generate a new id).
  bool trust_incoming = true;
  // Send the id to the upstream, under this header; empty disables propagation.
  std::string upstream_header = "X-Request-Id";
};

std::optional<RequestIdConfig> ParseRequestIdConfig(const ConfigNode& node);

}  // namespace sluice::filters
