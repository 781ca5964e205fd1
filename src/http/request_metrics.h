// The bridge from a finished request to its worker's metric cells: turns the RequestContext
// (model, backend, status, timings, usage, cost, retries) into a RequestSample and observes
// it. Called once per request by the session, after the filters' OnComplete. Runs on the
// worker's thread; no allocation once the label set has been seen on this thread.
#pragma once

#include "core/request_context.h"
#include "observability/worker_metrics.h"

namespace sluice {

void RecordRequestMetrics(WorkerMetrics& metrics, const RequestContext& ctx);

// The label of the model a request asked for: its configured name (the split model for a
// traffic split), "unknown" for a name that is not configured, "" when it named none.
std::string_view ModelLabel(const RequestContext& ctx);

}  // namespace sluice
