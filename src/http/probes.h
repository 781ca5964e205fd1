// The health probes (/health/live, /health/ready, /health/startup) and GET /metrics, served
// on both listeners (metrics on the main one only with observability.metrics.on_main_listener).
// Probe bodies are JSON that say which check failed. Run on a worker thread; they read state
// other threads keep up to date (atomics, the routing table's lock-free counters).
#pragma once

#include "core/local_reply.h"
#include "core/request_context.h"
#include "http/worker.h"

namespace sluice {

LocalReply ProbeReply(const Worker& worker, const RequestContext& ctx);
LocalReply MetricsReply(const Worker& worker, const RequestContext& ctx);

}  // namespace sluice
