// One worker thread's metric cells: per label set (route, model, backend, status class and,
// when configured, team and key) the request counters and histograms, plus errors by route
// and class, limiter decisions by policy and outcome, and the thread's gauges. The request
// path writes here without locks (metric_cells.h); MetricsRegistry sums every thread's
// cells at scrape time. A new label set is inserted under a mutex the scrape also takes (once
// per label set per thread, never per request). Written by its owning thread only; read by
// the scrape from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/errors.h"
#include "core/request_context.h"
#include "observability/metric_cells.h"

namespace sluice {

enum class RequestHistogram : uint8_t {
  kDuration,            // seconds: request start → last byte to the client
  kUpstream,            // seconds: first upstream write → last upstream byte
  kOverhead,            // seconds: duration minus upstream
  kTimeToFirstToken,    // seconds, streams
  kTimePerOutputToken,  // seconds, streams with ≥ 2 completion tokens
  kInputTokens,         // tokens per request
  kOutputTokens,
  kCount,
};
inline constexpr size_t kRequestHistograms = static_cast<size_t>(RequestHistogram::kCount);
const HistogramSpec& RequestHistogramSpec(RequestHistogram histogram);

// What one finished request contributes (built by the HTTP layer from its RequestContext).
// The views need only live for the call. Times are nanoseconds; -1 means "not measured".
struct RequestSample {
  RouteKind route = RouteKind::kNotFound;
  std::string_view model;    // the model asked for ("" none, "unknown" not configured)
  std::string_view backend;  // the backend of the last attempt ("" none)
  std::string_view team;     // only with tenant labels configured
  std::string_view key;
  int status = 0;
  ErrorClass error = ErrorClass::kNone;
  int64_t duration_ns = 0;
  int64_t upstream_ns = -1;
  int64_t time_to_first_token_ns = -1;
  int64_t time_per_output_token_ns = -1;
  int64_t input_tokens = -1;  // -1: usage unknown
  int64_t output_tokens = -1;
  int64_t cached_tokens = -1;
  int64_t cost_micro_usd = 0;
  uint32_t retries = 0;
  bool fell_back = false;
};

enum class LimiterOutcome : uint8_t { kAllowed, kRejected, kBlocked, kUnavailable, kCount };
inline constexpr size_t kLimiterOutcomes = static_cast<size_t>(LimiterOutcome::kCount);
std::string_view LimiterOutcomeName(LimiterOutcome outcome);
// The metrics label of a route ("chat_completions", "health", ...).
std::string_view RouteLabel(RouteKind route);
// "2xx" .. "5xx"; a status of 0 (nothing sent) counts as 4xx, like a client that left.
std::string_view StatusClass(int status);

// The label set of a series (owning).
struct SeriesLabels {
  RouteKind route = RouteKind::kNotFound;
  uint8_t status_class = 0;  // 2..5
  std::string model;
  std::string backend;
  std::string team;
  std::string key;
};

struct RequestSeries {
  LocalCounter requests;
  LocalCounter retries;
  LocalCounter fallbacks;
  LocalCounter input_tokens;
  LocalCounter output_tokens;
  LocalCounter cached_tokens;
  LocalCounter cost_micro_usd;
  std::array<HistogramCell, kRequestHistograms> histograms;
};

inline constexpr size_t kRouteKinds = kRouteKindCount;
inline constexpr size_t kErrorClasses = static_cast<size_t>(ErrorClass::kInternal) + 1;

class WorkerMetrics {
 public:
  // `max_series`: label sets kept per thread; further ones count under model "_other_".
  // `limiter_policies`: the number of limit policies (index `limiter_policies` is the
  // repeat-offender block).
  WorkerMetrics(size_t max_series, size_t limiter_policies);

  // --- The owning thread.
  void Observe(const RequestSample& sample);
  void CountLimiter(size_t policy, LimiterOutcome outcome);
  LocalGauge in_flight;
  LocalGauge streams_open;
  LocalGauge connections_open;

  // --- Scrape (any thread).
  // Calls fn(labels, series) for every label set, under the insertion mutex.
  template <typename Fn>
  void ForEachSeries(Fn&& fn) const {
    std::lock_guard lock(mutex_);
    for (const auto& [key, series] : series_) fn(series->labels, series->cells);
  }
  uint64_t errors(RouteKind route, ErrorClass error) const {
    return errors_[static_cast<size_t>(route)][static_cast<size_t>(error)].Get();
  }
  size_t limiter_policies() const { return limiter_policies_; }
  uint64_t limiter(size_t policy, LimiterOutcome outcome) const {
    return limiter_[policy * kLimiterOutcomes + static_cast<size_t>(outcome)].Get();
  }

 private:
  struct Entry {
    SeriesLabels labels;
    RequestSeries cells;
  };
  struct KeyView {
    RouteKind route;
    uint8_t status_class;
    std::string_view model, backend, team, key;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const KeyView& key) const;
    size_t operator()(const SeriesLabels& labels) const;
  };
  struct KeyEqual {
    using is_transparent = void;
    static KeyView View(const SeriesLabels& labels);
    static KeyView View(const KeyView& key) { return key; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      KeyView x = View(a), y = View(b);
      return x.route == y.route && x.status_class == y.status_class && x.model == y.model &&
             x.backend == y.backend && x.team == y.team && x.key == y.key;
    }
  };

  RequestSeries& Series(const KeyView& key);

  size_t max_series_;
  size_t limiter_policies_;
  mutable std::mutex mutex_;  // insertions (owner) and scrapes
  std::unordered_map<SeriesLabels, std::unique_ptr<Entry>, KeyHash, KeyEqual> series_;
  std::array<std::array<LocalCounter, kErrorClasses>, kRouteKinds> errors_{};
  std::unique_ptr<LocalCounter[]> limiter_;
};

// The metrics of the worker running on this thread; null on threads that are not workers
// (filters call it: a null result means "not counted", e.g. in unit tests).
WorkerMetrics* CurrentWorkerMetrics();
void SetCurrentWorkerMetrics(WorkerMetrics* metrics);

}  // namespace sluice
