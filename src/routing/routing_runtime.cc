// RoutingTable and RoutingRuntime: groups built from a snapshot over the registry.
#include "routing/routing_runtime.h"

namespace sluice::routing {

std::shared_ptr<const RoutingTable> RoutingTable::Build(std::shared_ptr<const Snapshot> snapshot,
                                                        RoutingRegistry& registry,
                                                        std::string& error) {
  auto table = std::make_shared<RoutingTable>();
  table->groups_.reserve(snapshot->models.size());
  for (const auto& model : snapshot->models) {
    std::unique_ptr<ModelGroup> group = ModelGroup::Build(*model, registry, error);
    if (!group) return nullptr;
    table->groups_.push_back(std::move(group));
  }
  table->snapshot_ = std::move(snapshot);
  return table;
}

std::unique_ptr<RoutingRuntime> RoutingRuntime::Create(std::shared_ptr<const Snapshot> snapshot,
                                                       const Clock& clock, std::string& error) {
  std::unique_ptr<RoutingRuntime> runtime(new RoutingRuntime(clock));
  runtime->table_ = RoutingTable::Build(std::move(snapshot), runtime->registry_, error);
  if (!runtime->table_) return nullptr;
  return runtime;
}

}  // namespace sluice::routing
