// The one explicit list of filters Sluice knows (no static self-registration): maps a
// `filters:` entry of the config to its factory, and names the default chain.
// Stateless; thread-safe.
#pragma once

#include "config/filter_catalog.h"

namespace sluice::filters {

class Registry final : public FilterCatalog {
 public:
  std::shared_ptr<const FilterFactory> Build(std::string_view name,
                                             const ConfigNode& settings) const override;
  std::vector<std::string_view> DefaultChain() const override;
  // Every filter name, in the order they appear in the documentation.
  static std::vector<std::string_view> Names();
};

}  // namespace sluice::filters
