// Runs the real Sluice server in-process on a loopback port chosen by the OS, from a YAML
// snippet, for integration tests. Placeholders in the YAML: {upstream} → the address of a
// FakeUpstream, {access_log} → a per-test temporary file. The access log can be read back
// as parsed JSON lines. The substituted text is also written to config_path(), from which
// the server reloads (ReloadConfig, POST /admin/config/reload). Not thread-safe; one per
// test.
#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/filter_catalog.h"
#include "server.h"

namespace sluice::testing {

class GatewayHarness {
 public:
  // The filters' catalog, made for the harness's services (default: the real registry).
  using CatalogMaker = std::function<std::unique_ptr<FilterCatalog>(const Services*)>;

  // REQUIRES: `yaml` is a valid configuration after substitution (the test fails otherwise).
  explicit GatewayHarness(const std::string& yaml, const std::string& upstream_address = "",
                          const CatalogMaker& catalog = nullptr);
  ~GatewayHarness();

  uint16_t port() const { return server_->port(); }
  Server& server() { return *server_; }
  const Snapshot& snapshot() const { return *snapshot_; }
  // The identity runtime (store, key cache, audit log); null when the config has no auth.
  AuthRuntime* auth() { return runtime_.auth.get(); }
  // The access-log lines, parsed, once at least `expected` have been written (lines are
  // written after the response, so a test that just read its response must wait).
  std::vector<boost::json::object> AccessLog(size_t expected = 1);
  const std::string& access_log_path() const { return access_log_path_; }
  const std::string& config_path() const { return config_path_; }

 private:
  std::string access_log_path_;
  std::string config_path_;
  std::shared_ptr<const Snapshot> snapshot_;
  RuntimeServices runtime_;  // before server_: closed after the server has drained
  std::unique_ptr<Server> server_;
};

// A minimal config: one worker, one backend "up" at {upstream}, models "m" (upstream name
// "up-m") and "e" (embeddings), request_id + access_log to {access_log}. `extra_backend`
// is appended inside the backend entry (indented by 4 spaces), `extra_server` inside server:.
std::string BasicConfig(const std::string& extra_backend = "",
                        const std::string& extra_server = "");

// The start of a config with one worker, backends "d0" and "d1" at the two addresses and
// model "m" deployed on both (upstream name "up-m"), one retry with a 1–2 ms backoff; the
// caller appends the other sections (filters:, observability:...).
std::string TwoDeploymentsConfig(const std::string& d0_address, const std::string& d1_address);

}  // namespace sluice::testing
