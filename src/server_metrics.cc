// Metrics of the runtime components and of the server (pools, reloads, routing).
#include "server_metrics.h"

#include <chrono>
#include <map>
#include <tuple>

#include "limits/key_overrides.h"
#include "limits/limits_runtime.h"
#include "limits/redis_limiter_store.h"
#include "observability/line_sink.h"
#include "observability/metrics_registry.h"
#include "observability/process_metrics.h"
#include "observability/request_trace.h"
#include "routing/routing_metrics.h"
#include "server.h"
#include "usage/usage_exporter.h"
#include "usage/usage_journal.h"

namespace sluice {
namespace {

// How recently a Redis fallback decision makes the limiter store show as degraded.
constexpr int64_t kFallbackRecentUs = 10'000'000;

void Counter(PrometheusText& out, std::string_view name, std::string_view help, uint64_t value) {
  out.Family(name, "counter", help);
  out.Sample(name, {}, value);
}

void Gauge(PrometheusText& out, std::string_view name, std::string_view help, double value) {
  out.Family(name, "gauge", help);
  out.Sample(name, {}, value);
}

double UnixSeconds(WallTime time) {
  return std::chrono::duration<double>(time.time_since_epoch()).count();
}

}  // namespace

void OpenMetrics(const Snapshot& snapshot, RuntimeServices& out) {
  MetricsOptions options;
  const MetricsConfig& config = snapshot.observability.metrics;
  // Off: no registry at all, so workers have no cells and requests count nothing.
  if (!config.enabled) return;
  options.max_series = config.max_series;
  options.team_label = config.team_label;
  options.key_label = config.key_label;
  // The plan's policy indexes: the configured policies, then the per-key overrides.
  for (const LimitPolicyConfig& policy : snapshot.limits.policies) {
    options.limiter_policies.push_back(policy.name);
  }
  options.limiter_policies.push_back(limits::KeyOverridePolicy().name);
  out.metrics = std::make_unique<MetricsRegistry>(std::move(options));
  out.services.metrics = out.metrics.get();
  out.metrics->AddCollector([](PrometheusText& text) {
    std::vector<std::tuple<std::string, uint64_t, uint64_t>> sinks;
    LineSink::ForEachOpen([&](const std::string& target, const LineSink& sink) {
      sinks.emplace_back(target, sink.dropped(), sink.written());
    });
    text.Family("sluice_log_lines_dropped_total", "counter",
                "Log lines dropped because the sink's queue was full.");
    for (const auto& [target, dropped, written] : sinks) {
      text.Sample("sluice_log_lines_dropped_total", {{"sink", target}}, dropped);
    }
    text.Family("sluice_log_lines_written_total", "counter", "Log lines written.");
    for (const auto& [target, dropped, written] : sinks) {
      text.Sample("sluice_log_lines_written_total", {{"sink", target}}, written);
    }
    AppendProcessMetrics(text);
  });
}

bool OpenTracing(const Snapshot& snapshot, RuntimeServices& out, std::vector<std::string>& errors) {
  const TracingConfig& config = snapshot.observability.tracing;
  if (!config.enabled()) return true;
  OtlpExporter::Options options;
  options.endpoint = config.endpoint;
  options.service_name = config.service_name;
  options.headers = config.headers;
  options.max_queue_spans = config.max_queue_spans;
  options.max_batch_spans = config.max_batch_spans;
  options.flush_interval = config.flush_interval;
  options.timeout = config.timeout;
  options.tls_context = config.tls_context;
  std::string error;
  std::unique_ptr<OtlpExporter> exporter = OtlpExporter::Create(std::move(options), error);
  if (!exporter) {
    errors.push_back("observability.tracing: " + error);
    return false;
  }
  out.tracer = std::make_unique<Tracer>(std::move(exporter), config.sample_ratio);
  out.services.tracer = out.tracer.get();
  if (!out.metrics) return true;
  OtlpExporter* exporter_ptr = &out.tracer->exporter();
  out.metrics->AddCollector([exporter_ptr](PrometheusText& text) {
    Counter(text, "sluice_trace_spans_exported_total", "Spans accepted by the OTLP receiver.",
            exporter_ptr->spans_exported());
    std::string_view dropped = "sluice_trace_spans_dropped_total";
    text.Family(dropped, "counter", "Spans lost: queue full, or export failed after retries.");
    text.Sample(dropped, {{"reason", "queue_full"}}, exporter_ptr->spans_dropped_queue_full());
    text.Sample(dropped, {{"reason", "export_failed"}},
                exporter_ptr->spans_dropped_export_failed());
    Counter(text, "sluice_trace_export_failures_total", "Failed OTLP export attempts.",
            exporter_ptr->export_failures());
  });
  return true;
}

void ObserveLimiter(RuntimeServices& out) {
  auto* redis = dynamic_cast<limits::RedisLimiterStore*>(&out.limits->store());
  if (redis == nullptr) return;
  if (out.metrics)
    out.metrics->AddCollector([redis](PrometheusText& text) {
      limits::FallbackCounts counts = redis->fallback_decisions();
      std::string_view name = "sluice_limiter_fallback_decisions_total";
      text.Family(name, "counter",
                  "Limiter decisions made by a failure policy while Redis was unreachable.");
      text.Sample(name, {{"mode", "local_fallback"}}, counts.local_fallback);
      text.Sample(name, {{"mode", "fail_open"}}, counts.fail_open);
      text.Sample(name, {{"mode", "fail_closed"}}, counts.fail_closed);
    });
  ReadinessCheck check;
  check.name = "limiter_store";
  check.required = false;  // rate limits go on under their failure policies
  check.check = [redis](std::string& detail) {
    int64_t last = redis->last_fallback_us();
    int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    if (last == 0 || now - last > kFallbackRecentUs) return true;
    detail = "Redis unreachable: limits decided by their failure policies";
    return false;
  };
  out.services.readiness_checks.push_back(std::move(check));
}

void ObserveUsage(RuntimeServices& out) {
  UsageJournal* journal = out.usage_journal.get();
  UsageExporter* exporter = out.usage_exporter.get();
  if (out.metrics)
    out.metrics->AddCollector([journal, exporter](PrometheusText& text) {
      uint64_t written = journal->records_written();
      uint64_t exported = exporter->records_exported();
      Gauge(text, "sluice_usage_journal_backlog_records",
            "Usage records journaled and not yet exported to the store.",
            static_cast<double>(written > exported ? written - exported : 0));
      Counter(text, "sluice_usage_journal_records_total", "Usage records made durable.", written);
      Counter(text, "sluice_usage_journal_fsyncs_total", "Journal fsyncs (group commits).",
              journal->fsyncs());
      Counter(text, "sluice_usage_export_failures_total",
              "Failed writes of usage records to the store.", exporter->failures());
    });
  ReadinessCheck check;
  check.name = "store";
  check.check = [exporter](std::string& detail) {
    if (exporter->store_reachable()) return true;
    detail = exporter->last_error();
    return false;
  };
  out.services.readiness_checks.push_back(std::move(check));
}

void Server::CollectMetrics() {
  if (services_ == nullptr || services_->metrics == nullptr) return;
  metrics_collector_ = services_->metrics->AddCollector([this](PrometheusText& text) {
    // Pools: idle connections and connections opened, summed over the workers.
    std::map<std::string, std::pair<size_t, uint64_t>> pools;
    for (const auto& worker : workers_) {
      for (const Worker::PoolStat& stat : worker->PoolStats()) {
        auto& [idle, opened] = pools[stat.backend];
        idle += stat.idle;
        opened += stat.opened;
      }
    }
    text.Family("sluice_upstream_connections_idle", "gauge",
                "Idle pooled upstream connections, all workers.");
    for (const auto& [backend, stat] : pools) {
      text.Sample("sluice_upstream_connections_idle", {{"backend", backend}},
                  static_cast<double>(stat.first));
    }
    text.Family("sluice_upstream_connections_opened_total", "counter",
                "Upstream connections opened.");
    for (const auto& [backend, stat] : pools) {
      text.Sample("sluice_upstream_connections_opened_total", {{"backend", backend}}, stat.second);
    }
    std::shared_ptr<const ConfigGeneration> current;
    uint64_t accepted = 0, rejected = 0;
    {
      std::lock_guard lock(generation_mutex_);
      current = generation_;
      accepted = reloads_accepted_;
      rejected = reloads_rejected_;
    }
    text.Family("sluice_config_reloads_total", "counter", "Configuration reloads by result.");
    text.Sample("sluice_config_reloads_total", {{"result", "accepted"}}, accepted);
    text.Sample("sluice_config_reloads_total", {{"result", "rejected"}}, rejected);
    Gauge(text, "sluice_config_version", "The configuration version serving new requests.",
          static_cast<double>(current->version));
    Gauge(text, "sluice_config_last_reload_success_timestamp_seconds",
          "Unix time the serving configuration was loaded.",
          UnixSeconds(current->snapshot->loaded_at));
    if (current->routing) {
      routing::AppendRoutingMetrics(*current->routing, std::chrono::steady_clock::now(), text);
    }
  });
}

}  // namespace sluice
