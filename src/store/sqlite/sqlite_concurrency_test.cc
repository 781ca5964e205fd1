// Tests of two SqliteStore instances on one WAL file, as the gateway's store thread and the
// CLI use it: writes of one are visible to the other, a reader is never blocked by an open
// write transaction, and a writer and a reader running at once both succeed. No sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/store_test_util.h"

namespace sluice::sqlite {
namespace {

std::string KeyId(int i) {
  char id[16];
  std::snprintf(id, sizeof(id), "key_%05d", i);
  return id;
}

TEST(TwoStores, WritesOfOneAreVisibleToTheOther) {
  TempDbPath path("two_stores_visible");
  std::unique_ptr<SqliteStore> server = OpenOrDie(path.path());
  std::unique_ptr<SqliteStore> cli = OpenOrDie(path.path());
  ASSERT_NE(server, nullptr);
  ASSERT_NE(cli, nullptr);
  ASSERT_TRUE(cli->InsertKey(MakeKey("key_a")).ok());
  StoreResult<std::optional<ApiKeyRecord>> key = server->GetKey("key_a");
  ASSERT_TRUE(key.ok() && key->has_value());
  ASSERT_TRUE(server->RecordKeyUsage({{"key_a", 77, 2}}).ok());
  ASSERT_TRUE(cli->RevokeKey("key_a", 88).ok());
  key = server->GetKey("key_a");
  ASSERT_TRUE(key.ok() && key->has_value());
  EXPECT_EQ((*key)->revoked_at, 88);
  EXPECT_EQ((*key)->request_count, 2);
}

TEST(TwoStores, AnOpenWriteTransactionDoesNotBlockReaders) {
  TempDbPath path("two_stores_wal");
  SqliteStore::Options no_wait;
  no_wait.busy_timeout_ms = 0;  // a reader that had to wait would fail at once
  std::string error;
  std::unique_ptr<SqliteStore> reader = SqliteStore::Open(path.path(), no_wait, &error);
  ASSERT_NE(reader, nullptr) << error;
  ASSERT_TRUE(reader->InsertKey(MakeKey("key_old")).ok());

  std::unique_ptr<Database> writer = Database::Open(path.path(), 0, &error);
  ASSERT_NE(writer, nullptr) << error;
  ASSERT_TRUE(writer->Exec("BEGIN IMMEDIATE", "begin").ok());
  ASSERT_TRUE(writer->Exec("UPDATE api_keys SET name = 'changed'", "update").ok());

  StoreResult<std::optional<ApiKeyRecord>> key = reader->GetKey("key_old");
  ASSERT_TRUE(key.ok()) << key.error().message;
  ASSERT_TRUE(key->has_value());
  EXPECT_EQ((*key)->name, MakeKey("key_old").name);  // the last committed state

  ASSERT_TRUE(writer->Exec("COMMIT", "commit").ok());
  key = reader->GetKey("key_old");
  ASSERT_TRUE(key.ok() && key->has_value());
  EXPECT_EQ((*key)->name, "changed");
}

TEST(TwoStores, OneWritesWhileTheOtherReads) {
  TempDbPath path("two_stores_concurrent");
  constexpr int kKeys = 300;
  std::unique_ptr<SqliteStore> writer_store = OpenOrDie(path.path());
  std::unique_ptr<SqliteStore> reader_store = OpenOrDie(path.path());
  ASSERT_NE(writer_store, nullptr);
  ASSERT_NE(reader_store, nullptr);

  std::latch start(2);
  std::atomic<bool> writer_done{false};
  int write_errors = 0;
  int read_errors = 0;
  int non_monotonic = 0;
  int reads = 0;
  std::thread writer([&] {
    start.arrive_and_wait();
    for (int i = 0; i < kKeys; ++i) {
      if (!writer_store->InsertKey(MakeKey(KeyId(i))).ok()) ++write_errors;
      if (i % 10 == 9 && !writer_store->RecordKeyUsage({{KeyId(i), i, 1}}).ok()) ++write_errors;
    }
    writer_done.store(true);
  });
  std::thread reader([&] {
    start.arrive_and_wait();
    size_t last_count = 0;
    // Reads until the writer is finished, then once more; each read sees a prefix of the
    // inserts (ids are inserted in order) that never shrinks.
    for (bool finished = false; !finished;) {
      finished = writer_done.load();
      StoreResult<std::vector<ApiKeyRecord>> keys = reader_store->ListKeys({}, Page{1000, ""});
      ++reads;
      if (!keys.ok()) {
        ++read_errors;
        continue;
      }
      if (keys->size() < last_count) ++non_monotonic;
      for (size_t i = 0; i < keys->size(); ++i) {
        if ((*keys)[i].id != KeyId(static_cast<int>(i))) ++non_monotonic;
      }
      last_count = keys->size();
    }
    EXPECT_EQ(last_count, static_cast<size_t>(kKeys));
  });
  writer.join();
  reader.join();
  EXPECT_EQ(write_errors, 0);
  EXPECT_EQ(read_errors, 0);
  EXPECT_EQ(non_monotonic, 0);
  EXPECT_GE(reads, 1);
  StoreResult<std::optional<ApiKeyRecord>> last = reader_store->GetKey(KeyId(kKeys - 1));
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->request_count, 1);
  EXPECT_EQ((*last)->last_used_at, kKeys - 1);
}

}  // namespace
}  // namespace sluice::sqlite
