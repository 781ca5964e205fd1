// Tests of the Prometheus text writer against the exposition format 0.0.4: HELP/TYPE lines,
// label value escaping, number spelling (integers, fractions, exponents, +Inf, NaN) and
// histogram expansion (cumulative buckets ending in +Inf, then _sum and _count).
#include "observability/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace sluice {
namespace {

std::string Number(double value) {
  std::string out;
  AppendPrometheusNumber(out, value);
  return out;
}

TEST(PrometheusNumber, SpellsNumbersTheWayPrometheusReadsThem) {
  struct Case {
    double value;
    const char* text;
  };
  const Case cases[] = {
      {0, "0"},
      {42, "42"},
      {-7, "-7"},
      {1234567, "1234567"},
      {0.1, "0.1"},
      {0.25, "0.25"},
      {1e-05, "1e-05"},
      {2.5e-05, "2.5e-05"},
      {0.005, "0.005"},
      {1e21, "1e+21"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (const Case& c : cases) EXPECT_EQ(Number(c.value), c.text) << c.text;
  // Round trip: the shortest spelling reads back as the same double.
  for (double value : {0.1 + 0.2, 1.0 / 3, 123.456e-7, 9007199254740993.0}) {
    EXPECT_EQ(std::stod(Number(value)), value) << Number(value);
  }
}

TEST(PrometheusText, FamilyWritesHelpAndTypeWithHelpEscaped) {
  PrometheusText out;
  out.Family("sluice_x_total", "counter", "Back\\slash and\nnewline \"kept\".");
  EXPECT_EQ(out.text(),
            "# HELP sluice_x_total Back\\\\slash and\\nnewline \"kept\".\n"
            "# TYPE sluice_x_total counter\n");
}

TEST(PrometheusText, SamplesWithoutLabelsHaveNoBraces) {
  PrometheusText out;
  out.Sample("sluice_streams_open", {}, uint64_t{3});
  out.Sample("sluice_config_version", {}, 2.0);
  out.Sample("sluice_big_total", {}, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(out.text(),
            "sluice_streams_open 3\n"
            "sluice_config_version 2\n"
            "sluice_big_total 18446744073709551615\n");
}

TEST(PrometheusText, LabelValuesAreEscaped) {
  PrometheusText out;
  out.Sample("m", {{"route", "chat_completions"}, {"model", "a\\b\"c\nd"}}, 1.5);
  EXPECT_EQ(out.text(), "m{route=\"chat_completions\",model=\"a\\\\b\\\"c\\nd\"} 1.5\n");
}

TEST(PrometheusText, EmptyAndUnicodeLabelValuesPassThrough) {
  PrometheusText out;
  out.Sample("m", {{"backend", ""}, {"team", "équipe ☃"}}, uint64_t{0});
  EXPECT_EQ(out.text(), "m{backend=\"\",team=\"équipe ☃\"} 0\n");
}

TEST(PrometheusText, SpanSamplesMatchInitializerListSamples) {
  std::vector<MetricLabel> labels{{"a", "1"}, {"b", "2"}};
  PrometheusText from_span;
  from_span.Sample("m", std::span<const MetricLabel>(labels), 7.0);
  PrometheusText from_list;
  from_list.Sample("m", {{"a", "1"}, {"b", "2"}}, 7.0);
  EXPECT_EQ(from_span.text(), from_list.text());
  EXPECT_EQ(from_span.text(), "m{a=\"1\",b=\"2\"} 7\n");
}

TEST(PrometheusText, NonFiniteSampleValues) {
  PrometheusText out;
  out.Sample("g", {}, std::numeric_limits<double>::infinity());
  out.Sample("g", {}, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(out.text(), "g +Inf\ng NaN\n");
}

TEST(PrometheusText, HistogramBucketsAreCumulativeAndEndInInf) {
  PrometheusText out;
  const double bounds[] = {0.00001, 0.1, 1};
  const uint64_t counts[] = {2, 0, 3, 1};  // per bucket alone; the last is above 1
  const MetricLabel labels[] = {{"route", "chat_completions"}, {"model", "gpt-4o"}};
  out.Histogram("sluice_request_duration_seconds", labels, bounds, counts, 4.25);
  const std::string prefix = "sluice_request_duration_seconds";
  const std::string l = "route=\"chat_completions\",model=\"gpt-4o\"";
  EXPECT_EQ(out.text(), prefix + "_bucket{" + l + ",le=\"1e-05\"} 2\n" +     //
                            prefix + "_bucket{" + l + ",le=\"0.1\"} 2\n" +   //
                            prefix + "_bucket{" + l + ",le=\"1\"} 5\n" +     //
                            prefix + "_bucket{" + l + ",le=\"+Inf\"} 6\n" +  //
                            prefix + "_sum{" + l + "} 4.25\n" +              //
                            prefix + "_count{" + l + "} 6\n");
}

TEST(PrometheusText, HistogramWithoutLabelsHasOnlyLe) {
  PrometheusText out;
  const double bounds[] = {1, 4};
  const uint64_t counts[] = {0, 0, 0};
  out.Histogram("h", {}, bounds, counts, 0);
  EXPECT_EQ(out.text(),
            "h_bucket{le=\"1\"} 0\n"
            "h_bucket{le=\"4\"} 0\n"
            "h_bucket{le=\"+Inf\"} 0\n"
            "h_sum 0\n"
            "h_count 0\n");
}

TEST(PrometheusText, TakeMovesTheTextOut) {
  PrometheusText out;
  out.Family("g", "gauge", "A gauge.");
  out.Sample("g", {}, 1.0);
  std::string text = out.Take();
  EXPECT_EQ(text, "# HELP g A gauge.\n# TYPE g gauge\ng 1\n");
}

}  // namespace
}  // namespace sluice
