// SqliteStore: opening (pragmas, migrations) and the settings table. The other table groups
// live in sqlite_keys.cc, sqlite_users.cc, sqlite_tokens.cc and sqlite_audit.cc. Not
// thread-safe: one thread at a time per instance.
#include "store/sqlite/sqlite_store.h"

#include <utility>

#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_common.h"
#include "store/sqlite/sqlite_db.h"

namespace sluice {

using sqlite::Statement;

std::unique_ptr<SqliteStore> SqliteStore::Open(const std::string& path, std::string* error) {
  return Open(path, Options{}, error);
}

std::unique_ptr<SqliteStore> SqliteStore::Open(const std::string& path, const Options& options,
                                               std::string* error) {
  std::unique_ptr<sqlite::Database> db =
      sqlite::Database::Open(path, options.busy_timeout_ms, error);
  if (db == nullptr) return nullptr;
  std::string migrate_error;
  if (!sqlite::ApplyMigrations(*db, sqlite::Migrations(), &migrate_error)) {
    *error = "cannot open database " + path + ": " + migrate_error;
    return nullptr;
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(db)));
}

SqliteStore::SqliteStore(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}

SqliteStore::~SqliteStore() = default;

int SqliteStore::CompiledStatementsForTesting() const { return db_->cached_statements(); }

StoreResult<std::optional<std::string>> SqliteStore::GetSetting(std::string_view name) {
  Statement stmt = db_->Prepare("SELECT value FROM settings WHERE name = ?1");
  stmt.Bind(1, name);
  StoreResult<bool> row = stmt.Next("get setting");
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(stmt.Text(0));
}

StoreResult<void> SqliteStore::PutSetting(std::string_view name, std::string_view value) {
  if (name.empty()) return sqlite::Invalid("setting name is empty");
  Statement stmt = db_->Prepare(
      "INSERT INTO settings (name, value) VALUES (?1, ?2) "
      "ON CONFLICT (name) DO UPDATE SET value = excluded.value");
  stmt.Bind(1, name);
  stmt.Bind(2, value);
  return stmt.Run("put setting");
}

}  // namespace sluice
