// Tests of the per-thread metric cells and their scrape: two workers written from two threads
// sum exactly (with scrapes running meanwhile), label sets past max_series count under
// model="_other_", tenant labels appear only when configured, histogram buckets are
// inclusive at their bounds (`le`), limiter decisions are named by policy and outcome, and
// errors are counted by route and class (auth failures also by reason). Every scrape is
// checked against the text format by tests/testing/prometheus_scrape.
#include "observability/metrics_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/prometheus_scrape.h"

namespace sluice {
namespace {

using testing::PrometheusScrape;
using testing::PromLabels;

constexpr int64_t kMs = 1'000'000;  // nanoseconds

RequestSample Chat(std::string_view model, int status = 200) {
  RequestSample sample;
  sample.route = RouteKind::kChatCompletions;
  sample.model = model;
  sample.backend = "up";
  sample.status = status;
  sample.duration_ns = 3 * kMs;
  sample.upstream_ns = 2 * kMs;
  sample.input_tokens = 11;
  sample.output_tokens = 5;
  sample.cost_micro_usd = 7;
  return sample;
}

PrometheusScrape Scrape(const MetricsRegistry& registry) {
  PrometheusScrape scrape = PrometheusScrape::Parse(registry.Scrape());
  for (const std::string& error : scrape.errors()) ADD_FAILURE() << error;
  return scrape;
}

double Requests(const PrometheusScrape& scrape, const std::string& model,
                const std::string& status_class = "2xx") {
  return scrape
      .Value("sluice_requests_total", {{"route", "chat_completions"},
                                       {"model", model},
                                       {"backend", "up"},
                                       {"status_class", status_class}})
      .value_or(-1);
}

TEST(MetricsRegistry, TwoWorkersWrittenFromTwoThreadsSumExactly) {
  MetricsRegistry registry({});
  WorkerMetrics& first = registry.AddWorker();
  WorkerMetrics& second = registry.AddWorker();
  constexpr int kPerThread = 20'000;
  std::atomic<bool> done{false};
  // Scrapes run while the workers write: counts only grow and every scrape is well formed.
  std::thread scraper([&] {
    double last = 0;
    while (!done.load()) {
      PrometheusScrape scrape = Scrape(registry);
      double now = scrape.Sum("sluice_requests_total");
      EXPECT_GE(now, last);
      last = now;
    }
  });
  auto fill = [](WorkerMetrics& metrics, std::string_view model) {
    metrics.in_flight.Add(1);
    for (int i = 0; i < kPerThread; ++i) metrics.Observe(Chat(i % 2 == 0 ? "m" : model));
    metrics.streams_open.Add(2);
  };
  std::thread a(fill, std::ref(first), "a");
  std::thread b(fill, std::ref(second), "b");
  a.join();
  b.join();
  done = true;
  scraper.join();

  PrometheusScrape scrape = Scrape(registry);
  EXPECT_EQ(Requests(scrape, "m"), kPerThread);  // half of each thread's, summed
  EXPECT_EQ(Requests(scrape, "a"), kPerThread / 2);
  EXPECT_EQ(Requests(scrape, "b"), kPerThread / 2);
  EXPECT_EQ(scrape.Value("sluice_tokens_total", {{"model", "m"}, {"type", "input"}}),
            11.0 * kPerThread);
  EXPECT_EQ(scrape.Value("sluice_tokens_total", {{"model", "m"}, {"type", "output"}}),
            5.0 * kPerThread);
  EXPECT_NEAR(scrape.Value("sluice_cost_usd_total", {{"model", "m"}}).value_or(-1),
              7e-6 * kPerThread, 1e-9);
  testing::PromHistogram duration = scrape.Histogram(
      "sluice_request_duration_seconds", {{"route", "chat_completions"}, {"model", "m"}});
  ASSERT_TRUE(duration.found);
  EXPECT_EQ(duration.count, kPerThread);
  EXPECT_NEAR(duration.sum, 0.003 * kPerThread, 1e-6);
  EXPECT_EQ(scrape.Value("sluice_requests_in_flight"), 2.0);
  EXPECT_EQ(scrape.Value("sluice_streams_open"), 4.0);
  EXPECT_EQ(scrape.Type("sluice_requests_total"), "counter");
  EXPECT_EQ(scrape.Type("sluice_request_duration_seconds"), "histogram");
  EXPECT_EQ(scrape.Type("sluice_requests_in_flight"), "gauge");
}

TEST(MetricsRegistry, LabelSetsPastMaxSeriesCountUnderOther) {
  MetricsOptions options;
  options.max_series = 2;
  MetricsRegistry registry(options);
  WorkerMetrics& worker = registry.AddWorker();
  for (std::string_view model : {"a", "b", "c", "d", "c"}) worker.Observe(Chat(model));
  worker.Observe(Chat("a"));  // an existing label set is still its own

  PrometheusScrape scrape = Scrape(registry);
  EXPECT_EQ(Requests(scrape, "a"), 2);
  EXPECT_EQ(Requests(scrape, "b"), 1);
  EXPECT_EQ(scrape.Value("sluice_requests_total", {{"route", "chat_completions"},
                                                   {"model", "_other_"},
                                                   {"backend", "_other_"},
                                                   {"status_class", "2xx"}}),
            3.0);
  EXPECT_TRUE(scrape.Matching("sluice_requests_total", {{"model", "c"}}).empty());
  EXPECT_TRUE(scrape.Matching("sluice_tokens_total", {{"model", "d"}}).empty());
  EXPECT_EQ(scrape.Value("sluice_tokens_total", {{"model", "_other_"}, {"type", "input"}}), 33.0);
  EXPECT_EQ(scrape.Sum("sluice_requests_total"), 6.0) << "nothing is lost";
}

TEST(MetricsRegistry, TenantLabelsAppearOnlyWhenEnabled) {
  RequestSample sample = Chat("m");
  sample.team = "team-1";
  sample.key = "key-1";
  {
    MetricsRegistry registry({});
    registry.AddWorker().Observe(sample);
    PrometheusScrape scrape = Scrape(registry);
    EXPECT_EQ(scrape.Value("sluice_tokens_total", {{"model", "m"}, {"type", "input"}}), 11.0);
    EXPECT_EQ(scrape.Value("sluice_cost_usd_total", {{"model", "m"}}), 7e-6);
    for (const auto& s : scrape.samples()) {
      EXPECT_EQ(s.labels.count("team"), 0u) << s.name;
      EXPECT_EQ(s.labels.count("key"), 0u) << s.name;
    }
  }
  {
    MetricsOptions options;
    options.key_label = true;
    MetricsRegistry registry(options);
    registry.AddWorker().Observe(sample);
    PrometheusScrape scrape = Scrape(registry);
    EXPECT_EQ(
        scrape.Value("sluice_tokens_total", {{"model", "m"}, {"type", "output"}, {"key", "key-1"}}),
        5.0);
    EXPECT_EQ(scrape.Value("sluice_cost_usd_total", {{"model", "m"}, {"key", "key-1"}}), 7e-6);
    EXPECT_TRUE(scrape.Matching("sluice_tokens_total", {{"team", "team-1"}}).empty());
  }
  {
    MetricsOptions options;
    options.team_label = options.key_label = true;
    MetricsRegistry registry(options);
    registry.AddWorker().Observe(sample);
    PrometheusScrape scrape = Scrape(registry);
    EXPECT_EQ(
        scrape.Value("sluice_tokens_total",
                     {{"model", "m"}, {"type", "input"}, {"team", "team-1"}, {"key", "key-1"}}),
        11.0);
    // Only the token and cost families are split by tenant.
    for (const auto& s : scrape.Matching("sluice_requests_total")) {
      EXPECT_EQ(s->labels.count("team") + s->labels.count("key"), 0u);
    }
    EXPECT_EQ(Requests(scrape, "m"), 1);
  }
}

TEST(MetricsRegistry, ABucketsBoundIsInclusive) {
  // The cell alone: a value equal to a bound lands in that bound's bucket.
  constexpr int64_t kBounds[] = {1, 4, 16};
  HistogramSpec spec{kBounds, 1.0};
  HistogramCell cell;
  for (int64_t value : {0, 1, 2, 4, 5, 16, 17}) cell.Observe(spec, value);
  EXPECT_EQ(cell.bucket(0), 2u);  // 0, 1
  EXPECT_EQ(cell.bucket(1), 2u);  // 2, 4
  EXPECT_EQ(cell.bucket(2), 2u);  // 5, 16
  EXPECT_EQ(cell.bucket(3), 1u);  // 17: +Inf
  EXPECT_EQ(cell.sum(), 45u);

  // Through the scrape, in seconds and tokens.
  MetricsRegistry registry({});
  WorkerMetrics& worker = registry.AddWorker();
  RequestSample at_bound = Chat("m");
  at_bound.duration_ns = 5 * kMs;           // exactly le="0.005"
  at_bound.upstream_ns = 5 * kMs - 10'000;  // overhead exactly 10 µs: le="1e-05"
  at_bound.input_tokens = 4;
  worker.Observe(at_bound);
  RequestSample above = Chat("m");
  above.duration_ns = 5 * kMs + 1;
  above.upstream_ns = 5 * kMs + 1 - 10'001;
  above.input_tokens = 5;
  worker.Observe(above);

  PrometheusScrape scrape = Scrape(registry);
  PromLabels labels{{"route", "chat_completions"}, {"model", "m"}};
  auto bucket = [&](const std::string& family, PromLabels series, const std::string& le) {
    series["le"] = le;
    return scrape.Value(family + "_bucket", series).value_or(-1);
  };
  EXPECT_EQ(bucket("sluice_request_duration_seconds", labels, "0.005"), 1);
  EXPECT_EQ(bucket("sluice_request_duration_seconds", labels, "0.01"), 2);
  EXPECT_EQ(bucket("sluice_gateway_overhead_seconds", labels, "1e-05"), 1);
  EXPECT_EQ(bucket("sluice_gateway_overhead_seconds", labels, "2.5e-05"), 2);
  PromLabels input{{"model", "m"}, {"gen_ai_token_type", "input"}};
  EXPECT_EQ(bucket("sluice_gen_ai_client_token_usage", input, "1"), 0);
  EXPECT_EQ(bucket("sluice_gen_ai_client_token_usage", input, "4"), 1);
  EXPECT_EQ(bucket("sluice_gen_ai_client_token_usage", input, "16"), 2);
  // Buckets are cumulative, end in +Inf == _count.
  testing::PromHistogram duration = scrape.Histogram("sluice_request_duration_seconds", labels);
  ASSERT_EQ(duration.buckets.size(), 16u);  // 15 bounds + Inf
  for (size_t i = 1; i < duration.buckets.size(); ++i) {
    EXPECT_LT(duration.buckets[i - 1].first, duration.buckets[i].first);
    EXPECT_LE(duration.buckets[i - 1].second, duration.buckets[i].second);
  }
  EXPECT_TRUE(std::isinf(duration.buckets.back().first));
  EXPECT_EQ(duration.buckets.back().second, duration.count);
  EXPECT_EQ(duration.count, 2);
  EXPECT_NEAR(duration.sum, 0.010000001, 1e-12);
}

// The bounds are written as the decimals docs/metrics.md lists (a bound computed as
// 30e9 * 1e-9 would read "30.000000000000004" and no `le="30"` query would find it), and
// money as micro-dollars divided exactly (5 µ$ is "5e-06", not "4.9999999999999996e-06").
TEST(MetricsRegistry, BucketBoundsAndCostReadAsTheirDecimals) {
  MetricsRegistry registry({});
  RequestSample sample = Chat("m");
  sample.time_to_first_token_ns = kMs;
  sample.time_per_output_token_ns = kMs;
  sample.cost_micro_usd = 5;
  registry.AddWorker().Observe(sample);
  std::string text = registry.Scrape();
  PrometheusScrape scrape = Scrape(registry);
  auto bounds = [&](const std::string& family, const PromLabels& labels) {
    std::string joined;
    for (const auto* s : scrape.Matching(family + "_bucket", labels)) {
      joined += (joined.empty() ? "" : " ") + s->labels.at("le");
    }
    return joined;
  };
  PromLabels route{{"route", "chat_completions"}, {"model", "m"}};
  EXPECT_EQ(bounds("sluice_request_duration_seconds", route),
            "0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 30 60 120 300 +Inf");
  EXPECT_EQ(bounds("sluice_upstream_duration_seconds", {{"model", "m"}, {"backend", "up"}}),
            "0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 30 60 120 300 +Inf");
  EXPECT_EQ(bounds("sluice_gateway_overhead_seconds", route),
            "1e-05 2.5e-05 5e-05 0.0001 0.00025 0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 "
            "0.25 1 +Inf");
  EXPECT_EQ(bounds("sluice_gen_ai_server_time_to_first_token_seconds", {{"model", "m"}}),
            "0.001 0.005 0.01 0.02 0.04 0.06 0.08 0.1 0.25 0.5 0.75 1 2.5 5 7.5 10 +Inf");
  EXPECT_EQ(bounds("sluice_gen_ai_server_time_per_output_token_seconds", {{"model", "m"}}),
            "0.01 0.025 0.05 0.075 0.1 0.15 0.2 0.3 0.4 0.5 0.75 1 2.5 +Inf");
  EXPECT_EQ(
      bounds("sluice_gen_ai_client_token_usage", {{"model", "m"}, {"gen_ai_token_type", "output"}}),
      "1 4 16 64 256 1024 4096 16384 65536 262144 1048576 4194304 +Inf");
  EXPECT_NE(text.find("sluice_cost_usd_total{model=\"m\"} 5e-06\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_request_duration_seconds_sum{route=\"chat_completions\","
                      "model=\"m\"} 0.003\n"),
            std::string::npos)
      << text;
}

TEST(MetricsRegistry, LimiterDecisionsAreNamedByPolicyAndOutcome) {
  EXPECT_EQ(LimiterOutcomeName(LimiterOutcome::kAllowed), "allowed");
  EXPECT_EQ(LimiterOutcomeName(LimiterOutcome::kRejected), "rejected");
  EXPECT_EQ(LimiterOutcomeName(LimiterOutcome::kBlocked), "blocked");
  EXPECT_EQ(LimiterOutcomeName(LimiterOutcome::kUnavailable), "unavailable");

  MetricsOptions options;
  options.limiter_policies = {"per-ip", "tpm"};
  MetricsRegistry registry(options);
  WorkerMetrics& worker = registry.AddWorker();
  ASSERT_EQ(worker.limiter_policies(), 2u);
  for (int i = 0; i < 3; ++i) worker.CountLimiter(0, LimiterOutcome::kAllowed);
  worker.CountLimiter(1, LimiterOutcome::kRejected);
  worker.CountLimiter(0, LimiterOutcome::kUnavailable);
  worker.CountLimiter(worker.limiter_policies(), LimiterOutcome::kBlocked);  // repeat offenders
  worker.CountLimiter(7, LimiterOutcome::kAllowed);                          // no such policy
  registry.AddWorker().CountLimiter(0, LimiterOutcome::kAllowed);

  PrometheusScrape scrape = Scrape(registry);
  auto decisions = [&](const std::string& policy, const std::string& outcome) {
    return scrape
        .Value("sluice_limiter_decisions_total", {{"policy", policy}, {"outcome", outcome}})
        .value_or(0);
  };
  EXPECT_EQ(decisions("per-ip", "allowed"), 4);
  EXPECT_EQ(decisions("tpm", "rejected"), 1);
  EXPECT_EQ(decisions("per-ip", "unavailable"), 1);
  EXPECT_EQ(decisions("repeat_offenders", "blocked"), 1);
  EXPECT_EQ(scrape.Sum("sluice_limiter_decisions_total"), 7) << "the unknown policy is dropped";
}

TEST(MetricsRegistry, ErrorsAreCountedByRouteAndClassAndAuthFailuresByReason) {
  MetricsRegistry registry({});
  WorkerMetrics& worker = registry.AddWorker();
  RequestSample unknown = Chat("unknown", 404);
  unknown.backend = "";
  unknown.error = ErrorClass::kModelNotFound;
  worker.Observe(unknown);
  RequestSample missing = Chat("", 401);
  missing.backend = "";
  missing.error = ErrorClass::kAuthMissing;
  worker.Observe(missing);
  worker.Observe(missing);
  RequestSample timeout = Chat("e", 504);
  timeout.route = RouteKind::kEmbeddings;
  timeout.error = ErrorClass::kUpstreamTimeout;
  worker.Observe(timeout);
  RequestSample gone = Chat("m", 0);  // nothing sent: the client left
  gone.error = ErrorClass::kClientClosed;
  worker.Observe(gone);
  RequestSample no_route;
  no_route.status = 404;
  no_route.error = ErrorClass::kRouteNotFound;
  worker.Observe(no_route);

  PrometheusScrape scrape = Scrape(registry);
  auto errors = [&](const std::string& route, const std::string& error) {
    return scrape.Value("sluice_request_errors_total", {{"route", route}, {"error", error}})
        .value_or(0);
  };
  EXPECT_EQ(errors("chat_completions", "model_not_found"), 1);
  EXPECT_EQ(errors("chat_completions", "auth_missing"), 2);
  EXPECT_EQ(errors("embeddings", "upstream_timeout"), 1);
  EXPECT_EQ(errors("chat_completions", "client_closed"), 1);
  EXPECT_EQ(errors("not_found", "route_not_found"), 1);
  EXPECT_EQ(scrape.Sum("sluice_request_errors_total"), 6);
  EXPECT_EQ(scrape.Value("sluice_auth_failures_total", {{"reason", "auth_missing"}}), 2.0);
  EXPECT_EQ(scrape.Sum("sluice_auth_failures_total"), 2) << "only credential failures";
  EXPECT_EQ(scrape.Value("sluice_requests_total", {{"route", "chat_completions"},
                                                   {"model", "unknown"},
                                                   {"backend", ""},
                                                   {"status_class", "4xx"}}),
            1.0);
  EXPECT_EQ(Requests(scrape, "m", "4xx"), 1) << "status 0 counts as 4xx";
  EXPECT_EQ(
      scrape.Value(
          "sluice_requests_total",
          {{"route", "embeddings"}, {"model", "e"}, {"backend", "up"}, {"status_class", "5xx"}}),
      1.0);
  // No model: no token or cost series.
  EXPECT_TRUE(scrape.Matching("sluice_tokens_total", {{"model", ""}}).empty());
}

TEST(MetricsLabels, RoutesAndStatusClasses) {
  EXPECT_EQ(RouteLabel(RouteKind::kChatCompletions), "chat_completions");
  EXPECT_EQ(RouteLabel(RouteKind::kRetrieveModel), "models");
  EXPECT_EQ(RouteLabel(RouteKind::kHealthStartup), "health");
  EXPECT_EQ(RouteLabel(RouteKind::kMetrics), "metrics");
  EXPECT_EQ(RouteLabel(RouteKind::kNotFound), "not_found");
  EXPECT_EQ(StatusClass(200), "2xx");
  EXPECT_EQ(StatusClass(304), "3xx");
  EXPECT_EQ(StatusClass(429), "4xx");
  EXPECT_EQ(StatusClass(499), "4xx");
  EXPECT_EQ(StatusClass(0), "4xx");
  EXPECT_EQ(StatusClass(503), "5xx");
}

}  // namespace
}  // namespace sluice
