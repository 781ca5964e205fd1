// The process's metrics: every worker thread's cells (WorkerMetrics), summed at scrape time,
// and collectors that read shared state when scraped (routing, pools, journal, reloads,
// process, log and trace sinks). GET /metrics calls Scrape(). Created by the server runtime
// before the workers start, destroyed after they stop. Thread-safe: AddWorker, AddCollector,
// RemoveCollector and Scrape may be called from any thread (one mutex, never taken by the
// request path).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "observability/prometheus_text.h"
#include "observability/worker_metrics.h"

namespace sluice {

struct MetricsOptions {
  size_t max_series = 2000;  // label sets per worker thread (WorkerMetrics)
  bool team_label = false;   // tokens and cost by team (observability.metrics.tenant_labels)
  bool key_label = false;    // ... and by API key id
  std::vector<std::string> limiter_policies;  // limit policy names, in configuration order
};

class MetricsRegistry {
 public:
  using Collector = std::function<void(PrometheusText&)>;

  explicit MetricsRegistry(MetricsOptions options);
  const MetricsOptions& options() const { return options_; }

  // Cells for one more worker thread; owned by the registry (they outlive the worker, so a
  // scrape after a worker stopped still counts its requests).
  WorkerMetrics& AddWorker();
  // Runs `collector` on every scrape, after the request families, until removed.
  uint64_t AddCollector(Collector collector);
  void RemoveCollector(uint64_t id);

  // The whole exposition (Prometheus text format 0.0.4).
  std::string Scrape() const;

  // Exposed for tests: the request families alone.
  void AppendRequestFamilies(PrometheusText& out) const;

 private:
  MetricsOptions options_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<WorkerMetrics>> workers_;
  std::vector<std::pair<uint64_t, Collector>> collectors_;
  uint64_t next_collector_ = 1;
};

}  // namespace sluice
