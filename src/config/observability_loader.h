// Reads `observability:` and `logging:` (and the `rotate:` block the access log shares) into
// their settings, reporting problems as file:line errors. Used by config/loader and the
// access_log filter's settings. Load time only; not thread-safe.
#pragma once

#include "config/config_node.h"
#include "config/observability_config.h"

namespace sluice {

void ReadObservability(const ConfigNode& node, ObservabilityConfig& out);
void ReadLogging(const ConfigNode& node, LoggingConfig& out);
void ReadRotate(const ConfigNode& node, RotateConfig& out);

}  // namespace sluice
