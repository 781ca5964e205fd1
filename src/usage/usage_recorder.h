// One usage record per model request (chat, completions, embeddings), built from its
// RequestContext: principal, models, backend, tokens (the upstream's usage, else the
// estimator's, flagged), cost from the model's price, status, error class, latencies.
// A response that reaches its end journals its record durably before its final byte or
// final SSE event is sent (RecordDurable, group-committed); anything else (errors, local
// replies, disconnects) is journaled after the response without waiting (RecordLate).
// Each request is recorded exactly once (ctx.usage_recorded). Thread-safe (the journal is).
#pragma once

#include <boost/asio/awaitable.hpp>

#include "core/request_context.h"
#include "store/store.h"

namespace sluice {

class UsageJournal;

class UsageRecorder {
 public:
  explicit UsageRecorder(UsageJournal& journal) : journal_(journal) {}

  // Model routes are recorded; health probes, sign-in and the admin API are not.
  static bool Wants(const RequestContext& ctx) { return IsModelRoute(ctx.route); }

  // Resumes once the record is durable (false: the journal failed; the response is sent
  // anyway, the failure is counted by the journal).
  boost::asio::awaitable<bool> RecordDurable(RequestContext& ctx);
  void RecordLate(RequestContext& ctx);

  static UsageRecord Build(RequestContext& ctx, SteadyTime end);

 private:
  UsageJournal& journal_;
};

}  // namespace sluice
