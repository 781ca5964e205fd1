// Exports finished spans to an OpenTelemetry collector over OTLP/HTTP JSON. Workers hand
// spans to Submit(), which only appends to a bounded in-memory queue (spans beyond
// max_queue_spans are dropped and counted); a background thread batches them and POSTs each
// batch on one keep-alive connection, retrying retryable failures with exponential backoff
// and jitter, then dropping and counting what it could not deliver. Never blocks a worker
// on I/O. Thread-safe: every public member may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/random.h"
#include "observability/span.h"

namespace boost::asio::ssl {
class context;
}

namespace sluice {

class OtlpHttpClient;  // the Beast client, private to otlp_exporter.cc

class OtlpExporter {
 public:
  struct Options {
    // http://host:port/path or https://... The path defaults to /v1/traces.
    std::string endpoint;
    // For https: the TLS settings (verification, CA file; config/tls_client_context.h).
    // Null: the peer is verified against the system CAs.
    std::shared_ptr<boost::asio::ssl::context> tls_context;
    std::string service_name = "sluice";
    std::vector<std::pair<std::string, std::string>> headers;  // e.g. authorization
    size_t max_queue_spans = 8192;  // spans held (queued or being exported) at most
    size_t max_batch_spans = 512;
    std::chrono::milliseconds flush_interval{1000};
    std::chrono::milliseconds timeout{2000};  // per POST attempt: connect to response
    int max_attempts = 5;
    std::chrono::milliseconds initial_backoff{100};
    std::chrono::milliseconds max_backoff{5000};
    // Shutdown() waits this long for queued spans to go out before dropping the rest.
    std::chrono::milliseconds shutdown_timeout{5000};
  };

  // Validates `options` (URL scheme, host, port; positive sizes; header syntax) and starts
  // the background thread. nullptr with `error` set when invalid.
  static std::unique_ptr<OtlpExporter> Create(Options options, std::string& error);
  ~OtlpExporter();  // Shutdown()
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // Takes the spans of one request. One short mutex section (moves the records into the
  // queue, whose capacity is reused); never waits on I/O. When the queue would exceed
  // max_queue_spans (or after Shutdown) the spans are dropped and counted as queue_full.
  void Submit(std::vector<SpanRecord>&& spans);

  // Waits until every span submitted before the call has been exported or dropped; false on
  // timeout. Asks the background thread to send now instead of at the next interval.
  bool Flush(std::chrono::milliseconds timeout);

  // Flushes for at most options.shutdown_timeout, then stops the thread: a POST in progress
  // finishes (bounded by options.timeout), pending retries are abandoned and whatever is
  // left is dropped as export_failed. Idempotent.
  void Shutdown();

  uint64_t spans_exported() const { return exported_.load(std::memory_order_relaxed); }
  uint64_t spans_dropped_queue_full() const {
    return dropped_queue_full_.load(std::memory_order_relaxed);
  }
  uint64_t spans_dropped_export_failed() const {
    return dropped_export_failed_.load(std::memory_order_relaxed);
  }
  uint64_t export_failures() const { return export_failures_.load(std::memory_order_relaxed); }
  // Spans held: queued plus the ones the background thread is sending.
  size_t queue_depth() const { return depth_.load(std::memory_order_relaxed); }
  // The last failed attempt, e.g. "127.0.0.1:4318: HTTP 503" (never header values).
  std::string last_error() const;

 private:
  OtlpExporter(Options options, std::unique_ptr<OtlpHttpClient> client);
  void Run();
  void ExportBatch(std::span<const SpanRecord> batch);
  // Sleeps up to `delay`; true when Shutdown() interrupted it.
  bool WaitForStop(std::chrono::milliseconds delay);
  std::chrono::milliseconds Backoff(int attempt);
  void SetLastError(std::string error);

  const Options options_;
  std::unique_ptr<OtlpHttpClient> client_;  // used by the background thread only
  Xoshiro256 jitter_;                       // background thread only

  mutable std::mutex mutex_;
  std::condition_variable wake_;      // background thread: work, flush or stop
  std::condition_variable finished_;  // Flush() waiters
  std::vector<SpanRecord> queue_;     // guarded by mutex_
  size_t held_ = 0;                   // queued + being exported, guarded by mutex_
  uint64_t accepted_ = 0;             // spans ever queued, guarded by mutex_
  uint64_t done_ = 0;                 // of those, exported or dropped, guarded by mutex_
  bool flush_requested_ = false;      // guarded by mutex_
  bool stop_ = false;                 // guarded by mutex_

  std::atomic<bool> shut_down_{false};
  std::atomic<uint64_t> exported_{0};
  std::atomic<uint64_t> dropped_queue_full_{0};
  std::atomic<uint64_t> dropped_export_failed_{0};
  std::atomic<uint64_t> export_failures_{0};
  std::atomic<size_t> depth_{0};

  mutable std::mutex error_mutex_;
  std::string last_error_;  // guarded by error_mutex_

  std::thread thread_;
};

}  // namespace sluice
