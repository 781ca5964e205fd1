// x-sluice-overhead-ms and server-timing: the gateway's own time and the upstream's, on every
// response when observability.overhead_headers is on. Added to a response head just before it
// is written; for a buffered response "upstream" is the whole upstream exchange, for a
// stream the wait for the upstream's head (the rest of a stream is relayed as it comes).
// Worker thread; one clock read when enabled, one flag test when not.
#pragma once

#include "core/request_context.h"
#include "core/response_head.h"

namespace sluice {

void AddTimingHeaders(const RequestContext& ctx, HeaderBlock& headers);

}  // namespace sluice
