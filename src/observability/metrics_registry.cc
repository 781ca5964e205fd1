// MetricsRegistry: the scrape. Per-thread label sets are projected onto each family's
// labels and summed (std::map keeps the output stable, which makes scrapes diffable).
#include "observability/metrics_registry.h"

#include <array>
#include <cmath>
#include <map>

namespace sluice {
namespace {

using LabelValues = std::vector<std::string>;

struct Sum {
  uint64_t value = 0;
  std::array<uint64_t, kMaxHistogramBuckets> buckets{};
  uint64_t histogram_sum = 0;
  uint64_t count = 0;
};
using Family = std::map<LabelValues, Sum>;

std::vector<MetricLabel> Labels(const std::vector<std::string_view>& names,
                                const LabelValues& values) {
  std::vector<MetricLabel> labels;
  labels.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) labels.push_back({names[i], values[i]});
  return labels;
}

// `value` (integer units) in the metric's base unit. Divided by the exact units-per-base
// (1e9, 1e6) rather than multiplied by the inexact scale (1e-9): 30 s must read "30", not
// "30.000000000000004", and 5 micro-dollars "5e-06".
double InBaseUnit(double value, double scale) {
  return scale == 1.0 ? value : value / std::round(1.0 / scale);
}

void AddHistogram(Sum& sum, const HistogramCell& cell, const HistogramSpec& spec) {
  for (size_t i = 0; i <= spec.bounds.size(); ++i) {
    uint64_t n = cell.bucket(i);
    sum.buckets[i] += n;
    sum.count += n;
  }
  sum.histogram_sum += cell.sum();
}

void WriteCounters(PrometheusText& out, std::string_view name, std::string_view help,
                   const std::vector<std::string_view>& names, const Family& family,
                   double scale = 1.0) {
  out.Family(name, "counter", help);
  for (const auto& [values, sum] : family) {
    std::vector<MetricLabel> labels = Labels(names, values);
    if (scale == 1.0) {
      out.Sample(name, labels, sum.value);
    } else {
      out.Sample(name, labels, InBaseUnit(static_cast<double>(sum.value), scale));
    }
  }
}

void WriteHistograms(PrometheusText& out, std::string_view name, std::string_view help,
                     const std::vector<std::string_view>& names, const Family& family,
                     RequestHistogram which) {
  const HistogramSpec& spec = RequestHistogramSpec(which);
  std::vector<double> bounds;
  for (int64_t bound : spec.bounds) {
    bounds.push_back(InBaseUnit(static_cast<double>(bound), spec.scale));
  }
  out.Family(name, "histogram", help);
  for (const auto& [values, sum] : family) {
    if (sum.count == 0) continue;
    std::vector<MetricLabel> labels = Labels(names, values);
    out.Histogram(name, labels, bounds,
                  std::span<const uint64_t>(sum.buckets.data(), bounds.size() + 1),
                  InBaseUnit(static_cast<double>(sum.histogram_sum), spec.scale));
  }
}

bool IsAuthFailure(ErrorClass error) {
  switch (error) {
    case ErrorClass::kAuthMissing:
    case ErrorClass::kAuthInvalid:
    case ErrorClass::kAuthExpired:
    case ErrorClass::kAuthRevoked:
    case ErrorClass::kAccountDisabled:
    case ErrorClass::kPermissionDenied:
    case ErrorClass::kModelNotAllowed:
      return true;
    default:
      return false;
  }
}

}  // namespace

MetricsRegistry::MetricsRegistry(MetricsOptions options) : options_(std::move(options)) {}

WorkerMetrics& MetricsRegistry::AddWorker() {
  std::lock_guard lock(mutex_);
  workers_.push_back(
      std::make_unique<WorkerMetrics>(options_.max_series, options_.limiter_policies.size()));
  return *workers_.back();
}

uint64_t MetricsRegistry::AddCollector(Collector collector) {
  std::lock_guard lock(mutex_);
  uint64_t id = next_collector_++;
  collectors_.emplace_back(id, std::move(collector));
  return id;
}

