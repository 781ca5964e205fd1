// PrometheusScrape: a line-by-line parser of the text format 0.0.4 and the queries on it.
#include "tests/testing/prometheus_scrape.h"

#include <charconv>
#include <limits>
#include <set>

namespace sluice::testing {
namespace {

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// Reads a metric or label name at the front of `rest`; empty when there is none.
std::string_view TakeName(std::string_view& rest, bool label) {
  size_t n = 0;
  while (n < rest.size() && (n == 0 ? IsNameStart(rest[n]) : IsNameChar(rest[n])) &&
         !(label && rest[n] == ':')) {
    ++n;
  }
  std::string_view name = rest.substr(0, n);
  rest.remove_prefix(n);
  return name;
}

std::optional<double> ParseNumber(std::string_view text) {
  if (text == "+Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// Reads `"value"` with the format's escapes (\\, \", \n); false on a bad escape or no end.
bool TakeLabelValue(std::string_view& rest, std::string& out) {
  if (rest.empty() || rest.front() != '"') return false;
  rest.remove_prefix(1);
  while (!rest.empty()) {
    char c = rest.front();
    rest.remove_prefix(1);
    if (c == '"') return true;
    if (c == '\n') return false;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (rest.empty()) return false;
    char escaped = rest.front();
    rest.remove_prefix(1);
    if (escaped == '\\' || escaped == '"') {
      out.push_back(escaped);
    } else if (escaped == 'n') {
      out.push_back('\n');
    } else {
      return false;
    }
  }
  return false;
}

bool HasSuffix(std::string_view name, std::string_view suffix) {
  return name.size() > suffix.size() && name.ends_with(suffix);
}

bool Contains(const PromLabels& labels, const PromLabels& subset) {
  for (const auto& [name, value] : subset) {
    auto it = labels.find(name);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace

PrometheusScrape PrometheusScrape::Parse(std::string_view text) {
  PrometheusScrape out;
  std::set<std::string> closed_families;  // families whose samples have ended
  std::set<std::pair<std::string, PromLabels>> series;
  std::string current_family;
  auto error = [&](size_t line, const std::string& message) {
    out.errors_.push_back("line " + std::to_string(line) + ": " + message);
  };
  // The family a sample belongs to: a histogram's suffixed series belong to their base.
  auto family_of = [&](std::string_view name) -> std::string {
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (!HasSuffix(name, suffix)) continue;
      std::string base(name.substr(0, name.size() - suffix.size()));
      auto it = out.types_.find(base);
      if (it != out.types_.end() &&
          (it->second == "histogram" || (it->second == "summary" && suffix != "_bucket"))) {
        return base;
      }
    }
    return std::string(name);
  };
  if (!text.empty() && text.back() != '\n') error(0, "the exposition does not end with a newline");
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.empty()) continue;
    if (line.front() == '#') {
      std::string_view rest = line.substr(1);
      bool is_type = rest.starts_with(" TYPE ");
      if (!is_type && !rest.starts_with(" HELP ")) continue;  // a plain comment
      rest.remove_prefix(6);
      std::string name(TakeName(rest, false));
      if (name.empty() || (!rest.empty() && rest.front() != ' ')) {
        error(number, "bad metric name in a HELP or TYPE line");
        continue;
      }
      if (!is_type) continue;
      std::string type(rest.empty() ? "" : rest.substr(1));
      static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                   "untyped"};
      if (kTypes.count(type) == 0) error(number, "unknown type '" + type + "' of " + name);
      if (out.types_.count(name) != 0) error(number, "second TYPE line for " + name);
      if (closed_families.count(name) != 0 || current_family == name) {
        error(number, "TYPE of " + name + " after its samples");
      }
      out.types_[name] = type;
      continue;
    }
    std::string_view rest = line;
    PromSample sample;
    sample.name = TakeName(rest, false);
    if (sample.name.empty()) {
      error(number, "a sample line without a metric name");
      continue;
    }
    bool ok = true;
    if (!rest.empty() && rest.front() == '{') {
      rest.remove_prefix(1);
      while (ok && !rest.empty() && rest.front() != '}') {
        std::string label(TakeName(rest, true));
        std::string value;
        ok = !label.empty() && !rest.empty() && rest.front() == '=';
        if (ok) rest.remove_prefix(1);
        ok = ok && TakeLabelValue(rest, value);
        ok = ok && sample.labels.emplace(label, value).second;  // no repeated label
        if (ok && !rest.empty() && rest.front() == ',') rest.remove_prefix(1);
      }
      ok = ok && !rest.empty() && rest.front() == '}';
      if (ok) rest.remove_prefix(1);
    }
    ok = ok && !rest.empty() && rest.front() == ' ';
    if (ok) rest.remove_prefix(1);
    std::string_view value_text = rest.substr(0, rest.find(' '));  // a timestamp may follow
    std::optional<double> value = ok ? ParseNumber(value_text) : std::nullopt;
    if (!value) {
      error(number, "malformed sample: " + std::string(line));
      continue;
    }
    sample.value = *value;
    std::string family = family_of(sample.name);
    if (out.types_.count(family) == 0) error(number, "no TYPE line before " + sample.name);
    if (family != current_family) {
      if (closed_families.count(family) != 0) {
        error(number, "samples of " + family + " are not contiguous");
      }
      if (!current_family.empty()) closed_families.insert(current_family);
      current_family = family;
    }
    if (HasSuffix(sample.name, "_bucket") && family != sample.name &&
        sample.labels.count("le") == 0) {
      error(number, "a histogram bucket without le: " + std::string(line));
    }
    if (!series.emplace(sample.name, sample.labels).second) {
      error(number, "repeated series: " + std::string(line));
    }
    out.samples_.push_back(std::move(sample));
  }
  return out;
}

std::string PrometheusScrape::Type(std::string_view name) const {
  auto it = types_.find(name);
  return it == types_.end() ? std::string() : it->second;
}

std::optional<double> PrometheusScrape::Value(std::string_view name,
                                              const PromLabels& labels) const {
  for (const PromSample& sample : samples_) {
    if (sample.name == name && sample.labels == labels) return sample.value;
  }
  return std::nullopt;
}

std::vector<const PromSample*> PrometheusScrape::Matching(std::string_view name,
                                                          const PromLabels& subset) const {
  std::vector<const PromSample*> out;
  for (const PromSample& sample : samples_) {
    if (sample.name == name && Contains(sample.labels, subset)) out.push_back(&sample);
  }
  return out;
}

double PrometheusScrape::Sum(std::string_view name, const PromLabels& subset) const {
  double sum = 0;
  for (const PromSample* sample : Matching(name, subset)) sum += sample->value;
  return sum;
}

PromHistogram PrometheusScrape::Histogram(std::string_view family, const PromLabels& labels) const {
  PromHistogram out;
  std::string bucket = std::string(family) + "_bucket";
  for (const PromSample& sample : samples_) {
    if (sample.name != bucket) continue;
    auto le = sample.labels.find("le");
    if (le == sample.labels.end()) continue;
    PromLabels rest = sample.labels;
    rest.erase("le");
    if (rest != labels) continue;
    std::optional<double> bound = ParseNumber(le->second);
    out.buckets.emplace_back(bound.value_or(std::numeric_limits<double>::quiet_NaN()),
                             sample.value);
  }
  std::optional<double> sum = Value(std::string(family) + "_sum", labels);
  std::optional<double> count = Value(std::string(family) + "_count", labels);
  out.sum = sum.value_or(0);
  out.count = count.value_or(0);
  out.found = count.has_value();
  return out;
}

}  // namespace sluice::testing
