// Reader of model groups (see routing_config.h): the `routing:` defaults, each model's
// deployments (or the one-backend shorthand), balancer, hash key, retries, circuit breaker,
// outlier detection and fallbacks. Used by config/loader; errors go to the node's
// diagnostics with file:line. Not thread-safe (load time only).
#pragma once

#include <vector>

#include "config/config_node.h"
#include "config/snapshot.h"

namespace sluice {

// The routing: section. REQUIRES: read before the models (they copy the defaults).
void ReadRoutingDefaults(const ConfigNode& node, RoutingDefaults& defaults);

// A model's group settings, over snap.routing's defaults. Reads `backend`/`upstream_model`
// or `deployments`, and the group settings; fallback targets are resolved later.
void ReadModelGroup(const ConfigNode& node, const Snapshot& snap, ModelConfig& model);

// Once every model is read: resolves fallback targets by name or alias and checks that a
// deployment listed by several groups has one circuit_breaker setting (it has one breaker).
// `nodes[i]` is the YAML entry of snap.models[i].
void LinkModelGroups(const std::vector<ConfigNode>& nodes, Snapshot& snap);

}  // namespace sluice
