// Parsing of the observability and logging sections.
#include "config/observability_loader.h"

#include <charconv>

#include "config/tls_client_context.h"

namespace sluice {
namespace {

void ReadMetrics(const ConfigNode& node, MetricsConfig& out) {
  if (!node.ExpectMap()) return;
  node.AllowKeys({"enabled", "on_main_listener", "tenant_labels", "max_series"});
  out.enabled = node.Bool("enabled", out.enabled);
  out.on_main_listener = node.Bool("on_main_listener", out.on_main_listener);
  out.max_series = static_cast<uint64_t>(node.Int("max_series", 2000, 10, 1'000'000));
  for (const std::string& label : node.StringList("tenant_labels")) {
    if (label == "team") {
      out.team_label = true;
    } else if (label == "key") {
      out.key_label = true;
    } else {
      node.Child("tenant_labels").Error("unknown tenant label '" + label + "' (team or key)");
    }
  }
}

double Ratio(const ConfigNode& node, std::string_view key, double fallback) {
  ConfigNode child = node.Child(key);
  if (!child.defined()) return fallback;
  std::optional<std::string> text = child.Scalar();
  if (!text) return fallback;
  double value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < 0 || value > 1) {
    child.Error("must be a number from 0 to 1");
    return fallback;
  }
  return value;
}

void ReadTracing(const ConfigNode& node, TracingConfig& out) {
  if (!node.ExpectMap()) return;
  node.AllowKeys({"endpoint", "sample_ratio", "service_name", "headers", "max_queue_spans",
                  "max_batch_spans", "flush_interval", "timeout", "tls"});
  out.endpoint = node.String("endpoint", "");
  if (!out.endpoint.empty() && !out.endpoint.starts_with("http://") &&
      !out.endpoint.starts_with("https://")) {
    node.Child("endpoint").Error("must be an http:// or https:// URL of an OTLP/HTTP receiver");
  }
  out.sample_ratio = Ratio(node, "sample_ratio", out.sample_ratio);
  out.service_name = node.String("service_name", out.service_name);
  ConfigNode headers = node.Child("headers");
  if (headers.defined() && headers.ExpectMap()) {
    for (auto& [name, value] : headers.Entries()) {
      if (std::optional<std::string> text = value.Scalar()) out.headers.emplace_back(name, *text);
    }
  }
  out.max_queue_spans = static_cast<uint64_t>(node.Int("max_queue_spans", 8192, 1, 10'000'000));
  out.max_batch_spans = static_cast<uint64_t>(node.Int("max_batch_spans", 512, 1, 100'000));
  out.flush_interval = node.Duration("flush_interval", out.flush_interval);
  out.timeout = node.Duration("timeout", out.timeout);
  ConfigNode tls = node.Child("tls");
  if (tls.defined() && tls.ExpectMap()) {
    tls.AllowKeys({"verify", "ca_file"});
    out.tls_verify = tls.Bool("verify", true);
    out.tls_ca_file = tls.String("ca_file", "");
  }
  if (out.endpoint.starts_with("https://")) {
    out.tls_context = MakeTlsClientContext(tls, out.tls_verify, out.tls_ca_file);
  } else if (tls.defined()) {
    tls.Error("applies to an https:// endpoint only");
  }
}

}  // namespace

void ReadObservability(const ConfigNode& node, ObservabilityConfig& out) {
  if (!node.ExpectMap()) return;
  node.AllowKeys({"metrics", "overhead_headers", "tracing", "probes"});
  ReadMetrics(node.Child("metrics"), out.metrics);
  out.overhead_headers = node.Bool("overhead_headers", out.overhead_headers);
  ReadTracing(node.Child("tracing"), out.tracing);
  ConfigNode probes = node.Child("probes");
  if (probes.ExpectMap()) {
    probes.AllowKeys({"required_models"});
    out.required_models = probes.StringList("required_models");
  }
}

void ReadRotate(const ConfigNode& node, RotateConfig& out) {
  if (!node.ExpectMap()) return;
  node.AllowKeys({"max_size", "max_age", "keep"});
  out.max_bytes = node.Size("max_size", out.max_bytes);
  out.max_age = std::chrono::duration_cast<std::chrono::seconds>(
      node.Duration("max_age", std::chrono::milliseconds(out.max_age)));
  out.keep = static_cast<int>(node.Int("keep", out.keep, 1, 1000));
}

void ReadLogging(const ConfigNode& node, LoggingConfig& out) {
  if (!node.ExpectMap()) return;
  node.AllowKeys({"level", "format", "output", "rotate"});
  out.level = node.String("level", out.level);
  if (out.level != "trace" && out.level != "debug" && out.level != "info" && out.level != "warn" &&
      out.level != "error" && out.level != "off") {
    node.Child("level").Error("must be one of trace, debug, info, warn, error, off");
  }
  out.format = node.String("format", out.format);
  if (out.format != "text" && out.format != "json") {
    node.Child("format").Error("must be text or json");
  }
  out.output = node.String("output", out.output);
  ReadRotate(node.Child("rotate"), out.rotate);
}

}  // namespace sluice
