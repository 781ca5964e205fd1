// Tests of the usage journal: AppendDurable resumes the caller's coroutine on its own
// thread once the record is on disk; group commit (one fsync per batch, batches bounded by
// the queue capacity, waiters beyond it suspended, not blocked); `process` durability
// (written, not flushed); rotation; new segments on
// reopen numbered above old ones and the export checkpoint; Stop() drains; appends after
// Stop() are refused and counted, never silently lost.
#include "usage/usage_journal.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "usage/usage_test_util.h"

namespace sluice {
namespace {

namespace asio = boost::asio;

std::unique_ptr<UsageJournal> OpenJournal(UsageJournal::Options options) {
  std::string error;
  std::unique_ptr<UsageJournal> journal = UsageJournal::Open(options, &error);
  EXPECT_NE(journal, nullptr) << error;
  return journal;
}

struct Outcome {
  int completed = 0;
  int durable = 0;
  bool all_on_caller_thread = true;
};

asio::awaitable<void> AppendOne(UsageJournal& journal, int n, std::thread::id caller,
                                Outcome& outcome) {
  UsageRecord record = MakeRecord("req_" + std::to_string(n), n);
  const bool ok = co_await journal.AppendDurable(std::move(record));
  ++outcome.completed;
  if (ok) ++outcome.durable;
  if (std::this_thread::get_id() != caller) outcome.all_on_caller_thread = false;
}

TEST(UsageJournal, AppendDurableResumesOnTheCallersThreadOnceOnDisk) {
  TempJournalDir dir("durable");
  std::unique_ptr<UsageJournal> journal = OpenJournal({.dir = dir.path()});
  ASSERT_NE(journal, nullptr);
  asio::io_context io;
  Outcome outcome;
  for (int n = 0; n < 50; ++n) {
    asio::co_spawn(io, AppendOne(*journal, n, std::this_thread::get_id(), outcome), asio::detached);
  }
  io.run();  // returns only when every append completed: pending appends count as work
  EXPECT_EQ(outcome.completed, 50);
  EXPECT_EQ(outcome.durable, 50);
  EXPECT_TRUE(outcome.all_on_caller_thread);
  EXPECT_EQ(journal->records_written(), 50u);
  EXPECT_GE(journal->fsyncs(), 1u);
  EXPECT_LE(journal->fsyncs(), 50u);
  // Everything reported durable is in the file before anyone stops the journal.
  std::vector<UsageRecord> on_disk = ReadJournal(dir.path());
  ASSERT_EQ(on_disk.size(), 50u);
  EXPECT_EQ(on_disk[7].request_id.substr(0, 4), "req_");
  const JournalPosition end = journal->DurableEnd();
  EXPECT_EQ(end.segment, 1u);
  EXPECT_EQ(end.offset, journal->bytes_written());
}

TEST(UsageJournal, OneFsyncServesAWholeBatch) {
  TempJournalDir dir("group");
  std::unique_ptr<UsageJournal> journal =
      OpenJournal({.dir = dir.path(), .queue_capacity = 256, .start_writer = false});
  ASSERT_NE(journal, nullptr);
  for (int n = 0; n < 1000; ++n) journal->Append(MakeRecord("req_" + std::to_string(n), n));
  EXPECT_EQ(journal->queue_depth(), 1000u);
  EXPECT_EQ(journal->over_capacity_appends(), 1000u - 256u);
  journal->StartWriter();
  journal->Stop();
  EXPECT_EQ(journal->records_written(), 1000u);
  EXPECT_EQ(journal->fsyncs(), 4u);  // 256 + 256 + 256 + 232
  EXPECT_EQ(journal->queue_depth(), 0u);
  std::vector<UsageRecord> on_disk = ReadJournal(dir.path());
  ASSERT_EQ(on_disk.size(), 1000u);
  for (int n = 0; n < 1000; ++n) EXPECT_EQ(on_disk[n], MakeRecord("req_" + std::to_string(n), n));
}

TEST(UsageJournal, ProcessDurabilityWritesWithoutFlushingTheDisk) {
  TempJournalDir dir("process");
  std::unique_ptr<UsageJournal> journal =
      OpenJournal({.dir = dir.path(), .queue_capacity = 8, .sync = false});
  ASSERT_NE(journal, nullptr);
  asio::io_context io;
  Outcome outcome;
  for (int n = 0; n < 20; ++n) {
    asio::co_spawn(io, AppendOne(*journal, n, std::this_thread::get_id(), outcome), asio::detached);
  }
  io.run();
  EXPECT_EQ(outcome.durable, 20);
  EXPECT_EQ(journal->fsyncs(), 0u) << "written to the OS, never flushed per batch";
  // Reported "durable" means in the file: a gateway killed now loses nothing.
  std::vector<UsageRecord> on_disk = ReadJournal(dir.path());
  ASSERT_EQ(on_disk.size(), 20u);
  EXPECT_EQ(journal->DurableEnd().offset, journal->bytes_written());
}

TEST(UsageJournal, WaitersBeyondCapacitySuspendWithoutBlockingTheLoop) {
  TempJournalDir dir("full");
  std::unique_ptr<UsageJournal> journal =
      OpenJournal({.dir = dir.path(), .queue_capacity = 2, .start_writer = false});
  ASSERT_NE(journal, nullptr);
  asio::io_context io;
  Outcome outcome;
  for (int n = 0; n < 5; ++n) {
    asio::co_spawn(io, AppendOne(*journal, n, std::this_thread::get_id(), outcome), asio::detached);
  }
  io.poll();  // every coroutine runs up to its suspension; the loop stays free
  EXPECT_EQ(outcome.completed, 0);
  EXPECT_EQ(journal->queue_depth(), 5u);
  EXPECT_EQ(io.poll(), 0u);
  journal->StartWriter();
  io.run();
  EXPECT_EQ(outcome.durable, 5);
  EXPECT_EQ(journal->fsyncs(), 3u);  // batches of 2, 2, 1
}

TEST(UsageJournal, RotatesSegmentsAtTheSizeLimit) {
  TempJournalDir dir("rotate");
  std::unique_ptr<UsageJournal> journal = OpenJournal({.dir = dir.path(), .segment_bytes = 1000});
  ASSERT_NE(journal, nullptr);
  for (int n = 0; n < 100; ++n) journal->Append(MakeRecord("req_" + std::to_string(n), n));
  journal->Stop();
  const std::vector<uint64_t> segments = ListUsageSegments(dir.path());
  ASSERT_GT(segments.size(), 5u);
  for (uint64_t seq : segments) {
    EXPECT_LE(std::filesystem::file_size(UsageSegmentPath(dir.path(), seq)), 1000u);
  }
  std::vector<UsageRecord> on_disk = ReadJournal(dir.path());
  ASSERT_EQ(on_disk.size(), 100u);
  for (int n = 0; n < 100; ++n) EXPECT_EQ(on_disk[n].request_id, "req_" + std::to_string(n));
  EXPECT_EQ(journal->DurableEnd().segment, segments.back());
}

TEST(UsageJournal, ReopeningStartsANewSegmentAboveOldOnesAndTheCheckpoint) {
  TempJournalDir dir("reopen");
  {
    std::unique_ptr<UsageJournal> journal = OpenJournal({.dir = dir.path()});
    ASSERT_NE(journal, nullptr);
    journal->Append(MakeRecord("a"));
  }
  const std::string first = ReadFile(UsageSegmentPath(dir.path(), 1));
  {
    std::unique_ptr<UsageJournal> journal = OpenJournal({.dir = dir.path()});
    ASSERT_NE(journal, nullptr);
    EXPECT_EQ(journal->DurableEnd().segment, 2u);
    journal->Append(MakeRecord("b"));
  }
  EXPECT_EQ(ReadFile(UsageSegmentPath(dir.path(), 1)), first);  // never appended to again
  std::filesystem::remove(UsageSegmentPath(dir.path(), 1));
  std::filesystem::remove(UsageSegmentPath(dir.path(), 2));
  // All exported and deleted: numbering continues above the checkpoint, never reusing one.
  ASSERT_TRUE(WriteUsageCheckpoint(dir.path(), {41, 0}));
  std::unique_ptr<UsageJournal> journal = OpenJournal({.dir = dir.path()});
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(journal->DurableEnd().segment, 42u);
}

TEST(UsageJournal, ADamagedCheckpointReadsAsNone) {
  TempJournalDir dir("checkpoint");
  std::filesystem::create_directories(dir.path());
  ASSERT_TRUE(WriteUsageCheckpoint(dir.path(), {7, 1234}));
  std::optional<JournalPosition> read = ReadUsageCheckpoint(dir.path());
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->segment, 7u);
  EXPECT_EQ(read->offset, 1234u);
  WriteFile(dir.path() + "/export.checkpoint", "7 9999 12345\n");
  EXPECT_FALSE(ReadUsageCheckpoint(dir.path()).has_value());
}

TEST(UsageJournal, StopDrainsAndLaterAppendsAreRefusedAndCounted) {
  TempJournalDir dir("stop");
  std::unique_ptr<UsageJournal> journal = OpenJournal({.dir = dir.path(), .start_writer = false});
  ASSERT_NE(journal, nullptr);
  journal->Append(MakeRecord("a"));
  journal->Stop();  // the writer never ran: Stop() still writes what was queued
  EXPECT_EQ(ReadJournal(dir.path()).size(), 1u);
  journal->Append(MakeRecord("b"));
  asio::io_context io;
  Outcome outcome;
  asio::co_spawn(io, AppendOne(*journal, 1, std::this_thread::get_id(), outcome), asio::detached);
  io.run();
  EXPECT_EQ(outcome.completed, 1);
  EXPECT_EQ(outcome.durable, 0);
  EXPECT_EQ(journal->refused_after_stop(), 2u);
}

TEST(UsageJournal, RefusesAnUncreatableDirectory) {
  std::string error;
  EXPECT_EQ(UsageJournal::Open({.dir = "/proc/sluice-no-such/journal"}, &error), nullptr);
  EXPECT_NE(error.find("/proc/sluice-no-such"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice
