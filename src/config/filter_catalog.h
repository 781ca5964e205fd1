// The seam between configuration and filters: the loader asks the catalog (implemented
// by filters/registry.cc) to turn each `filters:` entry into a FilterFactory. Kept as an
// interface so config/ does not depend on filters/. Implementations are stateless.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "config/config_node.h"
#include "core/filter.h"

namespace sluice {

class FilterCatalog {
 public:
  virtual ~FilterCatalog() = default;
  // Builds the factory for filter `name` from its settings, reporting errors through
  // `settings`. Returns nullptr (after reporting) for unknown names or bad settings.
  virtual std::shared_ptr<const FilterFactory> Build(std::string_view name,
                                                     const ConfigNode& settings) const = 0;
  // The chain used when the config has no `filters:` section (`auth_configured`: the
  // config has an `auth:` section, so the chain authenticates and authorizes;
  // `limits_configured`: a `limits:` section, so the chain enforces it).
  virtual std::vector<std::string_view> DefaultChain(bool auth_configured,
                                                     bool limits_configured) const = 0;
};

}  // namespace sluice
