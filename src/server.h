// The running gateway: N workers (one thread, io_context and SO_REUSEPORT listener each),
// start-up, readiness, and graceful drain. Signals: SIGTERM/SIGINT drain (stop accepting,
// finish in-flight requests and streams up to drain_timeout, then exit 0; a second signal
// closes everything at once); SIGHUP is reserved for configuration reload.
// Start/Stop are called from one controlling thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/snapshot.h"
#include "core/services.h"
#include "http/worker.h"

namespace sluice {

class AuthRuntime;
class SqliteStore;
class UsageExporter;
class UsageJournal;
class UsageRecorder;
namespace limits {
class LimitsRuntime;
}
namespace routing {
class RoutingRuntime;
}

// The runtime components a snapshot needs, opened before the server starts and closed
// after it stops (the auth runtime flushes audit rows and key usage on close).
struct RuntimeServices {
  Services services;
  std::unique_ptr<routing::RoutingRuntime> routing;  // model groups' live state
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

class Server {
 public:
  // `services` must outlive the server; a default-constructed one means "no runtime".
  Server(std::shared_ptr<const Snapshot> snapshot, const Services* services);
  ~Server();

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

  std::shared_ptr<const Snapshot> snapshot_;
  const Services* services_;
  ServerState state_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
};

}  // namespace sluice