void MetricsRegistry::RemoveCollector(uint64_t id) {
  std::lock_guard lock(mutex_);
  std::erase_if(collectors_, [id](const auto& entry) { return entry.first == id; });
}

std::string MetricsRegistry::Scrape() const {
  PrometheusText out;
  AppendRequestFamilies(out);
  std::lock_guard lock(mutex_);
  for (const auto& [id, collector] : collectors_) collector(out);
  return out.Take();
}

void MetricsRegistry::AppendRequestFamilies(PrometheusText& out) const {
  Family requests, duration, upstream, overhead, ttft, tpot, token_usage, tokens, cost, retries,
      fallbacks, errors, auth_failures, limiter;
  int64_t in_flight = 0, streams = 0, connections = 0;
  std::vector<std::string_view> tenant_names;
  if (options_.team_label) tenant_names.push_back("team");
  if (options_.key_label) tenant_names.push_back("key");

  std::lock_guard lock(mutex_);
  for (const auto& worker : workers_) {
    in_flight += worker->in_flight.Get();
    streams += worker->streams_open.Get();
    connections += worker->connections_open.Get();
    worker->ForEachSeries([&](const SeriesLabels& l, const RequestSeries& s) {
      std::string route(RouteLabel(l.route));
      std::string status_class = std::to_string(l.status_class) + "xx";
      requests[{route, l.model, l.backend, status_class}].value += s.requests.Get();
      auto hist = [&](RequestHistogram which) -> const HistogramCell& {
        return s.histograms[static_cast<size_t>(which)];
      };
      AddHistogram(duration[{route, l.model}], hist(RequestHistogram::kDuration),
                   RequestHistogramSpec(RequestHistogram::kDuration));
      AddHistogram(upstream[{l.model, l.backend}], hist(RequestHistogram::kUpstream),
                   RequestHistogramSpec(RequestHistogram::kUpstream));
      AddHistogram(overhead[{route, l.model}], hist(RequestHistogram::kOverhead),
                   RequestHistogramSpec(RequestHistogram::kOverhead));
      AddHistogram(ttft[{l.model}], hist(RequestHistogram::kTimeToFirstToken),
                   RequestHistogramSpec(RequestHistogram::kTimeToFirstToken));
      AddHistogram(tpot[{l.model}], hist(RequestHistogram::kTimePerOutputToken),
                   RequestHistogramSpec(RequestHistogram::kTimePerOutputToken));
      AddHistogram(token_usage[{l.model, "input"}], hist(RequestHistogram::kInputTokens),
                   RequestHistogramSpec(RequestHistogram::kInputTokens));
      AddHistogram(token_usage[{l.model, "output"}], hist(RequestHistogram::kOutputTokens),
                   RequestHistogramSpec(RequestHistogram::kOutputTokens));
      if (l.model.empty()) return;  // no model: nothing below applies
      auto tenant = [&](LabelValues values) {
        if (options_.team_label) values.push_back(l.team);
        if (options_.key_label) values.push_back(l.key);
        return values;
      };
      tokens[tenant({l.model, "input"})].value += s.input_tokens.Get();
      tokens[tenant({l.model, "output"})].value += s.output_tokens.Get();
      tokens[tenant({l.model, "cached_input"})].value += s.cached_tokens.Get();
      cost[tenant({l.model})].value += s.cost_micro_usd.Get();
      retries[{l.model}].value += s.retries.Get();
      fallbacks[{l.model}].value += s.fallbacks.Get();
    });
    for (size_t r = 0; r < kRouteKindCount; ++r) {
      for (size_t e = 1; e < kErrorClasses; ++e) {
        auto route = static_cast<RouteKind>(r);
        auto error = static_cast<ErrorClass>(e);
        uint64_t n = worker->errors(route, error);
        if (n == 0) continue;
        std::string name(Describe(error).name);
        errors[{std::string(RouteLabel(route)), name}].value += n;
        if (IsAuthFailure(error)) auth_failures[{name}].value += n;
      }
    }
    for (size_t p = 0; p <= worker->limiter_policies(); ++p) {
      std::string policy =
          p < options_.limiter_policies.size() ? options_.limiter_policies[p] : "repeat_offenders";
      for (size_t o = 0; o < kLimiterOutcomes; ++o) {
        auto outcome = static_cast<LimiterOutcome>(o);
        uint64_t n = worker->limiter(p, outcome);
        if (n > 0) limiter[{policy, std::string(LimiterOutcomeName(outcome))}].value += n;
      }
    }
  }

  WriteCounters(out, "sluice_requests_total", "Requests finished.",
                {"route", "model", "backend", "status_class"}, requests);
  WriteCounters(out, "sluice_request_errors_total", "Requests that ended in an error, by class.",
                {"route", "error"}, errors);
  WriteHistograms(out, "sluice_request_duration_seconds",
                  "Request start to the last byte written to the client.", {"route", "model"},
                  duration, RequestHistogram::kDuration);
  WriteHistograms(out, "sluice_upstream_duration_seconds",
                  "First upstream write to the last upstream byte, all attempts.",
                  {"model", "backend"}, upstream, RequestHistogram::kUpstream);
  WriteHistograms(out, "sluice_gateway_overhead_seconds",
                  "The gateway's own time: request duration minus upstream duration.",
                  {"route", "model"}, overhead, RequestHistogram::kOverhead);
  WriteHistograms(
      out, "sluice_gen_ai_server_time_to_first_token_seconds",
      "Streams: request start to the first event sent (gen_ai.server.time_to_first_token).",
      {"model"}, ttft, RequestHistogram::kTimeToFirstToken);
  WriteHistograms(out, "sluice_gen_ai_server_time_per_output_token_seconds",
                  "Streams: time per output token after the first "
                  "(gen_ai.server.time_per_output_token).",
                  {"model"}, tpot, RequestHistogram::kTimePerOutputToken);
  WriteHistograms(out, "sluice_gen_ai_client_token_usage",
                  "Tokens per request by type (gen_ai.client.token.usage).",
                  {"model", "gen_ai_token_type"}, token_usage, RequestHistogram::kInputTokens);
  std::vector<std::string_view> token_names{"model", "type"};
  token_names.insert(token_names.end(), tenant_names.begin(), tenant_names.end());
  WriteCounters(out, "sluice_tokens_total",
                "Tokens by model and type (input, output, cached_input).", token_names, tokens);
  std::vector<std::string_view> cost_names{"model"};
  cost_names.insert(cost_names.end(), tenant_names.begin(), tenant_names.end());
  WriteCounters(out, "sluice_cost_usd_total", "Money charged for model usage, in US dollars.",
                cost_names, cost, 1e-6);
  WriteCounters(out, "sluice_upstream_retries_total", "Upstream attempts after the first.",
                {"model"}, retries);
  WriteCounters(out, "sluice_fallbacks_total", "Requests that moved to a fallback model group.",
                {"model"}, fallbacks);
  WriteCounters(out, "sluice_limiter_decisions_total",
                "Rate-limit decisions by policy and outcome.", {"policy", "outcome"}, limiter);
  WriteCounters(out, "sluice_auth_failures_total", "Rejected credentials and access, by reason.",
                {"reason"}, auth_failures);
  out.Family("sluice_requests_in_flight", "gauge", "Requests being processed.");
  out.Sample("sluice_requests_in_flight", {}, static_cast<double>(in_flight));
  out.Family("sluice_streams_open", "gauge", "SSE streams being relayed.");
  out.Sample("sluice_streams_open", {}, static_cast<double>(streams));
  out.Family("sluice_client_connections_open", "gauge", "Client connections open.");
  out.Sample("sluice_client_connections_open", {}, static_cast<double>(connections));
}

}  // namespace sluice
