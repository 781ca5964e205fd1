// Test-only helpers for unit tests that load a config from YAML text: a FilterCatalog that
// knows no filters, loading "test.yaml" with it, and error-joining for assertion messages.
// Header-only; stateless apart from one immutable catalog, so safe from any test thread.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"

namespace sluice::config_test {

// A catalog without filters: every named filter is an "unknown filter" error at its line,
// and the default chain is empty.
class NoFilters final : public FilterCatalog {
 public:
  std::shared_ptr<const FilterFactory> Build(std::string_view name,
                                             const ConfigNode& settings) const override {
    settings.Error("unknown filter '" + std::string(name) + "'");
    return nullptr;
  }
  std::vector<std::string_view> DefaultChain(bool, bool) const override { return {}; }
};

// Loads `yaml` as "test.yaml" with no filters; errors are returned, not reported.
inline LoadResult LoadWithoutFilters(std::string_view yaml) {
  static const NoFilters catalog;
  return LoadConfigText(yaml, "test.yaml", catalog);
}

// One error per line, for `<<` after an assertion.
inline std::string JoinedErrors(const std::vector<std::string>& errors) {
  std::string out;
  for (const std::string& e : errors) out += e + "\n";
  return out;
}

// Loads `yaml` expecting success: each error is a test failure. The snapshot may be null.
inline std::shared_ptr<const Snapshot> LoadOkWithoutFilters(std::string_view yaml) {
  LoadResult result = LoadWithoutFilters(yaml);
  for (const std::string& e : result.errors) ADD_FAILURE() << e;
  return result.snapshot;
}

}  // namespace sluice::config_test
