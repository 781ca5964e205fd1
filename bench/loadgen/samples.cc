// Samples: exact nearest-rank percentiles over sorted nanosecond samples.
#include "bench/loadgen/samples.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace sluice::loadgen {
namespace {

void AppendField(std::string& out, const char* key, double micros, bool last = false) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "\"%s\":%.1f%s", key, micros, last ? "" : ",");
  out.append(buf);
}

}  // namespace

int64_t Samples::Percentile(double q) const {
  double rank = std::ceil(q / 100.0 * static_cast<double>(values_.size()));
  size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return values_[std::min(index, values_.size() - 1)];
}

void Samples::AppendJsonMicros(std::string& out) {
  out.append("{\"count\":");
  out.append(std::to_string(values_.size()));
  if (values_.empty()) {
    out.append("}");
    return;
  }
  out.append(",");
  std::sort(values_.begin(), values_.end());
  long double sum = 0;
  for (int64_t v : values_) sum += static_cast<long double>(v);
  auto micros = [](int64_t nanos) { return static_cast<double>(nanos) / 1000.0; };
  AppendField(out, "min", micros(values_.front()));
  AppendField(out, "mean", static_cast<double>(sum / values_.size()) / 1000.0);
  AppendField(out, "p50", micros(Percentile(50)));
  AppendField(out, "p90", micros(Percentile(90)));
  AppendField(out, "p99", micros(Percentile(99)));
  AppendField(out, "p99.9", micros(Percentile(99.9)));
  AppendField(out, "max", micros(values_.back()), true);
  out.append("}");
}

void Samples::AppendJsonArrayMicros(std::string& out) const {
  out.push_back('[');
  char buf[32];
  for (size_t i = 0; i < values_.size(); ++i) {
    int n = std::snprintf(buf, sizeof(buf), "%s%.1f", i == 0 ? "" : ",",
                          static_cast<double>(values_[i]) / 1000.0);
    out.append(buf, static_cast<size_t>(n));
  }
  out.push_back(']');
}

}  // namespace sluice::loadgen
