// The persistent state of Sluice behind one interface: API keys, users, teams and their
// members, refresh tokens, revoked token ids, the audit log, usage records and a small
// key/value table.
// The SQLite backend (store/sqlite) implements it today; PostgreSQL will later. Calls
// block: on the request path they run on the store's own thread (see BlockingPool), never
// on a worker's event loop. Implementations are safe to call from one thread at a time
// (the store thread); the CLI uses its own instance.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/key_limits.h"
#include "store/store_result.h"

namespace sluice {

// Times are Unix seconds (UTC); 0 means "never" / "not set".
struct ApiKeyRecord {
  std::string id;  // "key_" + 24 hex digits
  std::string name;
  std::string hash;     // SHA-256 of the whole secret, lowercase hex; the secret is never stored
  std::string prefix;   // display form, e.g. "sk-sl-4fQk…9xYz" (not enough to use the key)
  std::string user_id;  // owner: a user, a team, or both; empty when not set
  std::string team_id;
  std::vector<std::string> roles;
  std::string tier;                         // empty: the default tier
  std::vector<std::string> allowed_models;  // names or globs; empty: what the tier allows
  std::string metadata_json = "{}";         // a JSON object, opaque to the store
  KeyLimits limits;                         // overrides of the limit policies; empty: none
  int64_t created_at = 0;
  int64_t expires_at = 0;
  int64_t revoked_at = 0;
  int64_t last_used_at = 0;
  int64_t request_count = 0;
};

struct UserRecord {
  std::string id;        // "usr_" + 24 hex digits
  std::string username;  // unique, case-sensitive
  std::string email;
  std::string password_hash;  // argon2id string (libsodium format); empty: no password login
  bool disabled = false;
  std::vector<std::string> roles;
  std::string tier;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct TeamRecord {
  std::string id;    // "team_" + 24 hex digits
  std::string name;  // unique
  std::string tier;
  int64_t created_at = 0;
};

struct RefreshTokenRecord {
  std::string id;         // "rt_" + 24 hex digits
  std::string family_id;  // all tokens descending from one login
  std::string user_id;
  std::string token_hash;  // SHA-256 hex of the token; the token is never stored
  int64_t created_at = 0;
  int64_t expires_at = 0;
  int64_t used_at = 0;  // set once, when exchanged for a new pair
  int64_t revoked_at = 0;
};

struct AuditRecord {
  std::string id;  // "aud_" + 24 hex digits
  int64_t time_ms = 0;
  std::string principal;   // "key:<id>", "user:<id>", "jwt:<issuer>:<subject>", "cli", "anonymous"
  std::string key_prefix;  // display prefix of the key used, if any
  std::string action;      // e.g. "key.create", "auth.failure", "login", "permission.denied"
  std::string target;      // what the action was about, e.g. "key:key_…"
  std::string result;      // "ok", "denied", "error", ...
  std::string client_ip;
  std::string request_id;
  std::string details_json = "{}";  // never contains secrets
};

// Keyset pagination: results are ordered by id; pass the last id seen as `after`.
struct Page {
  int limit = 50;  // 1..1000
  std::string after;
};

struct KeyFilter {
  std::string user_id;
  std::string team_id;
  std::optional<bool> revoked;  // nullopt: both
};

struct UserFilter {
  std::string team_id;
  std::optional<bool> disabled;
};

struct AuditFilter {
  std::string principal;
  std::string action;  // exact, or a prefix ending in '.', e.g. "key."
  std::string target;
  std::string result;
  int64_t since_ms = 0;  // inclusive
  int64_t until_ms = 0;  // exclusive; 0: no upper bound
};

// Accumulated use of one key, flushed in batches.
struct KeyUsageDelta {
  std::string key_id;
  int64_t last_used_at = 0;
  int64_t requests = 0;
};

// One request's usage, as journaled by the gateway (usage/usage_journal.h) and exported
// here idempotently by request id. Times are Unix milliseconds (UTC); cost is in
// micro-dollars (1e-6 USD). Absent strings are empty.
struct UsageRecord {
  std::string request_id;  // unique; the idempotency key of the export
  int64_t time_ms = 0;     // when the request arrived
  std::string key_id;      // principal: the API key, its user and team (any may be empty)
  std::string user_id;
  std::string team_id;
  std::string model_requested;  // the model name the client asked for
  std::string model_served;     // the upstream model that answered
  std::string backend;          // the backend (provider endpoint) that answered
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
  bool tokens_estimated = false;  // true: the upstream sent no usage; tokens are estimates
  int64_t cost_micros = 0;
  int32_t status = 0;       // HTTP status sent to the client
  std::string error_class;  // empty on success, e.g. "upstream_timeout", "client_disconnect"
  int64_t latency_ms = 0;   // arrival to last byte
  int64_t ttft_ms = 0;      // arrival to first response byte / first SSE event; 0 if none
  bool stream = false;
  bool cache_hit = false;
  bool client_disconnected = false;
  std::string experiment_arm;  // may be empty

