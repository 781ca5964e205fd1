// Tests of schema migrations and connection set-up: a fresh file gets every version once, a
// reopen applies nothing, a database from a newer build is refused, only missing scripts
// run, a failing script leaves no trace, connections get WAL and foreign keys, and keys made
// before version 3 read back without limit overrides.
#include "store/sqlite/migrations.h"

#include <gtest/gtest.h>

#include <string>

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/store_test_util.h"

namespace sluice::sqlite {
namespace {

std::unique_ptr<Database> OpenRaw(const std::string& path) {
  std::string error;
  std::unique_ptr<Database> db = Database::Open(path, 5000, &error);
  EXPECT_NE(db, nullptr) << error;
  return db;
}

int64_t QueryInt(Database& db, const char* sql) {
  Statement stmt = db.Prepare(sql);
  StoreResult<bool> row = stmt.Next("query");
  EXPECT_TRUE(row.ok()) << row.error().message;
  EXPECT_TRUE(row.ok() && *row) << sql;
  return row.ok() && *row ? stmt.Int(0) : -1;
}

std::string QueryText(Database& db, const char* sql) {
  Statement stmt = db.Prepare(sql);
  StoreResult<bool> row = stmt.Next("query");
  EXPECT_TRUE(row.ok() && *row) << sql;
  return row.ok() && *row ? stmt.Text(0) : "";
}

bool TableExists(Database& db, const std::string& name) {
  Statement stmt = db.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
  stmt.Bind(1, name);
  StoreResult<bool> row = stmt.Next("query");
  return row.ok() && *row;
}

TEST(SqliteStoreMigrations, FreshFileGetsEveryVersionOnceAndReopenAppliesNothing) {
  TempDbPath path("migrations_fresh");
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(path.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->InsertKey(MakeKey("key_a")).ok());
  }
  int64_t applied_at = 0;
  {
    std::unique_ptr<Database> db = OpenRaw(path.path());
    ASSERT_NE(db, nullptr);
    EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM schema_migrations"), LatestSchemaVersion());
    EXPECT_EQ(QueryInt(*db, "SELECT MAX(version) FROM schema_migrations"), LatestSchemaVersion());
    applied_at = QueryInt(*db, "SELECT applied_at FROM schema_migrations WHERE version = 1");
    EXPECT_GT(applied_at, 1600000000);
    for (const char* table : {"api_keys", "users", "teams", "team_members", "refresh_tokens",
                              "revoked_token_ids", "audit_log", "settings"}) {
      EXPECT_TRUE(TableExists(*db, table)) << table;
    }
    // Mark the recorded row so a re-application (which would insert anew) is visible.
    ASSERT_TRUE(db->Exec("UPDATE schema_migrations SET applied_at = 7", "mark").ok());
  }
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(path.path());
    ASSERT_NE(store, nullptr);
    StoreResult<std::optional<ApiKeyRecord>> key = store->GetKey("key_a");
    ASSERT_TRUE(key.ok());
    EXPECT_TRUE(key->has_value());  // the data survived the reopen
  }
  std::unique_ptr<Database> db = OpenRaw(path.path());
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM schema_migrations"), LatestSchemaVersion());
  EXPECT_EQ(QueryInt(*db, "SELECT MIN(applied_at) FROM schema_migrations"), 7);
}

TEST(SqliteStoreMigrations, DatabaseFromANewerBuildIsRefused) {
  TempDbPath path("migrations_future");
  ASSERT_NE(OpenOrDie(path.path()), nullptr);
  {
    std::unique_ptr<Database> db = OpenRaw(path.path());
    ASSERT_NE(db, nullptr);
    std::string sql = "INSERT INTO schema_migrations (version, applied_at) VALUES (" +
                      std::to_string(LatestSchemaVersion() + 1) + ", 1)";
    ASSERT_TRUE(db->Exec(sql.c_str(), "fake future").ok());
  }
  std::string error;
  EXPECT_EQ(SqliteStore::Open(path.path(), &error), nullptr);
  EXPECT_NE(error.find("newer"), std::string::npos) << error;
  EXPECT_NE(error.find(std::to_string(LatestSchemaVersion() + 1)), std::string::npos) << error;
}

