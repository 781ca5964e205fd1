// A strict reader of the Prometheus text exposition format 0.0.4 for tests: parses a /metrics
// body into samples (name, labels, value), checks the format's rules (a TYPE before a family's
// samples, each family's samples contiguous, no repeated series, escaped label values) and
// answers queries by name and label set, including whole histograms. Used by the metrics unit
// and integration tests. Not thread-safe; immutable after Parse, so readable from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::testing {

using PromLabels = std::map<std::string, std::string>;

struct PromSample {
  std::string name;  // with its suffix (_bucket, _sum, _count)
  PromLabels labels;
  double value = 0;
};

// One histogram series: `_bucket` lines by `le` (cumulative, +Inf included), `_sum`, `_count`.
struct PromHistogram {
  std::vector<std::pair<double, double>> buckets;  // (le, cumulative count), in text order
  double sum = 0;
  double count = 0;
  bool found = false;  // false: no _count sample matched
};

class PrometheusScrape {
 public:
  static PrometheusScrape Parse(std::string_view text);

  // Format violations found while parsing ("line N: ..."); empty for a valid exposition.
  const std::vector<std::string>& errors() const { return errors_; }
  const std::vector<PromSample>& samples() const { return samples_; }
  // The TYPE of family `name` ("counter", "gauge", "histogram", ...), or "" when undeclared.
  std::string Type(std::string_view name) const;

  // The value of the sample named `name` whose labels are exactly `labels`.
  std::optional<double> Value(std::string_view name, const PromLabels& labels = {}) const;
  // The samples named `name` whose labels include every pair of `subset`.
  std::vector<const PromSample*> Matching(std::string_view name,
                                          const PromLabels& subset = {}) const;
  // Sum of the values of Matching(name, subset); 0 when none match.
  double Sum(std::string_view name, const PromLabels& subset = {}) const;
  // The histogram series of `family` (name without suffix) with exactly `labels` (no `le`).
  PromHistogram Histogram(std::string_view family, const PromLabels& labels) const;

 private:
  std::vector<PromSample> samples_;
  std::map<std::string, std::string, std::less<>> types_;
  std::vector<std::string> errors_;
};

}  // namespace sluice::testing
