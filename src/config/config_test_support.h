// Test-only helpers for unit tests that load a config from YAML text: a FilterCatalog that
// knows no filters, loading "test.yaml" with it, error-joining for assertion messages, and
// the table-driven "this YAML fails at this line with this message" check.
// Header-only; stateless apart from one immutable catalog, so safe from any test thread.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
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

// One row of an error table: YAML that must fail with `message_part` at `line`.
struct ErrorCase {
  const char* name;  // the test's name
  std::string yaml;
  int line;
  const char* message_part;
};

// GoogleTest prints a row by its name (not its bytes).
inline void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

// The parameterised test's name: the row's.
inline std::string ErrorCaseName(const testing::TestParamInfo<ErrorCase>& info) {
  return info.param.name;
}

// Success when one of `errors` starts with "test.yaml:<line>: " and contains `part`.
inline testing::AssertionResult HasErrorAt(const std::vector<std::string>& errors, int line,
                                           std::string_view part) {
  std::string prefix = "test.yaml:" + std::to_string(line) + ": ";
  for (const std::string& e : errors) {
    if (e.rfind(prefix, 0) == 0 && e.find(part) != std::string::npos) {
      return testing::AssertionSuccess();
    }
  }
  return testing::AssertionFailure() << "expected " << prefix << "..." << part << "\ngot:\n"
                                     << JoinedErrors(errors);
}

// The check of every loader error table: `c.yaml` is refused with `c.message_part` at
// test.yaml:`c.line`.
inline void ExpectRefusedAt(const ErrorCase& c) {
  LoadResult result = LoadWithoutFilters(c.yaml);
  EXPECT_EQ(result.snapshot, nullptr);
  EXPECT_TRUE(HasErrorAt(result.errors, c.line, c.message_part));
}

}  // namespace sluice::config_test
