// SqliteStore: refresh tokens (login sessions, one-time use) and revoked JWT ids. Not
// thread-safe: one thread at a time per instance; atomicity across instances and processes
// comes from single-statement updates.
#include <string>

#include "store/sqlite/sqlite_common.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"

namespace sluice {

using sqlite::Statement;

StoreResult<void> SqliteStore::InsertRefreshToken(const RefreshTokenRecord& token) {
  if (token.id.empty()) return sqlite::Invalid("refresh token id is empty");
  if (token.token_hash.empty()) {
    return sqlite::Invalid("refresh token " + token.id + ": hash is empty");
  }
  Statement stmt = db_->Prepare(
      "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at, "
      "used_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  stmt.Bind(1, token.id);
  stmt.Bind(2, token.family_id);
  stmt.Bind(3, token.user_id);
  stmt.Bind(4, token.token_hash);
  stmt.Bind(5, token.created_at);
  stmt.Bind(6, token.expires_at);
  stmt.Bind(7, token.used_at);
  stmt.Bind(8, token.revoked_at);
  return stmt.Run("insert refresh token");
}

StoreResult<std::optional<RefreshTokenRecord>> SqliteStore::FindRefreshToken(
    std::string_view token_hash) {
  Statement stmt = db_->Prepare(
      "SELECT id, family_id, user_id, token_hash, created_at, expires_at, used_at, revoked_at "
      "FROM refresh_tokens WHERE token_hash = ?1");
  stmt.Bind(1, token_hash);
  StoreResult<bool> row = stmt.Next("find refresh token");
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<RefreshTokenRecord>();
  RefreshTokenRecord token;
  token.id = stmt.Text(0);
  token.family_id = stmt.Text(1);
  token.user_id = stmt.Text(2);
  token.token_hash = stmt.Text(3);
  token.created_at = stmt.Int(4);
  token.expires_at = stmt.Int(5);
  token.used_at = stmt.Int(6);
  token.revoked_at = stmt.Int(7);
  return std::optional<RefreshTokenRecord>(std::move(token));
}

StoreResult<bool> SqliteStore::UseRefreshToken(std::string_view id, int64_t now) {
  // used_at = 0 means unused, so a zero time would let the token be used again.
  if (now <= 0) return sqlite::Invalid("refresh token use time must be positive");
  // One statement under SQLite's write lock: of two concurrent callers (any connection or
  // process), exactly one changes the row. An unknown id also yields false.
  Statement stmt = db_->Prepare(
      "UPDATE refresh_tokens SET used_at = ?2 WHERE id = ?1 AND used_at = 0 AND revoked_at = 0");
  stmt.Bind(1, id);
  stmt.Bind(2, now);
  StoreResult<void> done = stmt.Run("use refresh token");
  if (!done.ok()) return done.error();
  return db_->Changes() == 1;
}

StoreResult<void> SqliteStore::RevokeRefreshFamily(std::string_view family_id, int64_t now) {
  if (now <= 0) return sqlite::Invalid("revocation time must be positive");
  Statement stmt = db_->Prepare(
      "UPDATE refresh_tokens SET revoked_at = ?2 WHERE family_id = ?1 AND revoked_at = 0");
  stmt.Bind(1, family_id);
  stmt.Bind(2, now);
  return stmt.Run("revoke refresh token family");
}

StoreResult<void> SqliteStore::RevokeTokenId(std::string_view jti, int64_t expires_at) {
  if (jti.empty()) return sqlite::Invalid("token id is empty");
  // Revoking twice keeps the later expiry; 0 (a token without expiry) stays denied forever.
  Statement stmt = db_->Prepare(
      "INSERT INTO revoked_token_ids (jti, expires_at) VALUES (?1, ?2) "
      "ON CONFLICT (jti) DO UPDATE SET expires_at = CASE "
      "WHEN expires_at = 0 OR excluded.expires_at = 0 THEN 0 "
      "ELSE max(expires_at, excluded.expires_at) END");
  stmt.Bind(1, jti);
  stmt.Bind(2, expires_at);
  return stmt.Run("revoke token id");
}

StoreResult<std::vector<std::string>> SqliteStore::ListRevokedTokenIds(int64_t now) {
  {
    // Pruning is housekeeping: if it fails (e.g. another writer holds the lock past the
    // timeout), the ids are still listed correctly below and the next call prunes.
    Statement prune =
        db_->Prepare("DELETE FROM revoked_token_ids WHERE expires_at <> 0 AND expires_at <= ?1");
    prune.Bind(1, now);
    (void)prune.Run("prune revoked token ids");
  }
  Statement stmt = db_->Prepare(
      "SELECT jti FROM revoked_token_ids WHERE expires_at = 0 OR expires_at > ?1 ORDER BY jti");
  stmt.Bind(1, now);
  std::vector<std::string> ids;
  for (;;) {
    StoreResult<bool> row = stmt.Next("list revoked token ids");
    if (!row.ok()) return row.error();
    if (!*row) break;
    ids.push_back(stmt.Text(0));
  }
  return ids;
}

}  // namespace sluice
