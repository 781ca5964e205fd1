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
  if (!runtime->BuildTable(std::move(snapshot), error)) return nullptr;
  return runtime;
}

std::shared_ptr<const RoutingTable> RoutingRuntime::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::shared_ptr<const RoutingTable> RoutingRuntime::BuildTable(
    std::shared_ptr<const Snapshot> snapshot, std::string& error) {
  std::shared_ptr<const RoutingTable> table =
      RoutingTable::Build(std::move(snapshot), registry_, error);
  if (!table) return nullptr;
  {
    std::lock_guard lock(mu_);
    current_ = table;
  }
  // Entries only older tables hold stay until those tables go (their requests end); the
  // next build forgets them.
  registry_.Prune();
  return table;
}

}  // namespace sluice::routing
