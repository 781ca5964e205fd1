// Parsing of the access_log filter settings; opens (or shares) the output sink.
#include "filters/access_log/access_log_config.h"

namespace sluice::filters {

std::optional<AccessLogConfig> ParseAccessLogConfig(const ConfigNode& node) {
  AccessLogConfig config;
  node.AllowKeys({"output"});
  config.output = node.String("output", config.output);
  std::string error;
  config.sink = LineSink::Open(config.output, error);
  if (!config.sink) {
    node.Child("output").Error(error);
    return std::nullopt;
  }
  return config;
}

}  // namespace sluice::filters
