// WorkerMetrics: label-set lookup, observation of a finished request, the histogram specs.
#include "observability/worker_metrics.h"

#include <functional>

namespace sluice {
namespace {

constexpr int64_t kNs = 1;
constexpr int64_t kUs = 1000 * kNs;
constexpr int64_t kMs = 1000 * kUs;
constexpr int64_t kS = 1000 * kMs;

// Bucket bounds (docs/metrics.md): latency for whole requests, the gateway's own time
// (microseconds matter), and the OpenTelemetry GenAI recommendations for TTFT, time per
// output token and token counts.
constexpr int64_t kDurationBounds[] = {5 * kMs,   10 * kMs,  25 * kMs, 50 * kMs,   100 * kMs,
                                       250 * kMs, 500 * kMs, 1 * kS,   2500 * kMs, 5 * kS,
                                       10 * kS,   30 * kS,   60 * kS,  120 * kS,   300 * kS};
constexpr int64_t kOverheadBounds[] = {10 * kUs,  25 * kUs, 50 * kUs,   100 * kUs, 250 * kUs,
                                       500 * kUs, 1 * kMs,  2500 * kUs, 5 * kMs,   10 * kMs,
                                       25 * kMs,  50 * kMs, 100 * kMs,  250 * kMs, 1 * kS};
constexpr int64_t kTtftBounds[] = {
    1 * kMs,   5 * kMs,   10 * kMs,  20 * kMs, 40 * kMs,   60 * kMs, 80 * kMs,   100 * kMs,
    250 * kMs, 500 * kMs, 750 * kMs, 1 * kS,   2500 * kMs, 5 * kS,   7500 * kMs, 10 * kS};
constexpr int64_t kTpotBounds[] = {10 * kMs,  25 * kMs,  50 * kMs,  75 * kMs,  100 * kMs,
                                   150 * kMs, 200 * kMs, 300 * kMs, 400 * kMs, 500 * kMs,
                                   750 * kMs, 1 * kS,    2500 * kMs};
constexpr int64_t kTokenBounds[] = {1,    4,     16,    64,     256,     1024,
                                    4096, 16384, 65536, 262144, 1048576, 4194304};

constexpr HistogramSpec kSpecs[kRequestHistograms] = {
    {kDurationBounds, 1e-9}, {kDurationBounds, 1e-9}, {kOverheadBounds, 1e-9}, {kTtftBounds, 1e-9},
    {kTpotBounds, 1e-9},     {kTokenBounds, 1.0},     {kTokenBounds, 1.0},
};

thread_local WorkerMetrics* current_metrics = nullptr;

size_t Mix(size_t seed, size_t value) {
  return seed ^ (value + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2));
}

}  // namespace

const HistogramSpec& RequestHistogramSpec(RequestHistogram histogram) {
  return kSpecs[static_cast<size_t>(histogram)];
}

std::string_view LimiterOutcomeName(LimiterOutcome outcome) {
  switch (outcome) {
    case LimiterOutcome::kAllowed:
      return "allowed";
    case LimiterOutcome::kRejected:
      return "rejected";
    case LimiterOutcome::kBlocked:
      return "blocked";
    case LimiterOutcome::kUnavailable:
      return "unavailable";
    case LimiterOutcome::kCount:
      break;
  }
  return "unknown";
}

std::string_view RouteLabel(RouteKind route) {
  switch (route) {
    case RouteKind::kChatCompletions:
      return "chat_completions";
    case RouteKind::kCompletions:
      return "completions";
    case RouteKind::kEmbeddings:
      return "embeddings";
    case RouteKind::kListModels:
    case RouteKind::kRetrieveModel:
      return "models";
    case RouteKind::kHealthLive:
    case RouteKind::kHealthReady:
    case RouteKind::kHealthStartup:
      return "health";
    case RouteKind::kAuthLogin:
    case RouteKind::kAuthRefresh:
    case RouteKind::kAuthLogout:
    case RouteKind::kAuthRegister:
      return "auth";
    case RouteKind::kAdmin:
      return "admin";
    case RouteKind::kOpenApi:
      return "openapi";
    case RouteKind::kUsage:
      return "usage";
    case RouteKind::kMetrics:
      return "metrics";
    case RouteKind::kNotFound:
      break;
  }
  return "not_found";
}

std::string_view StatusClass(int status) {
  switch (status / 100) {
    case 1:
    case 2:
      return "2xx";
    case 3:
      return "3xx";
    case 5:
      return "5xx";
    default:
      return "4xx";
  }
}

