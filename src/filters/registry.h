// The one explicit list of filters Sluice knows (no static self-registration): maps a
// `filters:` entry of the config to its factory, and names the default chain.
// Stateless; thread-safe.
#pragma once

#include "config/filter_catalog.h"
#include "core/services.h"

namespace sluice::filters {

class Registry final : public FilterCatalog {
 public:
  // `services` (may be null, e.g. for `sluice config check`) is read when filters are
  // created, not when factories are built, so the server can fill it in after loading.
  explicit Registry(const Services* services = nullptr) : services_(services) {}
  std::shared_ptr<const FilterFactory> Build(std::string_view name,
                                             const ConfigNode& settings) const override;
  std::vector<std::string_view> DefaultChain(bool auth_configured,
                                             bool limits_configured) const override;
  // Every filter name, in the order they appear in the documentation.
  static std::vector<std::string_view> Names();

 private:
  const Services* services_;
};

}  // namespace sluice::filters
