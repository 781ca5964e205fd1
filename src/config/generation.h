// One generation of the running configuration: a validated snapshot, the routing table
// built for it (model groups over the deployments' live state) and its sequence number.
// Start-up creates generation 1; every accepted hot reload creates the next one. Workers
// hand the current generation to each new request, and a request keeps the generation it
// started with until it ends, so in-flight requests and streams finish on their own
// configuration. Immutable once built; shared by all workers (thread-safe).
#pragma once

#include <cstdint>
#include <memory>

#include "config/snapshot.h"

namespace sluice {
namespace routing {
class RoutingTable;
}

struct ConfigGeneration {
  std::shared_ptr<const Snapshot> snapshot;
  // Null without a routing runtime (a bare Services in tests): each model then goes to its
  // first deployment, without retries or fallbacks.
  std::shared_ptr<const routing::RoutingTable> routing;
  uint64_t version = 1;  // 1 at start, +1 per accepted reload
};

}  // namespace sluice
