// The SQLite schema of the store as ordered migrations. Stateless; see migrations.h.
//
// Schema (version 1; versions 2 and 3 below). Times are Unix seconds, 0 = never/not set, except
// audit_log.time_ms and usage_records.time_ms.
// Every column is NOT NULL: absent strings are '' and lists '[]', so rows map 1:1 to the
// records in store/store.h.
//   schema_migrations(version PK, applied_at)   one row per applied script
//   api_keys(id PK, name, hash UNIQUE, prefix, user_id, team_id, roles JSON array, tier,
//            allowed_models JSON array, metadata JSON object, created_at, expires_at,
//            revoked_at, last_used_at, request_count)
//            indexes (user_id, id), (team_id, id): ListKeys by owner in id order
//   users(id PK, username UNIQUE, email, password_hash, disabled 0/1, roles JSON array, tier,
//         created_at, updated_at)
//   teams(id PK, name UNIQUE, tier, created_at)
//   team_members(team_id FK teams, user_id FK users, PK (team_id, user_id), both ON DELETE
//                CASCADE) without rowid; index (user_id, team_id) for ListUserTeams
//   refresh_tokens(id PK, family_id, user_id, token_hash UNIQUE, created_at, expires_at,
//                  used_at, revoked_at); index family_id
//   revoked_token_ids(jti PK, expires_at) without rowid; index expires_at for pruning
//   audit_log(id PK, time_ms, principal, key_prefix, action, target, result, client_ip,
//             request_id, details JSON object); listed newest first by (time_ms, id);
//             indexes (time_ms, id), (principal, time_ms, id), (action, time_ms, id)
//   settings(name PK, value) without rowid
// Version 2 (usage accounting):
//   usage_records(request_id PK, time_ms, day (UTC days since 1970-01-01, = time_ms div
//                 86400000), key_id, user_id, team_id, model_requested, model_served,
//                 backend, prompt/completion/cached tokens, tokens_estimated 0/1,
//                 cost_micros, status, error_class, latency_ms, ttft_ms, stream 0/1,
//                 cache_hit 0/1, client_disconnected 0/1, experiment_arm) without rowid;
//                 indexes (time_ms), (key_id, time_ms), (user_id, time_ms),
//                 (team_id, time_ms), (model_requested, time_ms): every report filters a
//                 time range, usually for one principal or model
// Version 3 (per-key limit overrides, core/key_limits.h): api_keys gains
//   limit_requests_per_minute, limit_tokens_per_minute, limit_concurrency,
//   limit_budget_usd_micros, limit_budget_usd_period ('day'|'week'|'month'),
//   limit_budget_tokens, limit_budget_tokens_period; 0 = not overridden, so existing keys
//   read back with no overrides. Columns rather than one JSON blob: typed, NOT NULL like the
//   rest of the row, and each maps to one KeyLimits field.
// Add a migration by appending to kMigrations; never edit one that has shipped.
#include "store/sqlite/migrations.h"

#include <cstdint>

