// The usage journal: an append-only directory of segment files ("usage-<seq>.journal",
// framed records, see usage_record.h) that makes each request's usage record durable before
// the response ends. One writer thread does group commit: it writes every queued record,
// calls fdatasync once for the batch, then completes every waiter of that batch on the
// waiter's own executor. The exporter (usage_exporter.h) reads what is durable and deletes
// exported segments. Thread-safe: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace sluice {

// Segment files of a journal directory, by sequence number, ascending.
std::vector<uint64_t> ListUsageSegments(const std::string& dir);
std::string UsageSegmentPath(const std::string& dir, uint64_t seq);

// Where the durable part of a journal ends: every segment before `segment` is durable and
// sealed, and so are the first `offset` bytes of `segment` (the active one).
struct JournalPosition {
  uint64_t segment = 0;
  uint64_t offset = 0;
};

// The exporter's progress, "<dir>/export.checkpoint": every record before `offset` in
// segment `segment` is in the store (earlier segments are deleted once exported). The
// journal reads it only to number new segments above it, so a checkpoint never applies to
// a reused number. Written to a temporary file, synced and renamed; a missing or damaged
// checkpoint (checksummed) reads as nullopt and only costs an idempotent re-export.
std::optional<JournalPosition> ReadUsageCheckpoint(const std::string& dir);
bool WriteUsageCheckpoint(const std::string& dir, JournalPosition position);

class UsageJournal {
 public:
  struct Options {
    std::string dir;                       // created if missing
    uint64_t segment_bytes = 16ull << 20;  // rotate once a segment would grow past this
    size_t queue_capacity = 4096;          // records per batch; see AppendDurable
    // true: a batch is durable once fdatasync returns (survives power loss). false: once
    // write(2) returns, i.e. in the kernel's page cache: survives the gateway's crash or
    // kill -9, not the machine's; no disk flush per batch (store.usage_durability: process).
    bool sync = true;
    // Tests: false queues records without writing them until StartWriter(), so a batch's
    // size (and the fsync count) is deterministic.
    bool start_writer = true;
  };

  // Creates the directory if needed, opens a NEW segment numbered above every existing
  // segment and the checkpoint (a segment left by an earlier run, perhaps with a torn tail,
  // is never appended to: it is sealed for the exporter) and starts the writer. nullptr and a
  // message in *error on failure.
  static std::unique_ptr<UsageJournal> Open(const Options& options, std::string* error);
  ~UsageJournal();  // Stop()
  UsageJournal(const UsageJournal&) = delete;
  UsageJournal& operator=(const UsageJournal&) = delete;

  // Resumes on the caller's executor once `record` is durable (true), or false when the
  // journal could not make it durable (write or fsync failed, or stopped); the caller
  // decides. Suspends the coroutine, never the thread. When `queue_capacity` records are
  // already queued the record waits its turn (FIFO) for a later batch: nothing is dropped.
  // Not a coroutine itself, so a temporary argument is safe (GCC 12, see ARCHITECTURE.md).
  boost::asio::awaitable<bool> AppendDurable(UsageRecord record) {
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(bool)>(
        Initiation{this}, boost::asio::use_awaitable, std::move(record));
  }

  // Durable soon; nobody waits. Never blocks and never drops: past `queue_capacity` the
  // record still queues (counted by over_capacity_appends()), since a caller that cannot
  // wait (OnComplete) must not lose usage. After Stop() the record is refused and counted.
  void Append(UsageRecord record);

  // Starts the writer thread when Options::start_writer was false. Idempotent.
  void StartWriter();

  // Writes and syncs everything queued, then stops the writer. Idempotent.
  void Stop();

  JournalPosition DurableEnd() const;
  const std::string& dir() const { return options_.dir; }

  // Counters (relaxed atomics; exported as metrics later).
  uint64_t records_written() const { return records_written_.load(std::memory_order_relaxed); }
  uint64_t fsyncs() const { return fsyncs_.load(std::memory_order_relaxed); }
  uint64_t bytes_written() const { return bytes_written_.load(std::memory_order_relaxed); }
  uint64_t queue_depth() const { return queue_depth_.load(std::memory_order_relaxed); }
  uint64_t failed_batches() const { return failed_batches_.load(std::memory_order_relaxed); }
  uint64_t over_capacity_appends() const { return over_capacity_.load(std::memory_order_relaxed); }
  uint64_t refused_after_stop() const { return refused_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    UsageRecord record;
    boost::asio::any_completion_handler<void(bool)> handler;  // empty for Append
    boost::asio::any_completion_executor work;  // tracks work on the waiter's executor
  };
  struct Initiation {
    UsageJournal* journal;
    template <class Handler>
    void operator()(Handler&& handler, UsageRecord record) const {
      journal->Enqueue(std::move(record),
                       boost::asio::any_completion_handler<void(bool)>(std::move(handler)));
    }
  };

  explicit UsageJournal(Options options);
  void Enqueue(UsageRecord record, boost::asio::any_completion_handler<void(bool)> handler);
  void WriterLoop();
  bool WriteBatch(const std::vector<Entry>& batch);
  bool OpenSegment(uint64_t seq, std::string* error);
  bool WriteAndSync(std::string_view bytes);
  void CloseSegment();
  static void Complete(Entry& entry, bool ok);

  const Options options_;

  std::mutex mu_;  // guards queue_ and stopping_
  std::condition_variable wake_;
  std::deque<Entry> queue_;
  bool stopping_ = false;
  std::thread writer_;  // guarded by mu_ until joined
  std::once_flag stop_once_;

  // Writer-thread state.
  int fd_ = -1;
  uint64_t segment_ = 0;
  uint64_t segment_size_ = 0;
  std::string buffer_;

  mutable std::mutex position_mu_;
  JournalPosition durable_;

  std::atomic<uint64_t> records_written_{0};
  std::atomic<uint64_t> fsyncs_{0};
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> queue_depth_{0};
  std::atomic<uint64_t> failed_batches_{0};
  std::atomic<uint64_t> over_capacity_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace sluice