WorkerMetrics* CurrentWorkerMetrics() { return current_metrics; }
void SetCurrentWorkerMetrics(WorkerMetrics* metrics) { current_metrics = metrics; }

size_t WorkerMetrics::KeyHash::operator()(const KeyView& key) const {
  std::hash<std::string_view> hash;
  size_t h = static_cast<size_t>(key.route) * 8 + key.status_class;
  h = Mix(h, hash(key.model));
  h = Mix(h, hash(key.backend));
  if (!key.team.empty()) h = Mix(h, hash(key.team));
  if (!key.key.empty()) h = Mix(h, hash(key.key));
  return h;
}

size_t WorkerMetrics::KeyHash::operator()(const SeriesLabels& labels) const {
  return (*this)(KeyEqual::View(labels));
}

WorkerMetrics::KeyView WorkerMetrics::KeyEqual::View(const SeriesLabels& labels) {
  return {labels.route, labels.status_class, labels.model, labels.backend, labels.team, labels.key};
}

WorkerMetrics::WorkerMetrics(size_t max_series, size_t limiter_policies)
    : max_series_(max_series),
      limiter_policies_(limiter_policies),
      limiter_(std::make_unique<LocalCounter[]>((limiter_policies + 1) * kLimiterOutcomes)) {}

RequestSeries& WorkerMetrics::Series(const KeyView& key) {
  auto it = series_.find(key);
  if (it != series_.end()) return it->second->cells;
  // First request with this label set on this thread (or one past the cap): insert under
  // the mutex the scrape takes. Only this thread inserts, so the lookup above needs none.
  KeyView stored = key;
  if (series_.size() >= max_series_) {
    stored.model = stored.backend = "_other_";
    if (!stored.team.empty()) stored.team = "_other_";
    if (!stored.key.empty()) stored.key = "_other_";
    it = series_.find(stored);
    if (it != series_.end()) return it->second->cells;
  }
  auto entry = std::make_unique<Entry>();
  entry->labels = {stored.route,
                   stored.status_class,
                   std::string(stored.model),
                   std::string(stored.backend),
                   std::string(stored.team),
                   std::string(stored.key)};
  RequestSeries& cells = entry->cells;
  std::lock_guard lock(mutex_);
  SeriesLabels labels = entry->labels;
  series_.emplace(std::move(labels), std::move(entry));
  return cells;
}

void WorkerMetrics::Observe(const RequestSample& sample) {
  KeyView key{sample.route, static_cast<uint8_t>(StatusClass(sample.status)[0] - '0'),
              sample.model, sample.backend,
              sample.team,  sample.key};
  RequestSeries& series = Series(key);
  series.requests.Add();
  if (sample.retries > 0) series.retries.Add(sample.retries);
  if (sample.fell_back) series.fallbacks.Add();
  auto observe = [&](RequestHistogram which, int64_t value) {
    if (value >= 0) {
      series.histograms[static_cast<size_t>(which)].Observe(RequestHistogramSpec(which), value);
    }
  };
  observe(RequestHistogram::kDuration, sample.duration_ns);
  observe(RequestHistogram::kUpstream, sample.upstream_ns);
  int64_t overhead = sample.duration_ns - (sample.upstream_ns > 0 ? sample.upstream_ns : 0);
  observe(RequestHistogram::kOverhead, overhead < 0 ? 0 : overhead);
  observe(RequestHistogram::kTimeToFirstToken, sample.time_to_first_token_ns);
  observe(RequestHistogram::kTimePerOutputToken, sample.time_per_output_token_ns);
  if (sample.input_tokens >= 0) {
    series.input_tokens.Add(static_cast<uint64_t>(sample.input_tokens));
    observe(RequestHistogram::kInputTokens, sample.input_tokens);
  }
  if (sample.output_tokens >= 0) {
    series.output_tokens.Add(static_cast<uint64_t>(sample.output_tokens));
    observe(RequestHistogram::kOutputTokens, sample.output_tokens);
  }
  if (sample.cached_tokens > 0)
    series.cached_tokens.Add(static_cast<uint64_t>(sample.cached_tokens));
  if (sample.cost_micro_usd > 0)
    series.cost_micro_usd.Add(static_cast<uint64_t>(sample.cost_micro_usd));
  if (sample.error != ErrorClass::kNone) {
    errors_[static_cast<size_t>(sample.route)][static_cast<size_t>(sample.error)].Add();
  }
}

void WorkerMetrics::CountLimiter(size_t policy, LimiterOutcome outcome) {
  if (policy > limiter_policies_) return;
  limiter_[policy * kLimiterOutcomes + static_cast<size_t>(outcome)].Add();
}

}  // namespace sluice
