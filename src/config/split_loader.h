// Reader of traffic splits (see routing_config.h SplitConfig): a model's `split:` arms and
// `experiment:` settings, and the link step that resolves each arm's model once every model
// is read. Used by config/loader; errors go to the node's diagnostics with file:line. Not
// thread-safe (load time only).
#pragma once

#include <vector>

#include "config/config_node.h"
#include "config/snapshot.h"

namespace sluice {

// Reads `split:` and `experiment:` into model.split. False when the model does not split
// (it is then read as a model group); `experiment:` without `split:` is an error. A split
// model is served by its arms, so keys that configure serving (backend, deployments,
// balancer, retries, fallbacks, price, ...) are refused on it.
bool ReadModelSplit(const ConfigNode& node, ModelConfig& model);

// Once every model is read: resolves each arm's model by name or alias (it must exist, not
// be the split model itself and not split in turn), and refuses fallbacks to a split model.
// `nodes[i]` is the YAML entry of snap.models[i].
void LinkModelSplits(const std::vector<ConfigNode>& nodes, Snapshot& snap);

}  // namespace sluice
