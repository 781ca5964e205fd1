// Settings of observability (YAML `observability:`) and of the application log (`logging:`):
// metrics, overhead headers, tracing, readiness probes, log level, format, output and
// rotation. Both sections are restart-only (kRestartOnlySections). Plain immutable data.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace sluice {

struct MetricsConfig {
  bool enabled = true;            // GET /metrics on the admin listener
  bool on_main_listener = false;  // ... and on the main listener
  bool team_label = false;        // tenant_labels: [team]
  bool key_label = false;         // tenant_labels: [key]
  uint64_t max_series = 2000;     // label sets per worker thread
};

struct TracingConfig {
  std::string endpoint;  // OTLP/HTTP JSON; empty: tracing off
  double sample_ratio = 0.1;
  std::string service_name = "sluice";
  std::vector<std::pair<std::string, std::string>> headers;
  uint64_t max_queue_spans = 8192;
  uint64_t max_batch_spans = 512;
  std::chrono::milliseconds flush_interval{1000};
  std::chrono::milliseconds timeout{2000};
  // tls: {verify, ca_file} for an https:// endpoint; the context built from them (null for
  // http://).
  bool tls_verify = true;
  std::string tls_ca_file;  // empty: the system's CAs
  std::shared_ptr<boost::asio::ssl::context> tls_context;
  bool enabled() const { return !endpoint.empty(); }
};

struct ObservabilityConfig {
  MetricsConfig metrics;
  bool overhead_headers = false;  // x-sluice-overhead-ms and server-timing
  TracingConfig tracing;
  std::vector<std::string> required_models;  // probes.required_models
};

// Size/time rotation of a log file, and how many rotated files are kept.
struct RotateConfig {
  uint64_t max_bytes = 0;  // 0: no size rotation
  std::chrono::seconds max_age{0};
  int keep = 7;
};

struct LoggingConfig {
  std::string level = "info";     // trace, debug, info, warn, error, off
  std::string format = "text";    // text | json
  std::string output = "stderr";  // stderr | stdout | a file path
  RotateConfig rotate;
};

}  // namespace sluice
