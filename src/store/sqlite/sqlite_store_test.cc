// Tests of SqliteStore as a whole: opening errors, the settings table, statements compiled
// once per connection, and lock contention reported as kUnavailable after the busy timeout.
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/store_test_util.h"

namespace sluice::sqlite {
namespace {

TEST(SqliteStore, OpenFailsClearlyForAMissingDirectory) {
  std::string error;
  EXPECT_EQ(SqliteStore::Open("/nonexistent-dir-sluice/x.db", &error), nullptr);
  EXPECT_NE(error.find("/nonexistent-dir-sluice/x.db"), std::string::npos) << error;
}

TEST(SqliteStore, OpenFailsClearlyForAFileThatIsNotADatabase) {
  TempDbPath path("not_a_db");
  {
    std::ofstream out(path.path());
    out << std::string(4096, 'x');
  }
  std::string error;
  EXPECT_EQ(SqliteStore::Open(path.path(), &error), nullptr);
  EXPECT_NE(error.find("not a database"), std::string::npos) << error;
}

TEST(SqliteStore, SettingsRoundTrip) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  StoreResult<std::optional<std::string>> absent = store->GetSetting("jwt.secret");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());

  const std::string binary("a\0b\xff\xfe\n\"'", 8);
  ASSERT_TRUE(store->PutSetting("jwt.secret", binary).ok());
  ASSERT_TRUE(store->PutSetting("bootstrap", "done").ok());
  StoreResult<std::optional<std::string>> got = store->GetSetting("jwt.secret");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, binary);

  ASSERT_TRUE(store->PutSetting("jwt.secret", "").ok());  // overwrite, even with empty
  got = store->GetSetting("jwt.secret");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, "");
  got = store->GetSetting("bootstrap");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, "done");

  StoreResult<void> bad = store->PutSetting("", "x");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, StoreErrorCode::kInvalid);
}

TEST(SqliteStore, EachSqlTextIsCompiledOnce) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertKey(MakeKey("key_a")).ok());
  ASSERT_TRUE(store->GetKey("key_a").ok());
  ASSERT_TRUE(store->ListKeys({}, Page{}).ok());
  const int compiled = store->CompiledStatementsForTesting();
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(store->InsertKey(MakeKey("key_b" + std::to_string(i))).ok());
    ASSERT_TRUE(store->GetKey("key_a").ok());
    ASSERT_TRUE(store->ListKeys({}, Page{10, "key_b" + std::to_string(i)}).ok());
  }
  EXPECT_EQ(store->CompiledStatementsForTesting(), compiled);
  KeyFilter by_user;
  by_user.user_id = "usr_1";
  ASSERT_TRUE(store->ListKeys(by_user, Page{}).ok());  // a new filter shape: one more text
  EXPECT_EQ(store->CompiledStatementsForTesting(), compiled + 1);
}

TEST(SqliteStore, AHeldWriteLockIsUnavailableAfterTheBusyTimeout) {
  TempDbPath path("busy");
  SqliteStore::Options options;
  options.busy_timeout_ms = 0;
  std::string error;
  std::unique_ptr<SqliteStore> store = SqliteStore::Open(path.path(), options, &error);
  ASSERT_NE(store, nullptr) << error;
  std::unique_ptr<Database> other = Database::Open(path.path(), 0, &error);
  ASSERT_NE(other, nullptr) << error;
  ASSERT_TRUE(other->Exec("BEGIN IMMEDIATE", "lock").ok());

  StoreResult<void> insert = store->InsertKey(MakeKey("key_a"));
  ASSERT_FALSE(insert.ok());
  EXPECT_EQ(insert.error().code, StoreErrorCode::kUnavailable);
  StoreResult<void> usage = store->RecordKeyUsage({{"key_a", 5, 1}});
  ASSERT_FALSE(usage.ok());
  EXPECT_EQ(usage.error().code, StoreErrorCode::kUnavailable);
  // WAL: reading is not blocked by the writer.
  EXPECT_TRUE(store->GetKey("key_a").ok());

  ASSERT_TRUE(other->Exec("COMMIT", "unlock").ok());
  EXPECT_TRUE(store->InsertKey(MakeKey("key_a")).ok());
}

}  // namespace
}  // namespace sluice::sqlite
