// Settings of the access_log filter (YAML `- access_log: {...}`). Immutable after load.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config_node.h"
#include "config/observability_config.h"
#include "core/request_context.h"
#include "observability/line_sink.h"

namespace sluice::filters {

struct AccessLogConfig {
  std::string output = "stdout";  // stdout | stderr | a file path (appended)
  RotateConfig rotate;            // files only
  // Routes whose prompt (request body) and completion (response body) are logged, redacted
  // and capped (`payloads: [chat_completions, ...]`); none by default.
  std::vector<RouteKind> payload_routes;
  std::shared_ptr<LineSink> sink;
};

std::optional<AccessLogConfig> ParseAccessLogConfig(const ConfigNode& node);

// A log file's `rotate:` settings as the sink takes them (the access log's and `logging:`).
LineSinkOptions SinkOptionsOf(const RotateConfig& rotate);

}  // namespace sluice::filters
