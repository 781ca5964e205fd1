// Session: opening the store from a config file or a path, errors, audit rows, JSON output.
#include "cli/cli_session.h"

#include <boost/json/serialize.hpp>
#include <cctype>
#include <iostream>

#include "auth/access_policy.h"
#include "auth/api_key.h"
#include "auth/audit_log.h"
#include "config/loader.h"
#include "filters/registry.h"
#include "store/sqlite/sqlite_store.h"

namespace sluice::cli {
namespace {

// The command-line flag behind an AdminOps request field, for error messages.
std::string_view FlagFor(std::string_view param) {
  static constexpr std::pair<std::string_view, std::string_view> kFlags[] = {
      {"name", "--name"},
      {"user_id", "--user"},
      {"team_id", "--team"},
      {"teams", "--team"},
      {"roles", "--role"},
      {"tier", "--tier"},
      {"allowed_models", "--model"},
      {"metadata", "--metadata"},
      {"expires_in", "--expires-in"},
      {"username", "--username"},
      {"email", "--email"},
      {"limit", "--limit"},
      {"after", "--after"},
      {"revoked", "--revoked"},
  };
  for (const auto& [field, flag] : kFlags) {
    if (field == param) return flag;
  }
  // A key's limits ("limits.concurrency", "limits.budgets[0].usd").
  static constexpr std::pair<std::string_view, std::string_view> kLimitFlags[] = {
      {"limits.requests_per_minute", "--rpm"}, {"limits.tokens_per_minute", "--tpm"},
      {"limits.concurrency", "--concurrency"}, {".usd", "--budget-usd"},
      {".tokens", "--budget-tokens"},
  };
  for (const auto& [field, flag] : kLimitFlags) {
    if (param.starts_with("limits.") && param.ends_with(field)) return flag;
  }
  return {};
}

}  // namespace

int Complain(std::string_view message, int code) {
  std::cerr << "sluice: " << message << '\n';
  return code;
}

std::unique_ptr<Session> Session::Open(const StoreOptions& options) {
  std::unique_ptr<Session> session(new Session());
  session->json_ = options.json;
  session->now_ = NowSeconds();
  std::string path = options.store;
  if (path.empty()) {
    filters::Registry registry(nullptr);
    LoadResult loaded = LoadConfigFile(options.config, registry);
    if (!loaded.snapshot) {
      for (const std::string& error : loaded.errors) std::cerr << error << '\n';
      Complain("cannot use the configuration '" + options.config +
               "'; pass --config FILE or --store PATH");
      return nullptr;
    }
    session->snapshot_ = loaded.snapshot;
    const Snapshot& snapshot = *session->snapshot_;
    if (!snapshot.UsesAuth()) {
      // Such a gateway opens no store at all; say which file is used so nobody is surprised.
      Complain("note: " + options.config + " has no auth: or store: section; using the store '" +
               snapshot.store.sqlite_path + "'");
    }
    session->policy_ = std::make_unique<AccessPolicy>(snapshot.auth);
    path = snapshot.store.sqlite_path;
  }
  std::string error;
  session->store_ = SqliteStore::Open(path, &error);
  if (!session->store_) {
    Complain("cannot open the store '" + path + "': " + error);
    return nullptr;
  }
  session->ops_ = std::make_unique<AdminOps>(*session->store_, session->policy_.get());
  return session;
}

Session::~Session() = default;

int Session::Fail(const OpResult& result) const {
  // AdminOps speaks in API sentences ("Key 'x' does not exist."); a CLI line is lower case
  // without the full stop, and names the flag rather than the JSON field.
  std::string message = result.message;
  if (message.size() > 1 && std::isupper(static_cast<unsigned char>(message[0])) &&
      std::islower(static_cast<unsigned char>(message[1]))) {
    message[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(message[0])));
  }
  if (!message.empty() && message.back() == '.') message.pop_back();
  if (std::string_view flag = FlagFor(result.param); !flag.empty()) {
    message += " (" + std::string(flag) + ")";
  }
  return Complain(message);
}

void Session::Audit(std::string_view action, std::string_view target,
                    std::string_view details_json) {
  AuditRecord record;
  record.id = NewId("aud");
  record.time_ms = NowMillis();
  record.principal = "cli";
  record.action = std::string(action);
  record.target = std::string(target);
  record.result = "ok";
  record.details_json = std::string(details_json);
  StoreResult<void> written = store_->AppendAudit({record});
  if (!written.ok()) {
    Complain("warning: the change was made but its audit row could not be written: " +
             written.error().message);
  }
}

void Session::PrintJson(const boost::json::value& value) {
  std::cout << boost::json::serialize(value) << '\n';
}

}  // namespace sluice::cli
