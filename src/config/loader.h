// Loads a YAML configuration file into a validated, immutable Snapshot. Every problem is
// reported as "file:line: message" (all of them, not just the first). Used at start-up,
// by `sluice config check` and (later) by hot reload. Thread-safe: no shared state.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/filter_catalog.h"
#include "config/snapshot.h"

namespace sluice {

struct LoadResult {
  std::shared_ptr<const Snapshot> snapshot;  // null when errors is not empty
  std::vector<std::string> errors;
};

LoadResult LoadConfigFile(const std::string& path, const FilterCatalog& catalog);
// `name` stands in for the file name in error messages.
LoadResult LoadConfigText(std::string_view yaml, const std::string& name,
                          const FilterCatalog& catalog);

}  // namespace sluice
