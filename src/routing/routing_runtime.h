// The routing runtime the proxy uses: a routing table per configuration snapshot (one
// ModelGroup per model, indexed like Snapshot::models) over the RoutingRegistry that keeps
// the live state of deployments and groups. Created by the server before the workers start
// (OpenRuntime) and reached through Services::routing. A hot reload builds a new table from
// the same registry (BuildTable), so unchanged deployments keep their statistics, breakers
// and ejections; each request uses the table of its configuration generation
// (config/generation.h). Thread-safe: tables are immutable once built and shared by all
// workers; the current table is swapped under a mutex (never taken per request).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "config/snapshot.h"
#include "core/clock.h"
#include "routing/deployment_registry.h"
#include "routing/model_group.h"

namespace sluice::routing {

class RoutingTable {
 public:
  // One group per model of `snapshot`, with live state from `registry`. Null with `error`
  // when a group cannot be built.
  static std::shared_ptr<const RoutingTable> Build(std::shared_ptr<const Snapshot> snapshot,
                                                   RoutingRegistry& registry, std::string& error);

  // The group of `model`, or nullptr when `model` is not from this table's snapshot. O(1).
  const ModelGroup* Group(const ModelConfig& model) const {
    if (model.index >= groups_.size()) return nullptr;
    const ModelGroup* group = groups_[model.index].get();
    return &group->config() == &model ? group : nullptr;
  }
  const Snapshot& snapshot() const { return *snapshot_; }

 private:
  std::shared_ptr<const Snapshot> snapshot_;  // the groups refer into it
  std::vector<std::unique_ptr<ModelGroup>> groups_;
};

class RoutingRuntime {
 public:
  // REQUIRES: `clock` outlives the runtime.
  static std::unique_ptr<RoutingRuntime> Create(std::shared_ptr<const Snapshot> snapshot,
                                                const Clock& clock, std::string& error);

  // The group of `model` in the current table (tests and tools; requests use their own).
  const ModelGroup* Group(const ModelConfig& model) const { return current()->Group(model); }
  // The table of the newest snapshot.
  std::shared_ptr<const RoutingTable> current() const;
  // Builds the table of `snapshot` over the same live state and makes it current; forgets
  // the state of deployments and groups no table uses any more. Null with `error` when a
  // group cannot be built (the current table stays).
  std::shared_ptr<const RoutingTable> BuildTable(std::shared_ptr<const Snapshot> snapshot,
                                                 std::string& error);
  RoutingRegistry& registry() { return registry_; }

 private:
  explicit RoutingRuntime(const Clock& clock) : registry_(clock) {}

  RoutingRegistry registry_;
  mutable std::mutex mu_;
  std::shared_ptr<const RoutingTable> current_;
};

}  // namespace sluice::routing
