// Prometheus text exposition: escaping, number formatting and histogram expansion.
#include "observability/prometheus_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace sluice {

void AppendPrometheusNumber(std::string& out, double value) {
  if (std::isnan(value)) {
    out.append("NaN");
    return;
  }
  if (std::isinf(value)) {
    out.append(value > 0 ? "+Inf" : "-Inf");
    return;
  }
  // The shortest round-trip digits, positional for decimal exponents -4..20 (Go's %g switches
  // below -4 too) and in exponent notation outside them: a bucket bound reads "0.0001" as
  // documented, not the equally short "1e-04" (`le` is matched as text), and 4194304 whole.
  char buffer[32];
  auto result =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  const char* e = std::find(buffer, result.ptr, 'e');
  int exponent = 0;
  if (e != result.ptr) std::from_chars(e + (e[1] == '+' ? 2 : 1), result.ptr, exponent);
  if (exponent >= -4 && exponent < 21) {
    result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed);
  }
  out.append(buffer, result.ptr);
}

namespace {

void AppendUnsigned(std::string& out, uint64_t value) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}

void AppendLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out.append("\\\\");
        break;
      case '"':
        out.append("\\\"");
        break;
      case '\n':
        out.append("\\n");
        break;
      default:
        out.push_back(c);
    }
  }
}

// HELP text escapes only backslash and newline.
void AppendHelp(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

void PrometheusText::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_.append("# HELP ");
  out_.append(name);
  out_.push_back(' ');
  AppendHelp(out_, help);
  out_.append("\n# TYPE ");
  out_.append(name);
  out_.push_back(' ');
  out_.append(type);
  out_.push_back('\n');
}

void PrometheusText::AppendSeries(std::string_view name, std::string_view suffix,
                                  std::span<const MetricLabel> labels, std::string_view le) {
  out_.append(name);
  out_.append(suffix);
  if (labels.empty() && le.empty()) {
    out_.push_back(' ');
    return;
  }
  out_.push_back('{');
  bool first = true;
  for (const MetricLabel& label : labels) {
    if (!first) out_.push_back(',');
    first = false;
    out_.append(label.name);
    out_.append("=\"");
    AppendLabelValue(out_, label.value);
    out_.push_back('"');
  }
  if (!le.empty()) {
    if (!first) out_.push_back(',');
    out_.append("le=\"");
    out_.append(le);
    out_.push_back('"');
  }
  out_.append("} ");
}

void PrometheusText::Sample(std::string_view name, std::span<const MetricLabel> labels,
                            double value) {
  AppendSeries(name, {}, labels, {});
  AppendPrometheusNumber(out_, value);
  out_.push_back('\n');
}

void PrometheusText::Sample(std::string_view name, std::span<const MetricLabel> labels,
                            uint64_t value) {
  AppendSeries(name, {}, labels, {});
  AppendUnsigned(out_, value);
  out_.push_back('\n');
}

void PrometheusText::Histogram(std::string_view family, std::span<const MetricLabel> labels,
                               std::span<const double> bounds, std::span<const uint64_t> counts,
                               double sum) {
  uint64_t cumulative = 0;
  std::string le;
  for (size_t i = 0; i <= bounds.size() && i < counts.size(); ++i) {
    cumulative += counts[i];
    le.clear();
    if (i < bounds.size()) {
      AppendPrometheusNumber(le, bounds[i]);
    } else {
      le = "+Inf";
    }
    AppendSeries(family, "_bucket", labels, le);
    AppendUnsigned(out_, cumulative);
    out_.push_back('\n');
  }
  AppendSeries(family, "_sum", labels, {});
  AppendPrometheusNumber(out_, sum);
  out_.push_back('\n');
  AppendSeries(family, "_count", labels, {});
  AppendUnsigned(out_, cumulative);
  out_.push_back('\n');
}

}  // namespace sluice
