// The usage exporter: a background thread that copies durable journal frames (sealed
// segments whole, the active segment up to the journal's durable end) into the Store in
// batches, idempotently by request id, keeps a checkpoint of its progress and deletes
// segments once exported. At start it replays whatever an earlier run left (a torn last
// frame is detected by its length/CRC and ignored). Stop() exports everything durable.
// Thread-safe: ExportOnce() and Stop() may be called from any thread (one export runs at a
// time); the Store is used only by the exporter (give it its own instance).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "usage/usage_journal.h"

namespace sluice {

class UsageExporter {
 public:
  struct Options {
    std::string dir;                          // the journal directory
    size_t batch_records = 512;               // records per Store::PutUsage transaction
    std::chrono::milliseconds interval{200};  // background export period
  };

  // `journal` is the live journal writing into `dir`, or nullptr when none runs (offline
  // replay: every segment is then sealed). Both must outlive the exporter.
  UsageExporter(Options options, Store& store, const UsageJournal* journal);
  ~UsageExporter();  // Stop()
  UsageExporter(const UsageExporter&) = delete;
  UsageExporter& operator=(const UsageExporter&) = delete;

  // Starts the background thread (ExportOnce every `interval`, or sooner after Notify()).
  void Start();
  void Notify();

  // Exports every durable record not yet exported. False when the store refused a batch
  // (the records stay in the journal and are retried; see last_error()).
  bool ExportOnce();

  // Stops the thread, then exports everything durable (stop the journal first, so that is
  // everything). Returns ExportOnce()'s result. Idempotent.
  bool Stop();

  uint64_t records_exported() const { return exported_.load(std::memory_order_relaxed); }
  uint64_t segments_deleted() const { return deleted_.load(std::memory_order_relaxed); }
  uint64_t torn_tails() const { return torn_tails_.load(std::memory_order_relaxed); }
  uint64_t bad_records() const { return bad_records_.load(std::memory_order_relaxed); }
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  // False while the last attempt to write to the store failed (readiness).
  bool store_reachable() const { return store_ok_.load(std::memory_order_relaxed); }
  std::string last_error() const;

 private:
  bool ExportSegment(uint64_t seq, bool sealed, uint64_t durable_offset);
  bool Flush(std::vector<UsageRecord>& batch, JournalPosition reached);
  void Fail(std::string message);
  void Loop();

  const Options options_;
  Store& store_;
  const UsageJournal* journal_;

  std::mutex export_mu_;  // one export at a time; guards position_ and the store
  JournalPosition position_;

  std::mutex loop_mu_;
  std::condition_variable loop_wake_;
  bool stopping_ = false;
  bool notified_ = false;
  std::thread thread_;

  mutable std::mutex error_mu_;
  std::string last_error_;

  std::atomic<uint64_t> exported_{0};
  std::atomic<uint64_t> deleted_{0};
  std::atomic<uint64_t> torn_tails_{0};
  std::atomic<uint64_t> bad_records_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<bool> store_ok_{true};
};

}  // namespace sluice