  bool operator==(const UsageRecord&) const = default;
};

// Which usage rows to aggregate. Empty strings and zero times do not filter.
struct UsageFilter {
  int64_t from_ms = 0;  // inclusive
  int64_t to_ms = 0;    // exclusive; 0: no upper bound
  std::string key_id;
  std::string user_id;
  std::string team_id;
  std::string model;  // matches model_requested (the public model name)
};

// The second grouping dimension of a usage report; every report is grouped by UTC day.
enum class UsageGroupBy { kDay, kKey, kUser, kTeam, kModel };

// Sums over a set of usage rows. A request is an error when its status is >= 400 or it has
// an error class (client disconnects included).
struct UsageSums {
  int64_t requests = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
  int64_t cost_micros = 0;
  int64_t errors = 0;

  bool operator==(const UsageSums&) const = default;
};

struct UsageGroupRow {
  std::string day;    // UTC date, "YYYY-MM-DD"
  std::string group;  // key id, user id, team id or model; empty for UsageGroupBy::kDay
  UsageSums sums;
};

struct UsageReport {
  std::vector<UsageGroupRow> rows;  // ordered by day, then group
  UsageSums totals;                 // over every matching row, also when rows are truncated
  bool truncated = false;           // more groups matched than `limit`
};

class Store {
 public:
  virtual ~Store() = default;

  // --- API keys.
  virtual StoreResult<void> InsertKey(const ApiKeyRecord& key) = 0;  // kConflict on id/hash
  virtual StoreResult<std::optional<ApiKeyRecord>> GetKey(std::string_view id) = 0;
  virtual StoreResult<std::optional<ApiKeyRecord>> FindKeyByHash(std::string_view hash) = 0;
  virtual StoreResult<std::vector<ApiKeyRecord>> ListKeys(const KeyFilter& filter,
                                                          const Page& page) = 0;
  // Replaces name, user_id, team_id, roles, tier, allowed_models, metadata_json, limits,
  // expires_at and hash/prefix (rotation). kNotFound when absent.
  virtual StoreResult<void> UpdateKey(const ApiKeyRecord& key) = 0;
  // Sets revoked_at if not yet revoked. kNotFound when absent.
  virtual StoreResult<void> RevokeKey(std::string_view id, int64_t now) = 0;
  // Adds the request counts and raises last_used_at, in one transaction.
  virtual StoreResult<void> RecordKeyUsage(const std::vector<KeyUsageDelta>& deltas) = 0;

  // --- Users.
  virtual StoreResult<void> InsertUser(const UserRecord& user) = 0;  // kConflict on username
  virtual StoreResult<std::optional<UserRecord>> GetUser(std::string_view id) = 0;
  virtual StoreResult<std::optional<UserRecord>> FindUserByName(std::string_view username) = 0;
  virtual StoreResult<std::vector<UserRecord>> ListUsers(const UserFilter& filter,
                                                         const Page& page) = 0;
  // Replaces email, password_hash, disabled, roles, tier, updated_at.
  virtual StoreResult<void> UpdateUser(const UserRecord& user) = 0;

