// Server: hot reload (SIGHUP, file watch, POST /admin/config/reload) and GET /admin/status.
// A reload loads and validates the file off the data path, refuses changes only a restart
// can apply, builds the new routing table over the same live state (so unchanged
// deployments keep their health, breakers and statistics), then hands the new generation
// to every worker. Requests in flight keep the generation they started with.
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <condition_variable>
#include <ctime>
#include <mutex>

#include "auth/auth_runtime.h"
#include "config_file_watch.h"
#include "filters/registry.h"
#include "routing/health_checker.h"
#include "routing/routing_runtime.h"
#include "routing/routing_status.h"
#include "server.h"

namespace sluice {
namespace json = boost::json;

namespace {

constexpr auto kWatchSettle = std::chrono::milliseconds(200);
constexpr auto kPublishWait = std::chrono::seconds(2);

std::string Rfc3339(WallTime t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string JoinErrors(const std::vector<std::string>& errors) {
  std::string joined;
  for (const std::string& error : errors) {
    if (!joined.empty()) joined += "; ";
    joined += error;
  }
  return joined;
}

}  // namespace

LoadResult LoadGatewayConfig(const std::string& path, const Services* services) {
  filters::Registry registry(services);
  LoadResult result = LoadConfigFile(path, registry);
  if (result.snapshot) AuthRuntime::Validate(*result.snapshot, result.errors);
  if (!result.errors.empty()) result.snapshot = nullptr;
  return result;
}

std::shared_ptr<const ConfigGeneration> Server::generation() const {
  std::lock_guard lock(generation_mutex_);
  return generation_;
}

ReloadOutcome Server::ReloadConfig(std::string_view trigger) {
  return Reload(trigger, /*skip_if_unchanged=*/false);
}

ReloadOutcome Server::Reload(std::string_view trigger, bool skip_if_unchanged) {
  std::lock_guard serial(reload_mutex_);
  std::shared_ptr<const ConfigGeneration> running = generation();
  ReloadOutcome outcome;
  outcome.version = running->version;
  outcome.content_id = running->snapshot->content_id;
  if (config_path_.empty()) {
    outcome.errors.push_back("configuration reload is not enabled for this gateway");
    return outcome;
  }
  LoadResult loaded = LoadGatewayConfig(config_path_, services_);
  std::shared_ptr<const ConfigGeneration> next;
  if (loaded.snapshot) {
    if (skip_if_unchanged && loaded.snapshot->content_id == running->snapshot->content_id) {
      outcome.ok = true;
      outcome.unchanged = true;
      return outcome;  // a touch, or an event for another file of the directory
    }
    for (std::string_view section : loaded.snapshot->RestartOnlyChanges(*snapshot_)) {
      loaded.errors.push_back(config_path_ + ": section '" + std::string(section) +
                              "' changed; it only takes effect at a restart (the running "
                              "configuration stays)");
    }
  }
  if (loaded.errors.empty()) {
    auto built = std::make_shared<ConfigGeneration>();
    built->snapshot = loaded.snapshot;
    built->version = running->version + 1;
    if (services_ != nullptr && services_->routing != nullptr) {
      std::string error;
      built->routing = services_->routing->BuildTable(loaded.snapshot, error);
      if (!built->routing) loaded.errors.push_back("routing: " + error);
    }
    next = std::move(built);
  }
  // Every worker serves the new generation before the server reports it (status, log).
  if (loaded.errors.empty()) PublishToWorkers(next);
  {
    std::lock_guard lock(generation_mutex_);
    last_reload_ = {std::chrono::system_clock::now(), std::string(trigger), loaded.errors.empty(),
                    loaded.errors};
    if (!loaded.errors.empty()) {
      ++reloads_rejected_;
    } else {
      ++reloads_accepted_;
      generation_ = next;
    }
  }
  if (!loaded.errors.empty()) {
    spdlog::error("configuration reload ({}) rejected; still serving version {} ({}): {}", trigger,
                  running->version, running->snapshot->content_id, JoinErrors(loaded.errors));
    outcome.errors = std::move(loaded.errors);
    return outcome;
  }
  if (services_ != nullptr && services_->health != nullptr && next->routing) {
    services_->health->Update(next->routing);
  }
  spdlog::info("configuration reloaded ({}): version {} ({}, {} models, {} backends)", trigger,
               next->version, next->snapshot->content_id, next->snapshot->models.size(),
               next->snapshot->backends.size());
  outcome.ok = true;
  outcome.version = next->version;
  outcome.content_id = next->snapshot->content_id;
  return outcome;
}

void Server::PublishToWorkers(const std::shared_ptr<const ConfigGeneration>& next) {
  struct Pending {
    std::mutex mutex;
    std::condition_variable applied;
    size_t left = 0;
  };
  auto pending = std::make_shared<Pending>();
  pending->left = workers_.size();
  for (auto& worker : workers_) {
    worker->PostGeneration(next, [pending] {
      std::lock_guard lock(pending->mutex);
      if (--pending->left == 0) pending->applied.notify_all();
    });
  }
  // A worker's loop answers within microseconds; one that has stopped (draining) never
  // does, hence the bound.
  std::unique_lock lock(pending->mutex);
  pending->applied.wait_for(lock, kPublishWait, [&] { return pending->left == 0; });
}

bool Server::WatchConfigFile(boost::asio::io_context& io) {
  std::string error;
  watch_ = ConfigFileWatch::Start(
      io, config_path_, kWatchSettle, [this] { Reload("file watch", /*skip_if_unchanged=*/true); },
      error);
  if (!watch_) {
    spdlog::warn("not watching the configuration file ({}); reload with SIGHUP instead", error);
    return false;
  }
  watching_file_ = true;
  return true;
}

std::string Server::StatusJson() {
  std::shared_ptr<const ConfigGeneration> current;
  ReloadRecord last;
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  {
    std::lock_guard lock(generation_mutex_);
    current = generation_;
    last = last_reload_;
    accepted = reloads_accepted_;
    rejected = reloads_rejected_;
  }
  const Snapshot& snapshot = *current->snapshot;
  json::object config;
  config["version"] = current->version;
  config["content_id"] = snapshot.content_id;
  config["source"] = snapshot.source;
  config["loaded_at"] = Rfc3339(snapshot.loaded_at);
  config["reload_enabled"] = !config_path_.empty();
  config["watching_file"] = watching_file_.load();
  json::object reloads;
  reloads["accepted"] = accepted;
  reloads["rejected"] = rejected;
  if (!last.trigger.empty()) {
    json::object entry;
    entry["at"] = Rfc3339(last.at);
    entry["trigger"] = last.trigger;
    entry["ok"] = last.ok;
    json::array errors;
    for (const std::string& error : last.errors) errors.emplace_back(error);
    entry["errors"] = std::move(errors);
    reloads["last"] = std::move(entry);
  }
  config["reloads"] = std::move(reloads);

  json::object status;
  status["object"] = "gateway.status";
  status["ready"] = state_.ready.load() && !state_.draining.load();
  status["draining"] = state_.draining.load();
  status["uptime_seconds"] = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now() - started_at_)
                                 .count();
  status["workers"] = snapshot.server.workers;
  status["config"] = std::move(config);
  status["models"] = current->routing ? routing::RoutingStatusJson(*current->routing,
                                                                   std::chrono::steady_clock::now())
                                      : json::array();
  // Upstream pools, summed over the workers by backend (a backend whose connection settings
  // changed on a reload has had two pools; they add up).
  json::array pools;
  std::vector<Worker::PoolStat> totals;
  for (const auto& worker : workers_) {
    for (const Worker::PoolStat& stat : worker->PoolStats()) {
      auto it = std::find_if(totals.begin(), totals.end(),
                             [&](const Worker::PoolStat& t) { return t.backend == stat.backend; });
      if (it == totals.end()) {
        totals.push_back(stat);
      } else {
        it->idle += stat.idle;
        it->opened += stat.opened;
      }
    }
  }
  for (const Worker::PoolStat& total : totals) {
    json::object pool;
    pool["backend"] = total.backend;
    pool["idle_connections"] = total.idle;
    pool["connections_opened"] = total.opened;
    pools.push_back(std::move(pool));
  }
  status["upstream_pools"] = std::move(pools);
  return json::serialize(status);
}

}  // namespace sluice
