// The running gateway: N workers (one thread, io_context and SO_REUSEPORT listener each),
// start-up, readiness, graceful drain and hot reload. Signals: SIGTERM/SIGINT drain (stop
// accepting, finish in-flight requests and streams up to drain_timeout, then exit 0; a
// second signal closes everything at once); SIGHUP reloads the configuration file, as do
// a change to the file (server.watch_config) and POST /admin/config/reload (server_reload.cc).
// Start/Drain are called from one controlling thread; ReloadConfig and StatusJson from any.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/generation.h"
#include "config/loader.h"
#include "config/snapshot.h"
#include "core/gateway_control.h"
#include "core/services.h"
#include "http/worker.h"

namespace sluice {

class AuthRuntime;
class ConfigFileWatch;
class MetricsRegistry;
class Tracer;
class SqliteStore;
class UsageExporter;
class UsageJournal;
class UsageRecorder;
namespace limits {
class LimitsRuntime;
}
namespace routing {
class HealthChecker;
class RoutingRuntime;
}  // namespace routing

// The runtime components a snapshot needs, opened before the server starts and closed
// after it stops (the auth runtime flushes audit rows and key usage on close).
struct RuntimeServices {
  Services services;
  // First: destroyed last, after everything its collectors read.
  std::unique_ptr<MetricsRegistry> metrics;
  std::unique_ptr<Tracer> tracer;  // flushes its spans when destroyed (after the server)
  std::unique_ptr<routing::RoutingRuntime> routing;  // model groups' live state
  std::unique_ptr<routing::HealthChecker> health;    // active health checks (its own thread)
  std::unique_ptr<AuthRuntime> auth;
  std::shared_ptr<const Snapshot> limits_snapshot;  // the limits runtime refers into it
  std::unique_ptr<limits::LimitsRuntime> limits;
  // Usage records: journal (durable first), exporter to the store (its own connection).
  std::unique_ptr<UsageJournal> usage_journal;
  std::unique_ptr<SqliteStore> usage_store;
  std::unique_ptr<UsageExporter> usage_exporter;
  std::unique_ptr<UsageRecorder> usage_recorder;
  std::vector<std::string> bootstrap_messages;  // secrets created at first start, to print once
  RuntimeServices();
  ~RuntimeServices();
};

// Opens what `snapshot` uses (see Snapshot::UsesAuth). False with `errors` on failure.
bool OpenRuntime(std::shared_ptr<const Snapshot> snapshot, RuntimeServices& out,
                 std::vector<std::string>& errors);

// Loads `path` with the filters of `services` (null: validate only) and checks what the
// runtime would refuse (identity settings). What `sluice serve`, `sluice config check` and
// every reload use.
LoadResult LoadGatewayConfig(const std::string& path, const Services* services);

class Server final : public GatewayControl {
 public:
  // `services` must outlive the server; a default-constructed one means "no runtime".
  Server(std::shared_ptr<const Snapshot> snapshot, const Services* services);
  ~Server() override;

  // Enables ReloadConfig from `config_path` (otherwise it answers that reload is off).
  void EnableReload(std::string config_path) { config_path_ = std::move(config_path); }
  // GatewayControl: validate the file, then swap the generation of new requests. Reloads
  // are serialised; a file whose restart-only sections changed is refused.
  ReloadOutcome ReloadConfig(std::string_view trigger) override;
  std::string StatusJson() override;
  // The generation new requests get.
  std::shared_ptr<const ConfigGeneration> generation() const;

  // Binds every worker's listener and starts the worker threads. False with `error` set
  // when the address cannot be bound.
  bool Start(std::string& error);
  // The bound port (the configured one, or the one the OS chose for port 0).
  uint16_t port() const { return port_; }
  // The admin API's port; 0 when the config has no admin: section.
  uint16_t admin_port() const { return admin_port_; }
  // The whole life of the process: installs the signal handlers, starts the workers, calls
  // `on_listening(port)`, blocks until SIGTERM/SIGINT, drains. Returns the exit code.
  // Signals are handled before the first connection can arrive, so an early SIGTERM or
  // SIGHUP never hits the default action.
  int Serve(const std::function<void(uint16_t port)>& on_listening);
  // Drains: stop accepting, let in-flight requests finish for up to `timeout`, then close
  // what is left. Blocks until every worker has stopped.
  void Drain(Duration timeout);
  // Starts a drain without waiting (what the first signal does).
  void BeginDrain();
  bool AllStopped() const;

 private:
  void ForceClose();
  void Join();
  bool StartAdmin(std::string& error);
  // Registers the server's families (pools, reloads, routing) with the metrics registry.
  void CollectMetrics();
  ReloadOutcome Reload(std::string_view trigger, bool skip_if_unchanged);
  // Hands `next` to every worker and waits (bounded) until each has applied it.
  void PublishToWorkers(const std::shared_ptr<const ConfigGeneration>& next);
  // Watches the configuration file's directory (inotify) on `io` and reloads after a
  // change settles; false when the watch cannot be set up (logged).
  bool WatchConfigFile(boost::asio::io_context& io);

  std::shared_ptr<const Snapshot> snapshot_;  // the one the runtime was opened with
  const Services* services_;
  ServerState state_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;

  // Hot reload. reload_mutex_ serialises reloads; generation_mutex_ guards generation_ (read
  // by status and each reload, never per request: workers hold their own copy).
  std::string config_path_;
  std::mutex reload_mutex_;
  mutable std::mutex generation_mutex_;
  std::shared_ptr<const ConfigGeneration> generation_;
  struct ReloadRecord {
    WallTime at{};
    std::string trigger;
    bool ok = false;
    std::vector<std::string> errors;
  };
  ReloadRecord last_reload_;       // guarded by generation_mutex_
  uint64_t reloads_accepted_ = 0;  // guarded by generation_mutex_
  uint64_t reloads_rejected_ = 0;  // guarded by generation_mutex_
  SteadyTime started_at_ = std::chrono::steady_clock::now();
  std::unique_ptr<ConfigFileWatch> watch_;  // on Serve's loop
  uint64_t metrics_collector_ = 0;          // the server's families in services_->metrics
  std::atomic<bool> watching_file_{false};  // read by StatusJson on the admin thread
};

}  // namespace sluice
