// SqliteStore: the api_keys table (insert, lookups, keyset-paginated listing, update with
// the key's limit overrides, revocation, batched usage). Not thread-safe: one thread at a
// time per instance.
#include <string>

#include "store/sqlite/sqlite_common.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/string_list.h"

namespace sluice {
namespace {

using sqlite::Statement;

constexpr char kSelectKey[] =
    "SELECT id, name, hash, prefix, user_id, team_id, roles, tier, allowed_models, metadata, "
    "created_at, expires_at, revoked_at, last_used_at, request_count, "
    "limit_requests_per_minute, limit_tokens_per_minute, limit_concurrency, "
    "limit_budget_usd_micros, limit_budget_usd_period, limit_budget_tokens, "
    "limit_budget_tokens_period FROM api_keys ";

StoreResult<ApiKeyRecord> ReadKey(const Statement& stmt) {
  ApiKeyRecord key;
  key.id = stmt.Text(0);
  key.name = stmt.Text(1);
  key.hash = stmt.Text(2);
  key.prefix = stmt.Text(3);
  key.user_id = stmt.Text(4);
  key.team_id = stmt.Text(5);
  if (!sqlite::DecodeStringList(stmt.Text(6), &key.roles) ||
      !sqlite::DecodeStringList(stmt.Text(8), &key.allowed_models)) {
    return sqlite::Corrupt("api key " + key.id + ": stored list is not a JSON array of strings");
  }
  key.tier = stmt.Text(7);
  key.metadata_json = stmt.Text(9);
  key.created_at = stmt.Int(10);
  key.expires_at = stmt.Int(11);
  key.revoked_at = stmt.Int(12);
  key.last_used_at = stmt.Int(13);
  key.request_count = stmt.Int(14);
  key.limits.requests_per_minute = stmt.Int(15);
  key.limits.tokens_per_minute = stmt.Int(16);
  key.limits.concurrency = stmt.Int(17);
  key.limits.budget_usd_micros = stmt.Int(18);
  std::optional<KeyLimitPeriod> usd_period = ParseKeyLimitPeriod(stmt.Text(19));
  key.limits.budget_tokens = stmt.Int(20);
  std::optional<KeyLimitPeriod> tokens_period = ParseKeyLimitPeriod(stmt.Text(21));
  if (!usd_period || !tokens_period) {
    return sqlite::Corrupt("api key " + key.id +
                           ": stored budget period is not day, week or month");
  }
  key.limits.budget_usd_period = *usd_period;
  key.limits.budget_tokens_period = *tokens_period;
  return key;
}

std::optional<StoreError> CheckKey(const ApiKeyRecord& key) {
  if (key.id.empty()) return sqlite::Invalid("api key id is empty");
  if (key.hash.empty()) return sqlite::Invalid("api key " + key.id + ": hash is empty");
  if (!sqlite::IsJsonObject(key.metadata_json)) {
    return sqlite::Invalid("api key " + key.id + ": metadata is not a JSON object");
  }
  const KeyLimits& limits = key.limits;
  if (limits.requests_per_minute < 0 || limits.tokens_per_minute < 0 || limits.concurrency < 0 ||
      limits.budget_usd_micros < 0 || limits.budget_tokens < 0) {
    return sqlite::Invalid("api key " + key.id + ": a limit is negative");
  }
  return std::nullopt;
}

StoreResult<std::optional<ApiKeyRecord>> ReadOptionalKey(Statement& stmt, std::string_view what) {
  StoreResult<bool> row = stmt.Next(what);
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<ApiKeyRecord>();
  StoreResult<ApiKeyRecord> key = ReadKey(stmt);
  if (!key.ok()) return key.error();
  return std::optional<ApiKeyRecord>(std::move(*key));
}

// Parameters ?1..?10 and ?16..?22, shared by INSERT and UPDATE: id, name, hash, prefix,
// user_id, team_id, roles, tier, allowed_models, metadata, then the seven limit columns.
void BindKeyFields(Statement& stmt, const ApiKeyRecord& key) {
  stmt.Bind(1, key.id);
  stmt.Bind(2, key.name);
  stmt.Bind(3, key.hash);
  stmt.Bind(4, key.prefix);
  stmt.Bind(5, key.user_id);
  stmt.Bind(6, key.team_id);
  stmt.Bind(7, sqlite::EncodeStringList(key.roles));
  stmt.Bind(8, key.tier);
  stmt.Bind(9, sqlite::EncodeStringList(key.allowed_models));
  stmt.Bind(10, key.metadata_json);
  const KeyLimits& limits = key.limits;
  stmt.Bind(16, limits.requests_per_minute);
  stmt.Bind(17, limits.tokens_per_minute);
  stmt.Bind(18, limits.concurrency);
  stmt.Bind(19, limits.budget_usd_micros);
  stmt.Bind(20, KeyLimitPeriodName(limits.budget_usd_period));
  stmt.Bind(21, limits.budget_tokens);
  stmt.Bind(22, KeyLimitPeriodName(limits.budget_tokens_period));
}

}  // namespace

StoreResult<void> SqliteStore::InsertKey(const ApiKeyRecord& key) {
  if (std::optional<StoreError> invalid = CheckKey(key)) return *invalid;
  Statement stmt = db_->Prepare(
      "INSERT INTO api_keys (id, name, hash, prefix, user_id, team_id, roles, tier, "
      "allowed_models, metadata, created_at, expires_at, revoked_at, last_used_at, "
      "request_count, limit_requests_per_minute, limit_tokens_per_minute, limit_concurrency, "
      "limit_budget_usd_micros, limit_budget_usd_period, limit_budget_tokens, "
      "limit_budget_tokens_period) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
      "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)");
  BindKeyFields(stmt, key);
  stmt.Bind(11, key.created_at);
  stmt.Bind(12, key.expires_at);
  stmt.Bind(13, key.revoked_at);
  stmt.Bind(14, key.last_used_at);
  stmt.Bind(15, key.request_count);
  return stmt.Run("insert api key");
}

StoreResult<std::optional<ApiKeyRecord>> SqliteStore::GetKey(std::string_view id) {
  static const std::string kSql = std::string(kSelectKey) + "WHERE id = ?1";
  Statement stmt = db_->Prepare(kSql);
  stmt.Bind(1, id);
  return ReadOptionalKey(stmt, "get api key");
}

StoreResult<std::optional<ApiKeyRecord>> SqliteStore::FindKeyByHash(std::string_view hash) {
  static const std::string kSql = std::string(kSelectKey) + "WHERE hash = ?1";
  Statement stmt = db_->Prepare(kSql);
  stmt.Bind(1, hash);
  return ReadOptionalKey(stmt, "find api key");
}

StoreResult<std::vector<ApiKeyRecord>> SqliteStore::ListKeys(const KeyFilter& filter,
                                                             const Page& page) {
  if (std::optional<StoreError> invalid = sqlite::CheckPage(page)) return *invalid;
  // Numbered parameters keep the binding the same whichever clauses are present; each
  // combination of clauses is a distinct SQL text, compiled once.
  std::string sql = kSelectKey;
  sql += "WHERE id > ?1";
  if (!filter.user_id.empty()) sql += " AND user_id = ?2";
  if (!filter.team_id.empty()) sql += " AND team_id = ?3";
  if (filter.revoked.has_value())
    sql += *filter.revoked ? " AND revoked_at <> 0" : " AND revoked_at = 0";
  sql += " ORDER BY id LIMIT ?4";
  Statement stmt = db_->Prepare(sql);
  stmt.Bind(1, page.after);
  stmt.Bind(2, filter.user_id);
  stmt.Bind(3, filter.team_id);
  stmt.Bind(4, static_cast<int64_t>(page.limit));
  std::vector<ApiKeyRecord> keys;
  for (;;) {
    StoreResult<bool> row = stmt.Next("list api keys");
    if (!row.ok()) return row.error();
    if (!*row) break;
    StoreResult<ApiKeyRecord> key = ReadKey(stmt);
    if (!key.ok()) return key.error();
    keys.push_back(std::move(*key));
  }
  return keys;
}

StoreResult<void> SqliteStore::UpdateKey(const ApiKeyRecord& key) {
  if (std::optional<StoreError> invalid = CheckKey(key)) return *invalid;
  Statement stmt = db_->Prepare(
      "UPDATE api_keys SET name = ?2, hash = ?3, prefix = ?4, user_id = ?5, team_id = ?6, "
      "roles = ?7, tier = ?8, allowed_models = ?9, metadata = ?10, expires_at = ?11, "
      "limit_requests_per_minute = ?16, limit_tokens_per_minute = ?17, limit_concurrency = ?18, "
      "limit_budget_usd_micros = ?19, limit_budget_usd_period = ?20, limit_budget_tokens = ?21, "
      "limit_budget_tokens_period = ?22 WHERE id = ?1");
  BindKeyFields(stmt, key);
  stmt.Bind(11, key.expires_at);
  StoreResult<void> done = stmt.Run("update api key");
  if (!done.ok()) return done;
  if (db_->Changes() == 0) return sqlite::NotFound("api key " + key.id + " not found");
  return {};
}

StoreResult<void> SqliteStore::RevokeKey(std::string_view id, int64_t now) {
  if (now <= 0) return sqlite::Invalid("revocation time must be positive");
  // The row counts as changed even when already revoked, so 0 changes means absent.
  Statement stmt = db_->Prepare(
      "UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ?2 ELSE revoked_at END "
      "WHERE id = ?1");
  stmt.Bind(1, id);
  stmt.Bind(2, now);
  StoreResult<void> done = stmt.Run("revoke api key");
  if (!done.ok()) return done;
  if (db_->Changes() == 0) return sqlite::NotFound("api key " + std::string(id) + " not found");
  return {};
}

StoreResult<void> SqliteStore::RecordKeyUsage(const std::vector<KeyUsageDelta>& deltas) {
  for (const KeyUsageDelta& delta : deltas) {
    if (delta.key_id.empty()) return sqlite::Invalid("key usage without a key id");
    if (delta.requests < 0) {
      return sqlite::Invalid("key usage of " + delta.key_id + ": negative request count");
    }
  }
  if (deltas.empty()) return {};
  sqlite::Transaction txn(*db_);
  if (StoreResult<void> begun = txn.Begin(); !begun.ok()) return begun;
  for (const KeyUsageDelta& delta : deltas) {
    // Keys that no longer exist are skipped: usage of a deleted key has nowhere to go.
    Statement stmt = db_->Prepare(
        "UPDATE api_keys SET last_used_at = max(last_used_at, ?2), "
        "request_count = request_count + ?3 WHERE id = ?1");
    stmt.Bind(1, delta.key_id);
    stmt.Bind(2, delta.last_used_at);
    stmt.Bind(3, delta.requests);
    if (StoreResult<void> done = stmt.Run("record key usage"); !done.ok()) return done;
  }
  return txn.Commit();
}

}  // namespace sluice
