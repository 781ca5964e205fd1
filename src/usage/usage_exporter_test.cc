// Tests of the usage exporter against a real SQLite store: sealed segments exported and
// deleted, the active segment exported only up to its durable end, a torn tail ignored,
// a crash between the store write and the checkpoint (and before the deletion) replayed
// without duplicates, a restart that replays an earlier run's segments, and Stop() draining
// everything a stopped journal made durable, with the background thread running.
#include "usage/usage_exporter.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>

#include "store/sqlite/sqlite_store.h"
#include "usage/usage_test_util.h"

namespace sluice {
namespace {

std::unique_ptr<UsageJournal> OpenJournal(UsageJournal::Options options) {
  std::string error;
  std::unique_ptr<UsageJournal> journal = UsageJournal::Open(options, &error);
  EXPECT_NE(journal, nullptr) << error;
  return journal;
}

std::string SegmentBytes(int first, int count) {
  std::string bytes;
  for (int n = first; n < first + count; ++n) {
    AppendUsageFrame(MakeRecord("req_" + std::to_string(n), n), bytes);
  }
  return bytes;
}

class UsageExporterTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    store_ = SqliteStore::Open(":memory:", &error);
    ASSERT_NE(store_, nullptr) << error;
    std::filesystem::create_directories(dir_.path());
  }

  // The request ids in the store (each record has its own key id, "key_" + request id).
  std::multiset<std::string> StoredIds() {
    StoreResult<UsageReport> report = store_->QueryUsage(UsageFilter{}, UsageGroupBy::kKey, 10000);
    EXPECT_TRUE(report.ok());
    std::multiset<std::string> ids;
    if (!report.ok()) return ids;
    for (const UsageGroupRow& row : report->rows) {
      EXPECT_EQ(row.sums.requests, 1) << row.group;  // stored once
      ids.insert(row.group.substr(4));
    }
    EXPECT_EQ(static_cast<size_t>(report->totals.requests), ids.size());
    return ids;
  }

  static std::multiset<std::string> Ids(int first, int count) {
    std::multiset<std::string> ids;
    for (int n = first; n < first + count; ++n) ids.insert("req_" + std::to_string(n));
    return ids;
  }

  UsageExporter::Options Options() const { return {.dir = dir_.path(), .batch_records = 4}; }