  // --- Teams and membership.
  virtual StoreResult<void> InsertTeam(const TeamRecord& team) = 0;  // kConflict on name
  virtual StoreResult<std::optional<TeamRecord>> GetTeam(std::string_view id) = 0;
  virtual StoreResult<std::vector<TeamRecord>> ListTeams(const Page& page) = 0;
  virtual StoreResult<void> UpdateTeam(const TeamRecord& team) = 0;
  virtual StoreResult<void> AddTeamMember(std::string_view team_id, std::string_view user_id) = 0;
  virtual StoreResult<void> RemoveTeamMember(std::string_view team_id,
                                             std::string_view user_id) = 0;
  virtual StoreResult<std::vector<std::string>> ListUserTeams(std::string_view user_id) = 0;

  // --- Refresh tokens (login sessions).
  virtual StoreResult<void> InsertRefreshToken(const RefreshTokenRecord& token) = 0;
  virtual StoreResult<std::optional<RefreshTokenRecord>> FindRefreshToken(
      std::string_view token_hash) = 0;
  // Atomically marks the token used. Returns false if it was already used or revoked (the
  // caller then treats it as reuse and revokes the family).
  virtual StoreResult<bool> UseRefreshToken(std::string_view id, int64_t now) = 0;
  virtual StoreResult<void> RevokeRefreshFamily(std::string_view family_id, int64_t now) = 0;

  // --- Revoked JWT ids, denied until the token's own expiry.
  virtual StoreResult<void> RevokeTokenId(std::string_view jti, int64_t expires_at) = 0;
  // Every revoked id that has not expired at `now` (loaded into memory by the gateway).
  virtual StoreResult<std::vector<std::string>> ListRevokedTokenIds(int64_t now) = 0;

  // --- Audit log (append-only).
  virtual StoreResult<void> AppendAudit(const std::vector<AuditRecord>& records) = 0;
  // Newest first: by time_ms, then id, descending. `page.after` is the last id seen
  // (kInvalid when no record has that id).
  virtual StoreResult<std::vector<AuditRecord>> ListAudit(const AuditFilter& filter,
                                                          const Page& page) = 0;

  // --- Small settings (e.g. the login token signing secret, bootstrap markers).
  virtual StoreResult<std::optional<std::string>> GetSetting(std::string_view name) = 0;
  virtual StoreResult<void> PutSetting(std::string_view name, std::string_view value) = 0;

  // --- Usage records (written by the usage exporter; queried by the admin API and CLI).
  // Not pure: stores that do not keep usage answer kUnavailable.
  // Inserts the records that are not there yet (by request_id; an exported-twice record is
  // stored once), in one transaction. kInvalid (nothing written) when a request id is empty.
  virtual StoreResult<void> PutUsage(const std::vector<UsageRecord>& records);
  // Sums grouped by UTC day and `group_by`, at most `limit` groups (1..10000).
  virtual StoreResult<UsageReport> QueryUsage(const UsageFilter& filter, UsageGroupBy group_by,
                                              int limit);
  // The sums of every row matching `filter` (e.g. one key's own usage since a time).
  virtual StoreResult<UsageSums> UsageTotals(const UsageFilter& filter);
};

inline StoreResult<void> Store::PutUsage(const std::vector<UsageRecord>&) {
  return StoreError{StoreErrorCode::kUnavailable, "this store does not keep usage records"};
}
inline StoreResult<UsageReport> Store::QueryUsage(const UsageFilter&, UsageGroupBy, int) {
  return StoreError{StoreErrorCode::kUnavailable, "this store does not keep usage records"};
}
inline StoreResult<UsageSums> Store::UsageTotals(const UsageFilter&) {
  return StoreError{StoreErrorCode::kUnavailable, "this store does not keep usage records"};
}

}  // namespace sluice
