// The metrics registry of a running gateway and the families of its runtime components:
// created first by OpenRuntime (workers take their cells from it), then fed by collectors
// for the limiter's failure-policy decisions, the usage journal and exporter (with the
// store's readiness check) and, once the server starts, the server's own (server_metrics.cc:
// pools, reloads, configuration version, routing state). Start-up only; the collectors run
// at scrape time on the admin thread and read atomics or copies made under short locks.
#pragma once

#include <string>
#include <vector>

#include "config/snapshot.h"

namespace sluice {

struct RuntimeServices;

// Creates `out.metrics` for `snapshot` (label options, limit policy names) with the process
// families (CPU, memory, descriptors).
void OpenMetrics(const Snapshot& snapshot, RuntimeServices& out);
// The request tracer with its OTLP exporter when observability.tracing has an endpoint, and
// its counters. False with `errors` when the exporter cannot be set up.
bool OpenTracing(const Snapshot& snapshot, RuntimeServices& out, std::vector<std::string>& errors);
// The limiter store's failure-policy decisions and, for Redis, a readiness check that
// reports (without failing readiness) while decisions fall back.
void ObserveLimiter(RuntimeServices& out);
// Journal records, fsyncs and backlog; the store's readiness check.
void ObserveUsage(RuntimeServices& out);

}  // namespace sluice