  TempJournalDir dir_{"export_" +
                      std::string(testing::UnitTest::GetInstance()->current_test_info()->name())};
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(UsageExporterTest, ExportsSealedSegmentsInBatchesAndDeletesThem) {
  WriteFile(UsageSegmentPath(dir_.path(), 3), SegmentBytes(0, 10));
  WriteFile(UsageSegmentPath(dir_.path(), 4), SegmentBytes(10, 3));
  UsageExporter exporter(Options(), *store_, nullptr);
  ASSERT_TRUE(exporter.ExportOnce()) << exporter.last_error();
  EXPECT_EQ(StoredIds(), Ids(0, 13));
  EXPECT_TRUE(ListUsageSegments(dir_.path()).empty());
  EXPECT_EQ(exporter.segments_deleted(), 2u);
  EXPECT_EQ(exporter.records_exported(), 13u);
  std::optional<JournalPosition> checkpoint = ReadUsageCheckpoint(dir_.path());
  ASSERT_TRUE(checkpoint.has_value());
  EXPECT_EQ(checkpoint->segment, 5u);
  EXPECT_EQ(checkpoint->offset, 0u);
}

TEST_F(UsageExporterTest, ATornTailIsIgnoredAndTheWholeFramesExported) {
  std::string torn = SegmentBytes(0, 5);
  const std::string last = SegmentBytes(5, 1);
  torn += last.substr(0, last.size() / 2);  // a crash in the middle of write(2)
  WriteFile(UsageSegmentPath(dir_.path(), 1), torn);
  std::string zeros = SegmentBytes(6, 2) + std::string(4096, '\0');  // a zero-filled tail
  WriteFile(UsageSegmentPath(dir_.path(), 2), zeros);
  UsageExporter exporter(Options(), *store_, nullptr);
  ASSERT_TRUE(exporter.ExportOnce()) << exporter.last_error();
  std::multiset<std::string> expected = Ids(0, 5);
  expected.insert("req_6");
  expected.insert("req_7");
  EXPECT_EQ(StoredIds(), expected);
  EXPECT_EQ(exporter.torn_tails(), 2u);
  EXPECT_TRUE(ListUsageSegments(dir_.path()).empty());
}

TEST_F(UsageExporterTest, OnlyTheDurablePrefixOfTheActiveSegmentIsExported) {
  std::unique_ptr<UsageJournal> journal = OpenJournal({.dir = dir_.path(), .start_writer = false});
  ASSERT_NE(journal, nullptr);
  for (int n = 0; n < 6; ++n) journal->Append(MakeRecord("req_" + std::to_string(n), n));
  UsageExporter exporter(Options(), *store_, journal.get());
  ASSERT_TRUE(exporter.ExportOnce());
  EXPECT_TRUE(StoredIds().empty());  // queued, not durable
  journal->StartWriter();
  journal->Stop();
  ASSERT_TRUE(exporter.ExportOnce()) << exporter.last_error();
  EXPECT_EQ(StoredIds(), Ids(0, 6));
  // The active segment stays (the journal owns it); its checkpoint is its durable end.
  EXPECT_EQ(ListUsageSegments(dir_.path()), std::vector<uint64_t>{1});
  EXPECT_EQ(ReadUsageCheckpoint(dir_.path())->offset, journal->DurableEnd().offset);
  ASSERT_TRUE(exporter.ExportOnce());  // nothing new: nothing re-sent
  EXPECT_EQ(exporter.records_exported(), 6u);
}

TEST_F(UsageExporterTest, ACrashBetweenStoreWriteAndCheckpointReplaysWithoutDuplicates) {
  std::unique_ptr<UsageJournal> journal = OpenJournal({.dir = dir_.path()});
  ASSERT_NE(journal, nullptr);
  for (int n = 0; n < 9; ++n) journal->Append(MakeRecord("req_" + std::to_string(n), n));
  journal->Stop();
  {
    UsageExporter exporter(Options(), *store_, journal.get());
    ASSERT_TRUE(exporter.ExportOnce());
  }
  ASSERT_EQ(StoredIds(), Ids(0, 9));
  // The disk as a crash right after PutUsage left it: rows stored, no checkpoint written.
  std::filesystem::remove(dir_.path() + "/export.checkpoint");
  UsageExporter restarted(Options(), *store_, journal.get());
  ASSERT_TRUE(restarted.ExportOnce()) << restarted.last_error();
  EXPECT_EQ(restarted.records_exported(), 9u);  // replayed...
  EXPECT_EQ(StoredIds(), Ids(0, 9));            // ...and stored once
}

TEST_F(UsageExporterTest, ACrashBeforeDeletingASealedSegmentReplaysWithoutDuplicates) {
  const std::string path = UsageSegmentPath(dir_.path(), 1);
  WriteFile(path, SegmentBytes(0, 7));
  const std::string bytes = ReadFile(path);
  {
    UsageExporter exporter(Options(), *store_, nullptr);
    ASSERT_TRUE(exporter.ExportOnce());
  }
  ASSERT_FALSE(std::filesystem::exists(path));
  // Crash after the last batch's store write, before the checkpoint and the deletion.
  WriteFile(path, bytes);
  ASSERT_TRUE(WriteUsageCheckpoint(dir_.path(), {1, 0}));
  UsageExporter restarted(Options(), *store_, nullptr);
  ASSERT_TRUE(restarted.ExportOnce());
  EXPECT_EQ(StoredIds(), Ids(0, 7));
  EXPECT_FALSE(std::filesystem::exists(path));
  // And a crash after the checkpoint but before the deletion: deleted without re-reading.
  WriteFile(path, bytes);
  UsageExporter again(Options(), *store_, nullptr);
  ASSERT_TRUE(again.ExportOnce());
  EXPECT_EQ(again.records_exported(), 0u);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(UsageExporterTest, ARestartReplaysTheEarlierRunsSegments) {
  {
    // The earlier run: records durable, then the process died without exporting them.
    std::unique_ptr<UsageJournal> crashed = OpenJournal({.dir = dir_.path()});
    ASSERT_NE(crashed, nullptr);
    for (int n = 0; n < 10; ++n) crashed->Append(MakeRecord("req_" + std::to_string(n), n));
  }
  std::string tail = SegmentBytes(10, 1);
  std::ofstream(UsageSegmentPath(dir_.path(), 1), std::ios::app) << tail.substr(0, 11);
  std::unique_ptr<UsageJournal> journal = OpenJournal({.dir = dir_.path()});
  ASSERT_NE(journal, nullptr);
  for (int n = 20; n < 25; ++n) journal->Append(MakeRecord("req_" + std::to_string(n), n));
  UsageExporter exporter(Options(), *store_, journal.get());
  exporter.Start();
  journal->Stop();
  ASSERT_TRUE(exporter.Stop()) << exporter.last_error();
  std::multiset<std::string> expected = Ids(0, 10);
  for (const std::string& id : Ids(20, 5)) expected.insert(id);
  EXPECT_EQ(StoredIds(), expected);
  EXPECT_EQ(ListUsageSegments(dir_.path()), std::vector<uint64_t>{2});  // old one deleted
}

TEST_F(UsageExporterTest, StopDrainsEverythingWhileTheThreadRuns) {
  std::unique_ptr<UsageJournal> journal =
      OpenJournal({.dir = dir_.path(), .segment_bytes = 4096, .queue_capacity = 64});
  ASSERT_NE(journal, nullptr);
  UsageExporter exporter({.dir = dir_.path(), .batch_records = 50}, *store_, journal.get());
  exporter.Start();
  for (int n = 0; n < 300; ++n) {
    journal->Append(MakeRecord("req_" + std::to_string(n), n));
    if (n % 50 == 0) exporter.Notify();
  }
  journal->Stop();
  ASSERT_TRUE(exporter.Stop()) << exporter.last_error();
  EXPECT_EQ(StoredIds(), Ids(0, 300));
  // Every sealed segment is gone; only the journal's last (active) one may remain.
  EXPECT_LE(ListUsageSegments(dir_.path()).size(), 1u);
}

TEST_F(UsageExporterTest, AStoreFailureKeepsTheRecordsForTheNextRound) {
  WriteFile(UsageSegmentPath(dir_.path(), 1), SegmentBytes(0, 3));
  TempJournalDir db_dir("export_failure_db");
  std::filesystem::create_directories(db_dir.path());
  const std::string db_path = db_dir.path() + "/store.db";
  std::string error;
  std::unique_ptr<SqliteStore> file_store =
      SqliteStore::Open(db_path, {.busy_timeout_ms = 0}, &error);
  ASSERT_NE(file_store, nullptr) << error;
  std::unique_ptr<SqliteStore> other = SqliteStore::Open(db_path, &error);
  ASSERT_NE(other, nullptr) << error;
  UsageExporter exporter(Options(), *file_store, nullptr);
  {
    // Another connection holds the write lock: the export fails and deletes nothing.
    ASSERT_TRUE(other->PutUsage({MakeRecord("x")}).ok());
    sqlite3* handle = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &handle), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(handle, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    EXPECT_FALSE(exporter.ExportOnce());
    EXPECT_EQ(exporter.failures(), 1u);
    EXPECT_FALSE(exporter.last_error().empty());
    EXPECT_EQ(ListUsageSegments(dir_.path()), std::vector<uint64_t>{1});
    sqlite3_exec(handle, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(handle);
  }
  ASSERT_TRUE(exporter.ExportOnce()) << exporter.last_error();
  StoreResult<UsageSums> totals = file_store->UsageTotals(UsageFilter{});
  ASSERT_TRUE(totals.ok());
  EXPECT_EQ(totals->requests, 4);  // "x" and the three exported
  EXPECT_TRUE(ListUsageSegments(dir_.path()).empty());
}

}  // namespace
}  // namespace sluice