TEST(SqliteStoreMigrations, AppliesOnlyMissingVersionsInOrder) {
  std::unique_ptr<Database> db = OpenRaw(":memory:");
  ASSERT_NE(db, nullptr);
  // Re-running version 1 would fail: the table exists.
  const Migration v1[] = {{1, "CREATE TABLE t1 (x INTEGER)"}};
  const Migration v1_v2[] = {{1, "CREATE TABLE t1 (x INTEGER)"},
                             {2, "INSERT INTO t1 VALUES (42); CREATE TABLE t2 (y)"}};
  std::string error;
  ASSERT_TRUE(ApplyMigrations(*db, v1, &error)) << error;
  EXPECT_TRUE(TableExists(*db, "t1"));
  EXPECT_FALSE(TableExists(*db, "t2"));
  ASSERT_TRUE(ApplyMigrations(*db, v1_v2, &error)) << error;
  EXPECT_TRUE(TableExists(*db, "t2"));
  EXPECT_EQ(QueryInt(*db, "SELECT x FROM t1"), 42);
  ASSERT_TRUE(ApplyMigrations(*db, v1_v2, &error)) << error;
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM t1"), 1);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM schema_migrations"), 2);
  // Knowing only version 1 now means the database is newer than this "build".
  EXPECT_FALSE(ApplyMigrations(*db, v1, &error));
  EXPECT_NE(error.find("newer"), std::string::npos) << error;
}

TEST(SqliteStoreMigrations, AFailingScriptIsRolledBackAndNotRecorded) {
  std::unique_ptr<Database> db = OpenRaw(":memory:");
  ASSERT_NE(db, nullptr);
  const Migration broken[] = {{1, "CREATE TABLE t1 (x)"},
                              {2, "CREATE TABLE t2 (y); INSERT INTO missing VALUES (1)"}};
  std::string error;
  EXPECT_FALSE(ApplyMigrations(*db, broken, &error));
  EXPECT_NE(error.find("migration 2"), std::string::npos) << error;
  EXPECT_TRUE(TableExists(*db, "t1"));
  EXPECT_FALSE(TableExists(*db, "t2"));
  EXPECT_EQ(QueryInt(*db, "SELECT MAX(version) FROM schema_migrations"), 1);
}

TEST(SqliteStoreMigrations, KeysFromVersion2ReadBackWithoutLimitOverrides) {
  TempDbPath path("migrations_v3");
  {
    std::unique_ptr<Database> db = OpenRaw(path.path());
    ASSERT_NE(db, nullptr);
    std::string error;
    ASSERT_TRUE(ApplyMigrations(*db, Migrations().first(2), &error)) << error;
    ASSERT_TRUE(db->Exec("INSERT INTO api_keys VALUES ('key_old', 'old', 'hash-old', 'sk-sl-o', "
                         "'', '', '[\"user\"]', '', '[]', '{}', 10, 0, 0, 0, 0)",
                         "insert a version-2 key")
                    .ok());
  }
  std::unique_ptr<SqliteStore> store = OpenOrDie(path.path());
  ASSERT_NE(store, nullptr);
  StoreResult<std::optional<ApiKeyRecord>> key = store->GetKey("key_old");
  ASSERT_TRUE(key.ok()) << key.error().message;
  ASSERT_TRUE(key->has_value());
  EXPECT_EQ((*key)->name, "old");
  EXPECT_TRUE((*key)->limits.empty());
  EXPECT_EQ((*key)->limits, KeyLimits{});
}

TEST(SqliteStoreMigrations, AnUnknownStoredBudgetPeriodIsReportedNotGuessed) {
  TempDbPath path("migrations_bad_period");
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(path.path());
    ASSERT_NE(store, nullptr);
    ApiKeyRecord key = MakeKey("key_a");
    key.limits.budget_tokens = 100;
    ASSERT_TRUE(store->InsertKey(key).ok());
  }
  {
    std::unique_ptr<Database> db = OpenRaw(path.path());
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Exec("UPDATE api_keys SET limit_budget_tokens_period = 'year'", "damage").ok());
  }
  std::unique_ptr<SqliteStore> store = OpenOrDie(path.path());
  ASSERT_NE(store, nullptr);
  StoreResult<std::optional<ApiKeyRecord>> key = store->GetKey("key_a");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, StoreErrorCode::kUnavailable);
  EXPECT_NE(key.error().message.find("period"), std::string::npos) << key.error().message;
}

TEST(SqliteStoreMigrations, ConnectionsUseWalSynchronousNormalAndForeignKeys) {
  TempDbPath path("migrations_pragmas");
  std::unique_ptr<Database> db = OpenRaw(path.path());
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(QueryText(*db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryInt(*db, "PRAGMA synchronous"), 1);  // NORMAL
  EXPECT_EQ(QueryInt(*db, "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(QueryInt(*db, "PRAGMA busy_timeout"), 5000);
  std::unique_ptr<Database> memory = OpenRaw(":memory:");
  ASSERT_NE(memory, nullptr);
  EXPECT_EQ(QueryText(*memory, "PRAGMA journal_mode"), "memory");
  EXPECT_EQ(QueryInt(*memory, "PRAGMA foreign_keys"), 1);
}

}  // namespace
}  // namespace sluice::sqlite
