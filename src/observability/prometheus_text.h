// Prometheus text exposition format 0.0.4 writer: families (# HELP / # TYPE) and samples with
// escaped label values. Used at scrape time by the metrics registry and its collectors
// (admin path, allocates freely). Not thread-safe: one writer per scrape.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace sluice {

struct MetricLabel {
  std::string_view name;
  std::string_view value;
};

class PrometheusText {
 public:
  // Starts a family. `type` is counter, gauge, histogram or untyped. Every sample of the
  // family must follow before the next family starts (the format requires it).
  void Family(std::string_view name, std::string_view type, std::string_view help);

  // One sample line: `name{labels} value`. Label values are escaped (\\, \", \n).
  void Sample(std::string_view name, std::span<const MetricLabel> labels, double value);
  void Sample(std::string_view name, std::span<const MetricLabel> labels, uint64_t value);
  void Sample(std::string_view name, std::initializer_list<MetricLabel> labels, double value) {
    Sample(name, std::span<const MetricLabel>(labels.begin(), labels.size()), value);
  }
  void Sample(std::string_view name, std::initializer_list<MetricLabel> labels, uint64_t value) {
    Sample(name, std::span<const MetricLabel>(labels.begin(), labels.size()), value);
  }

  // A histogram's samples: cumulative `_bucket{le=...}` lines (bounds in the metric's unit,
  // `counts[i]` observations in bucket i alone, counts has bounds.size() + 1 entries, the
  // last one for +Inf), then `_sum` and `_count`. `family` is the name without suffix.
  void Histogram(std::string_view family, std::span<const MetricLabel> labels,
                 std::span<const double> bounds, std::span<const uint64_t> counts, double sum);

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void AppendSeries(std::string_view name, std::string_view suffix,
                    std::span<const MetricLabel> labels, std::string_view le);

  std::string out_;
};

// Appends `value` the way Prometheus reads it: integers without a fraction, others with up
// to 17 significant digits, +Inf/-Inf/NaN spelled as the format wants.
void AppendPrometheusNumber(std::string& out, double value);

}  // namespace sluice
