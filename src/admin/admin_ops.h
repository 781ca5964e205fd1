// The identity operations an operator performs (keys, users, teams, roles, audit and usage
// queries), written once and shared by the admin HTTP API (src/admin/admin_api) and the CLI
// (`sluice keys|users|teams|usage`). Inputs are JSON objects (an HTTP body, or CLI flags turned
// into one) so both front ends get the same validation and the same error messages;
// outputs are JSON in the admin API's shapes. Synchronous: the admin API runs them on the
// store thread, the CLI on its own store. Password hashing is the caller's job (it belongs
// on the hashing pool): operations receive `password_hash`, never a password.
// Not thread-safe (one store thread at a time), like Store.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors.h"
#include "store/store.h"

namespace sluice {

class AccessPolicy;

struct OpResult {
  int status = 200;  // 200, 201, 400, 404, 409, 500
  ErrorClass error = ErrorClass::kNone;
  std::string message;  // when error != kNone
  std::string param;    // the offending field, when there is one
  boost::json::value body;
  std::string target;  // what the operation was about, e.g. "key:key_…" (for the audit log)
  // Keys whose cached state is now stale (revoke, rotate, update), by SHA-256; `flush_all`
  // when owners changed (user disabled, team membership): callers drop the whole cache.
  std::vector<std::string> stale_key_hashes;
  bool flush_all_keys = false;
  // What the audit row should say about the change besides its status (e.g. a key's limits
  // before and after); never secrets.
  boost::json::object audit_details;
  // The one-time secret of a created or rotated key (also inside `body`), so callers can
  // keep it out of logs and audit rows.
  std::string secret;
  // A JWT id revoked by this operation (callers add it to the in-memory revoked set).
  std::string revoked_jti;

  bool ok() const { return error == ErrorClass::kNone; }
};

// List queries: `limit` 1..1000 (default 50), `after` the last id of the previous page, and
// per-resource filters (user_id, team_id, revoked, disabled, principal, action, target,
// result, since, until). Values are strings, as they come from a query string.
using Query = std::vector<std::pair<std::string, std::string>>;

class AdminOps {
 public:
  // `policy` validates role and tier names; null accepts any (CLI without a config).
  AdminOps(Store& store, const AccessPolicy* policy) : store_(store), policy_(policy) {}

  // Keys. Create/update fields: name, user_id, team_id, roles, tier, allowed_models,
  // metadata (object), expires_at (unix seconds) or expires_in ("30d"), limits (the key's
  // limit overrides, admin/key_limits_json.h; null clears them); rotation keeps everything
  // but the secret.
  OpResult CreateKey(const boost::json::object& request, int64_t now);
  OpResult ListKeys(const Query& query);
  OpResult GetKey(std::string_view id);
  OpResult UpdateKey(std::string_view id, const boost::json::object& request, int64_t now);
  OpResult RevokeKey(std::string_view id, int64_t now);
  OpResult RotateKey(std::string_view id, int64_t now);

  // Users. Fields: username, email, password_hash (already hashed), roles, tier, disabled,
  // teams (team ids, on create).
  OpResult CreateUser(const boost::json::object& request, int64_t now);
  OpResult ListUsers(const Query& query);
  OpResult GetUser(std::string_view id);
  OpResult UpdateUser(std::string_view id, const boost::json::object& request, int64_t now);
  // Looks a user up by id or, failing that, by username (CLI convenience).
  std::optional<UserRecord> FindUser(std::string_view id_or_name);

  // Teams. Fields: name, tier.
  OpResult CreateTeam(const boost::json::object& request, int64_t now);
  OpResult ListTeams(const Query& query);
  OpResult GetTeam(std::string_view id);
  OpResult UpdateTeam(std::string_view id, const boost::json::object& request);
  OpResult AddMember(std::string_view team_id, std::string_view user_id);
  OpResult RemoveMember(std::string_view team_id, std::string_view user_id);

  // Roles (built-in and from config) with their permissions.
  OpResult ListRoles() const;

  // Denies a JWT id until its expiry. Fields: jti, expires_at (unix seconds; default now
  // plus 24 hours, longer than any gateway access token).
  OpResult RevokeToken(const boost::json::object& request);

  // Audit rows, newest first.
  OpResult ListAudit(const Query& query);

  // Usage sums grouped by UTC day and `group_by` (day|key|user|team|model; default day),
  // with totals. Filters: from, to (Unix ms; from inclusive, to exclusive), key_id, user_id,
  // team_id, model; `limit` groups 1..10000 (default 1000; "truncated" says more matched).
  OpResult QueryUsage(const Query& query);

  // JSON views (no hashes, no secrets).
  static boost::json::object KeyJson(const ApiKeyRecord& key);
  static boost::json::object UserJson(const UserRecord& user,
                                      const std::vector<std::string>& teams);
  static boost::json::object TeamJson(const TeamRecord& team);
  static boost::json::object AuditJson(const AuditRecord& record);

 private:
  Store& store_;
  const AccessPolicy* policy_;
};

}  // namespace sluice
