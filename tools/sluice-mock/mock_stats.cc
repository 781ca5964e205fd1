// Summing and JSON formatting of sluice-mock's per-worker counters (see mock_stats.h).
// Reads are relaxed atomic loads; thread-safe.
#include "mock_stats.h"

#include "core/json_text.h"

namespace sluice {

StatsRegistry::StatsRegistry(size_t workers) {
  cells_.reserve(workers);
  for (size_t i = 0; i < workers; ++i) cells_.push_back(std::make_unique<StatsCell>());
}

StatsTotals StatsRegistry::Sum() const {
  auto get = [](const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  StatsTotals t;
  uint64_t closed = 0;
  for (const auto& c : cells_) {
    t.requests += get(c->requests);
    t.connections_opened += get(c->connections_opened);
    closed += get(c->connections_closed);
    t.streams_started += get(c->streams_started);
    t.streams_completed += get(c->streams_completed);
    t.streams_client_aborted += get(c->streams_client_aborted);
    t.resets_injected += get(c->resets_injected);
    t.errors_injected += get(c->errors_injected);
    t.health_checks += get(c->health_checks);
  }
  // Cells are read one after the other, so a close may be seen before its open.
  t.connections_active = t.connections_opened > closed ? t.connections_opened - closed : 0;
  return t;
}

void StatsRegistry::AppendJson(std::string& out) const {
  StatsTotals t = Sum();
  auto field = [&out](std::string_view name, uint64_t value, bool first = false) {
    if (!first) out.push_back(',');
    AppendJsonKey(out, name);
    AppendDecimal(out, static_cast<int64_t>(value));
  };
  out.push_back('{');
  field("requests", t.requests, true);
  field("connections_opened", t.connections_opened);
  field("connections_active", t.connections_active);
  field("streams_started", t.streams_started);
  field("streams_completed", t.streams_completed);
  field("streams_client_aborted", t.streams_client_aborted);
  field("resets_injected", t.resets_injected);
  field("errors_injected", t.errors_injected);
  field("health_checks", t.health_checks);
  out.push_back('}');
}

}  // namespace sluice
