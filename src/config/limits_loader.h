// Reader of the limits: configuration section (see limits_config.h) and of a model's
// price: entry, used by config/loader. Errors go to the node's diagnostics with file:line.
// Not thread-safe (load time only).
#pragma once

#include <optional>

#include "config/config_node.h"
#include "config/limits_config.h"
#include "limits/price_table.h"

namespace sluice {

void ReadLimits(const ConfigNode& node, LimitsConfig& limits);
// A model's price (models: price:), USD per 1M tokens in the file; cached input defaults
// to the input price. Unset: the model costs nothing (money budgets do not count it).
void ReadModelPrice(const ConfigNode& node, limits::ModelPrice& price);

// "second" | "minute" | "hour" | "day" (also s, m, min, h, d) → period; nullopt otherwise.
std::optional<std::chrono::milliseconds> ParseRatePeriod(std::string_view text);

}  // namespace sluice
