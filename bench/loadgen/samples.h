// Latency samples for sluice-loadgen: every measured value is kept (nanoseconds) and sorted
// once at the end, so percentiles are exact rather than bucketed. At the rates this rig
// reaches (well under 10^6 samples per run) that costs a few MB. Not thread-safe; the load
// generator is single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::loadgen {

class Samples {
 public:
  void Reserve(size_t n) { values_.reserve(n); }
  void Add(int64_t nanos) { values_.push_back(nanos < 0 ? 0 : nanos); }
  size_t count() const { return values_.size(); }

  // Appends {"count","min","mean","p50","p90","p99","p99.9","max"} in microseconds (one
  // decimal) as a JSON object. Sorts the samples in place.
  void AppendJsonMicros(std::string& out);
  // Appends every sample as a JSON array of microseconds (one decimal), for pooling runs.
  void AppendJsonArrayMicros(std::string& out) const;

 private:
  // REQUIRES: values_ sorted and not empty. Nearest-rank percentile, q in [0, 100].
  int64_t Percentile(double q) const;

  std::vector<int64_t> values_;
};

}  // namespace sluice::loadgen
