// Everything identity and access needs at run time, owned in one place: the store (with
// its own thread), the password-hashing thread, the key cache, the access policy, the JWT
// issuers, the audit log, the authenticator and the login service, plus a small control
// loop for periodic work (audit and key-usage flushes, revoked-token reloads, scheduled
// JWKS refreshes). Created by the server before the workers start; shared by them.
// Thread-safe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "auth/access_policy.h"
#include "auth/audit_log.h"
#include "auth/authenticator.h"
#include "auth/issuers.h"
#include "auth/key_cache.h"
#include "auth/login_service.h"
#include "config/snapshot.h"
#include "core/blocking_pool.h"
#include "store/store.h"

namespace sluice {

// Store settings that mark first-start work as done (shared with `sluice admin bootstrap`).
inline constexpr std::string_view kAdminBootstrappedSetting = "bootstrap.admin_key";
inline constexpr std::string_view kDemoBootstrappedSetting = "bootstrap.demo_key";

class AuthRuntime {
 public:
  // Opens the store (running migrations) and builds keys and issuers. nullptr with
  // `errors` ("file:line: ..." where a config line is at fault) on failure.
  static std::unique_ptr<AuthRuntime> Open(std::shared_ptr<const Snapshot> snapshot,
                                           std::vector<std::string>& errors);
  // The checks of Open() that need no store (for `sluice config check`).
  static void Validate(const Snapshot& snapshot, std::vector<std::string>& errors);
  ~AuthRuntime();

  // First start only: creates the first admin key (and the demo key when configured) and
  // returns the lines to print, each shown exactly once.
  std::vector<std::string> Bootstrap();
  void Start();
  // Waits until the store and hashing threads have finished what was queued so far (the
  // server calls it after its workers stopped, before destroying them).
  void Quiesce();
  // Flushes pending audit rows and key usage, then stops the threads. Idempotent.
  void Stop();

  Store& store() { return *store_; }
  BlockingPool& store_pool() { return *store_pool_; }
  BlockingPool& hash_pool() { return *hash_pool_; }
  KeyCache& keys() { return *keys_; }
  const AccessPolicy& policy() const { return *policy_; }
  AuditLog& audit() { return *audit_; }
  Authenticator& authenticator() { return *authenticator_; }
  LoginService& login() { return *login_; }
  Issuers& issuers() { return *issuers_; }
  const AuthConfig& config() const { return snapshot_->auth; }
  boost::asio::io_context& control() { return control_; }

 private:
  AuthRuntime() = default;
  void FlushUsage();
  void ScheduleTick();

  std::shared_ptr<const Snapshot> snapshot_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<BlockingPool> store_pool_;
  std::unique_ptr<BlockingPool> hash_pool_;
  std::unique_ptr<KeyCache> keys_;
  std::unique_ptr<AccessPolicy> policy_;
  std::unique_ptr<Issuers> issuers_;
  std::unique_ptr<AuditLog> audit_;
  boost::asio::io_context control_{1};
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<LoginService> login_;
  std::unique_ptr<boost::asio::steady_timer> tick_;
  std::thread control_thread_;
  uint64_t ticks_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace sluice
