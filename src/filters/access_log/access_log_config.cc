// Parsing of the access_log filter settings; opens (or shares) the output sink.
#include "filters/access_log/access_log_config.h"

#include "config/observability_loader.h"

namespace sluice::filters {

LineSinkOptions SinkOptionsOf(const RotateConfig& rotate) {
  LineSinkOptions options;
  options.max_bytes = rotate.max_bytes;
  options.max_age = rotate.max_age;
  options.keep = rotate.keep;
  return options;
}

std::optional<AccessLogConfig> ParseAccessLogConfig(const ConfigNode& node) {
  AccessLogConfig config;
  node.AllowKeys({"output", "rotate", "payloads"});
  config.output = node.String("output", config.output);
  ReadRotate(node.Child("rotate"), config.rotate);
  for (const std::string& route : node.StringList("payloads")) {
    if (route == "chat_completions") {
      config.payload_routes.push_back(RouteKind::kChatCompletions);
    } else if (route == "completions") {
      config.payload_routes.push_back(RouteKind::kCompletions);
    } else if (route == "embeddings") {
      config.payload_routes.push_back(RouteKind::kEmbeddings);
    } else {
      node.Child("payloads")
          .Error("unknown route '" + route + "' (chat_completions, completions or embeddings)");
    }
  }
  std::string error;
  config.sink = LineSink::Open(config.output, SinkOptionsOf(config.rotate), error);
  if (!config.sink) {
    node.Child("output").Error(error);
    return std::nullopt;
  }
  return config;
}

}  // namespace sluice::filters
