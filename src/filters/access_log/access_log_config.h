// Settings of the access_log filter (YAML `- access_log: {...}`). Immutable after load.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/config_node.h"
#include "observability/line_sink.h"

namespace sluice::filters {

struct AccessLogConfig {
  std::string output = "stdout";  // stdout | stderr | a file path (appended)
  std::shared_ptr<LineSink> sink;
};

std::optional<AccessLogConfig> ParseAccessLogConfig(const ConfigNode& node);

}  // namespace sluice::filters
