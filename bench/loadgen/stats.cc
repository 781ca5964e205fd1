// JSON report of sluice-loadgen.
#include "bench/loadgen/stats.h"

#include <cstdio>

namespace sluice::loadgen {
namespace {

void Key(std::string& out, const char* key) {
  if (out.back() != '{') out.push_back(',');
  out.push_back('"');
  out.append(key);
  out.append("\":");
}

void Int(std::string& out, const char* key, uint64_t value) {
  Key(out, key);
  out.append(std::to_string(value));
}

void Real(std::string& out, const char* key, double value) {
  Key(out, key);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.3f", value);
  out.append(buf);
}

const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kClosed:
      return "closed";
    case Mode::kOpen:
      return "open";
    case Mode::kHold:
      return "hold";
  }
  return "?";
}

}  // namespace

std::string RenderJson(const Options& o, Stats& s, double window_s) {
  static constexpr const char* kErrorNames[] = {"connect", "status", "parse",
                                                "timeout", "io",     "sse"};
  std::string out = "{";
  Key(out, "mode");
  out.append("\"").append(ModeName(o.mode)).append("\"");
  Key(out, "sse");
  out.append(o.sse ? "true" : "false");
  Int(out, "connections", static_cast<uint64_t>(o.mode == Mode::kHold ? o.hold : o.connections));
  Real(out, "rate", o.rate);
  Real(out, "warmup_s", o.warmup_s);
  Real(out, "duration_s", window_s);
  Int(out, "requests", s.requests);
  Int(out, "ok", s.ok);
  Int(out, "window_ok", s.window_ok);
  Real(out, "throughput_rps", window_s > 0 ? static_cast<double>(s.window_ok) / window_s : 0);
  Int(out, "unsent", s.unsent);
  Key(out, "errors");
  out.append("{");
  uint64_t total = 0;
  for (size_t i = 0; i < s.errors.size(); ++i) {
    Int(out, kErrorNames[i], s.errors[i]);
    total += s.errors[i];
  }
  out.append("}");
  Int(out, "errors_total", total);
  Key(out, "status_counts");
  out.append("{");
  for (const auto& [status, count] : s.status_counts) {
    Int(out, std::to_string(status).c_str(), count);
  }
  out.append("}");
  Int(out, "bytes_in", s.bytes_in);
  Int(out, "bytes_out", s.bytes_out);
  Int(out, "reconnects", s.reconnects);
  Key(out, "latency_us");
  s.latency.AppendJsonMicros(out);
  Key(out, "service_latency_us");
  s.service.AppendJsonMicros(out);
  if (o.mode == Mode::kOpen) {
    Key(out, "send_lag_us");
    s.send_lag.AppendJsonMicros(out);
  }
  if (o.sse) {
    Int(out, "events", s.events);
    Int(out, "window_events", s.window_events);
    Real(out, "events_per_s", window_s > 0 ? static_cast<double>(s.window_events) / window_s : 0);
    Key(out, "ttfe_us");
    s.ttfe.AppendJsonMicros(out);
    Key(out, "gap_us");
    s.gaps.AppendJsonMicros(out);
  }
  if (o.mode == Mode::kHold) {
    Int(out, "established", static_cast<uint64_t>(s.established));
    Int(out, "held_at_end", static_cast<uint64_t>(s.held_at_end));
    Int(out, "closed_by_peer", s.closed_by_peer);
    Real(out, "hold_seconds", o.hold_seconds);
  }
  out.append("}\n");
  return out;
}

std::string RenderSamplesJson(const Stats& s) {
  std::string out = "{\"latency_us\":";
  s.latency.AppendJsonArrayMicros(out);
  out.append(",\"service_latency_us\":");
  s.service.AppendJsonArrayMicros(out);
  out.append(",\"ttfe_us\":");
  s.ttfe.AppendJsonArrayMicros(out);
  out.append("}\n");
  return out;
}

}  // namespace sluice::loadgen