namespace sluice::sqlite {
namespace {

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  user_id TEXT NOT NULL,
  team_id TEXT NOT NULL,
  roles TEXT NOT NULL,
  tier TEXT NOT NULL,
  allowed_models TEXT NOT NULL,
  metadata TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  request_count INTEGER NOT NULL
);
CREATE INDEX api_keys_by_user ON api_keys(user_id, id);
CREATE INDEX api_keys_by_team ON api_keys(team_id, id);

CREATE TABLE users (
  id TEXT PRIMARY KEY NOT NULL,
  username TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL,
  roles TEXT NOT NULL,
  tier TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE teams (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL UNIQUE,
  tier TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE team_members (
  team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, user_id)
) WITHOUT ROWID;
CREATE INDEX team_members_by_user ON team_members(user_id, team_id);

CREATE TABLE refresh_tokens (
  id TEXT PRIMARY KEY NOT NULL,
  family_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens(family_id);

CREATE TABLE revoked_token_ids (
  jti TEXT PRIMARY KEY NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_token_ids_by_expiry ON revoked_token_ids(expires_at);

CREATE TABLE audit_log (
  id TEXT PRIMARY KEY NOT NULL,
  time_ms INTEGER NOT NULL,
  principal TEXT NOT NULL,
  key_prefix TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  result TEXT NOT NULL,
  client_ip TEXT NOT NULL,
  request_id TEXT NOT NULL,
  details TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log(time_ms, id);
CREATE INDEX audit_log_by_principal ON audit_log(principal, time_ms, id);
CREATE INDEX audit_log_by_action ON audit_log(action, time_ms, id);

CREATE TABLE settings (
  name TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) WITHOUT ROWID;
)sql";

constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE usage_records (
  request_id TEXT PRIMARY KEY NOT NULL,
  time_ms INTEGER NOT NULL,
  day INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  team_id TEXT NOT NULL,
  model_requested TEXT NOT NULL,
  model_served TEXT NOT NULL,
  backend TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cached_tokens INTEGER NOT NULL,
  tokens_estimated INTEGER NOT NULL,
  cost_micros INTEGER NOT NULL,
  status INTEGER NOT NULL,
  error_class TEXT NOT NULL,
  latency_ms INTEGER NOT NULL,
  ttft_ms INTEGER NOT NULL,
  stream INTEGER NOT NULL,
  cache_hit INTEGER NOT NULL,
  client_disconnected INTEGER NOT NULL,
  experiment_arm TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX usage_records_by_time ON usage_records(time_ms);
CREATE INDEX usage_records_by_key ON usage_records(key_id, time_ms);
CREATE INDEX usage_records_by_user ON usage_records(user_id, time_ms);
CREATE INDEX usage_records_by_team ON usage_records(team_id, time_ms);
CREATE INDEX usage_records_by_model ON usage_records(model_requested, time_ms);
)sql";

constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE api_keys ADD COLUMN limit_requests_per_minute INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN limit_tokens_per_minute INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN limit_concurrency INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN limit_budget_usd_micros INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN limit_budget_usd_period TEXT NOT NULL DEFAULT 'month';
ALTER TABLE api_keys ADD COLUMN limit_budget_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN limit_budget_tokens_period TEXT NOT NULL DEFAULT 'month';
)sql";

constexpr Migration kMigrations[] = {
    {1, kSchemaV1},
    {2, kSchemaV2},
    {3, kSchemaV3},
};

StoreResult<int64_t> CurrentVersion(Database& db) {
  Statement stmt = db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  StoreResult<bool> row = stmt.Next("read schema version");
  if (!row.ok()) return row.error();
  return *row ? stmt.Int(0) : 0;
}

std::string NewerError(int64_t found, int known) {
  return "the database has schema version " + std::to_string(found) +
         ", newer than this build of sluice knows (" + std::to_string(known) +
         "); use a newer sluice";
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

bool ApplyMigrations(Database& db, std::span<const Migration> migrations, std::string* error) {
  StoreResult<void> created = db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
      "create schema_migrations");
  if (!created.ok()) {
    *error = created.error().message;
    return false;
  }
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  StoreResult<int64_t> current = CurrentVersion(db);
  if (!current.ok()) {
    *error = current.error().message;
    return false;
  }
  if (*current > latest) {
    *error = NewerError(*current, latest);
    return false;
  }
  if (*current == latest) return true;  // the usual open: no write lock taken

  for (const Migration& migration : migrations) {
    Transaction txn(db);
    StoreResult<void> begun = txn.Begin();
    if (!begun.ok()) {
      *error = begun.error().message;
      return false;
    }
    // Re-read under the write lock: another process may have migrated meanwhile.
    current = CurrentVersion(db);
    if (!current.ok()) {
      *error = current.error().message;
      return false;
    }
    if (*current > latest) {
      *error = NewerError(*current, latest);
      return false;
    }
    if (migration.version <= *current) continue;
    const std::string what = "apply schema migration " + std::to_string(migration.version);
    StoreResult<void> applied = db.Exec(migration.sql, what);
    if (applied.ok()) {
      Statement record = db.Prepare(
          "INSERT INTO schema_migrations (version, applied_at) "
          "VALUES (?1, CAST(strftime('%s', 'now') AS INTEGER))");
      record.Bind(1, static_cast<int64_t>(migration.version));
      applied = record.Run(what);
    }
    if (applied.ok()) applied = txn.Commit();
    if (!applied.ok()) {
      *error = applied.error().message;
      return false;
    }
  }
  return true;
}

}  // namespace sluice::sqlite
