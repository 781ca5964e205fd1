// RAII wrappers over the sqlite3 C API (see sqlite_db.h). Not thread-safe: one thread at a
// time per connection.
#include "store/sqlite/sqlite_db.h"

#include <utility>

namespace sluice::sqlite {
namespace {

StoreErrorCode CodeFor(int rc) {
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return StoreErrorCode::kConflict;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return StoreErrorCode::kNotFound;
    default:
      break;
  }
  switch (rc & 0xff) {  // the primary code of an extended one
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return StoreErrorCode::kInvalid;
    default:
      return StoreErrorCode::kUnavailable;
  }
}

bool IsInMemory(const std::string& path) { return path.empty() || path == ":memory:"; }

}  // namespace

StoreError MakeError(sqlite3* db, int rc, std::string_view what) {
  std::string message(what);
  message += ": ";
  // sqlite3_errmsg describes the most recent failure on the connection; it names tables and
  // columns, never values.
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return StoreError{CodeFor(rc), std::move(message)};
}

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, int prepare_rc, std::string prepare_error)
    : db_(db), stmt_(stmt), rc_(prepare_rc), prepare_error_(std::move(prepare_error)) {}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      rc_(other.rc_),
      prepare_error_(std::move(other.prepare_error_)) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::Bind(int index, std::string_view text) {
  if (stmt_ == nullptr || rc_ != SQLITE_OK) return;
  // A null pointer would bind SQL NULL; an empty string must stay an empty string.
  const char* data = text.data() != nullptr ? text.data() : "";
  int rc = sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) rc_ = rc;
}

void Statement::Bind(int index, int64_t value) {
  if (stmt_ == nullptr || rc_ != SQLITE_OK) return;
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) rc_ = rc;
}

StoreResult<bool> Statement::Next(std::string_view what) {
  if (rc_ != SQLITE_OK || stmt_ == nullptr) {
    if (prepare_error_.empty()) return MakeError(db_, rc_ != SQLITE_OK ? rc_ : SQLITE_MISUSE, what);
    return StoreError{CodeFor(rc_), std::string(what) + ": " + prepare_error_};
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return MakeError(db_, rc, what);
}

StoreResult<void> Statement::Run(std::string_view what) {
  StoreResult<bool> row = Next(what);
  while (row.ok() && *row) row = Next(what);
  if (!row.ok()) return row.error();
  return {};
}

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::unique_ptr<Database> Database::Open(const std::string& path, int busy_timeout_ms,
                                         std::string* error) {
  sqlite3* raw = nullptr;
  // NOMUTEX: a connection is used by one thread at a time, so SQLite's own lock is waste.
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<Database> db(new Database(raw));  // private constructor; owns `raw` now
  if (rc != SQLITE_OK) {
    *error = "cannot open database " + path + ": " +
             (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    return nullptr;
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  if (!IsInMemory(path)) {
    Statement wal = db->Prepare("PRAGMA journal_mode=WAL");
    StoreResult<bool> row = wal.Next("set journal mode");
    if (!row.ok()) {
      *error = "cannot open database " + path + ": " + row.error().message;
      return nullptr;
    }
    if (!*row || wal.Text(0) != "wal") {
      *error = "cannot open database " + path +
               ": the file system does not support SQLite's WAL journal mode";
      return nullptr;
    }
  }
  StoreResult<void> pragmas =
      db->Exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", "set pragmas");
  if (!pragmas.ok()) {
    *error = "cannot open database " + path + ": " + pragmas.error().message;
    return nullptr;
  }
  return db;
}

Database::~Database() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Statement Database::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Statement(db_, it->second, SQLITE_OK, {});
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK || stmt == nullptr) {
    sqlite3_finalize(stmt);
    return Statement(db_, nullptr, rc != SQLITE_OK ? rc : SQLITE_MISUSE,
                     rc != SQLITE_OK ? sqlite3_errmsg(db_) : "empty statement");
  }
  cache_.emplace(std::string(sql), stmt);
  return Statement(db_, stmt, SQLITE_OK, {});
}

StoreResult<void> Database::Exec(const char* sql, std::string_view what) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return MakeError(db_, rc, what);
  return {};
}

int64_t Database::Changes() const { return sqlite3_changes64(db_); }

Transaction::~Transaction() {
  // A failed COMMIT or statement may already have ended the transaction.
  if (open_ && sqlite3_get_autocommit(db_.handle()) == 0) {
    (void)db_.Prepare("ROLLBACK").Run("rollback");
  }
}

StoreResult<void> Transaction::Begin() {
  StoreResult<void> begun = db_.Prepare("BEGIN IMMEDIATE").Run("begin transaction");
  open_ = begun.ok();
  return begun;
}

StoreResult<void> Transaction::Commit() {
  StoreResult<void> committed = db_.Prepare("COMMIT").Run("commit");
  if (committed.ok()) open_ = false;
  return committed;
}

}  // namespace sluice::sqlite
