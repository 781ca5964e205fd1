// What every identity command of the CLI (`sluice keys|users|teams|admin`) shares: the
// --config/--store/--json options, opening the store (and the access policy that validates
// role and tier names) the same way the gateway does, printing results and one-line errors,
// and writing the audit row of each change. One Session per command run; single-threaded.
#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "admin/admin_ops.h"
#include "store/store.h"

namespace sluice {
class AccessPolicy;
class Snapshot;
}  // namespace sluice

namespace sluice::cli {

// Exit codes of the identity commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the operation failed (message on stderr)
inline constexpr int kExitUsage = 2;   // bad command line

// Where the store is: a config file (its store: section, and its auth: section for role and
// tier names) or a SQLite file given directly (no role/tier validation).
struct StoreOptions {
  std::string config = "config/sluice.yaml";
  std::string store;  // when set, the config is not read
  bool json = false;  // print the admin API's JSON instead of text
};

class Session {
 public:
  // Opens the store named by `options`; on failure prints why (one line per problem) and
  // returns null.
  static std::unique_ptr<Session> Open(const StoreOptions& options);
  ~Session();

  AdminOps& ops() { return *ops_; }
  Store& store() { return *store_; }
  bool json() const { return json_; }
  int64_t now() const { return now_; }

  // Prints "sluice: <message>" for a failed operation and returns kExitFailed.
  int Fail(const OpResult& result) const;
  // Appends the audit row of a successful change: principal "cli", result "ok". A failure
  // to write it is reported on stderr (the change itself has happened).
  void Audit(std::string_view action, std::string_view target,
             std::string_view details_json = "{}");
  // Prints `value` as one line of JSON on stdout.
  static void PrintJson(const boost::json::value& value);

 private:
  Session() = default;

  std::shared_ptr<const Snapshot> snapshot_;
  std::unique_ptr<AccessPolicy> policy_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<AdminOps> ops_;
  bool json_ = false;
  int64_t now_ = 0;
};

// Prints "sluice: <message>" on stderr and returns `code`.
int Complain(std::string_view message, int code = kExitFailed);

}  // namespace sluice::cli
