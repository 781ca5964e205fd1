// Asynchronous line output for logs: workers append finished lines to an in-memory buffer
// and a background thread writes them out in large batches, so a worker never waits on a
// pipe, a terminal or a disk. The buffer is bounded; when it is full, lines are dropped and
// counted instead of blocking. One sink per destination ("stdout", "stderr" or a file path),
// shared process-wide. A file sink can rotate by size and age; the writer thread does it
// between batches, so writers never wait for it. Thread-safe: a short mutex section per line
// (a pointer swap on the writer side), never held across I/O.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/clock.h"

namespace sluice {

// Rotation of a file sink (ignored for stdout, stderr and anything not a regular file):
// `path` is renamed to `path.1` (older files shift to .2 … .keep, the oldest is deleted)
// and a new `path` is opened. Lines are never split across files.
struct LineSinkOptions {
  uint64_t max_bytes = 0;           // rotate before the file would exceed this; 0: never
  std::chrono::seconds max_age{0};  // rotate a non-empty file this long after it was opened
  int keep = 7;                     // rotated files kept (0: the old file is deleted)
  const Clock* clock = nullptr;     // time for max_age (tests); nullptr: the system clock.
                                    // REQUIRES: outlives the sink.
};

class LineSink {
 public:
  // The shared sink for `target`; nullptr with `error` set when a file cannot be opened.
  // Sinks are shared per target: when the target is open already, that sink is returned
  // and `options` are ignored (the first opener's options win).
  static std::shared_ptr<LineSink> Open(const std::string& target, std::string& error);
  // Calls `fn` for every sink open now (the metrics of dropped and written lines).
  static void ForEachOpen(
      const std::function<void(const std::string& target, const LineSink& sink)>& fn);
  static std::shared_ptr<LineSink> Open(const std::string& target, const LineSinkOptions& options,
                                        std::string& error);
  ~LineSink();

  // REQUIRES: `line` ends with '\n'.
  void Write(std::string_view line);
  // Blocks until every line written so far has reached the destination.
  void Flush();
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  uint64_t rotations() const { return rotations_.load(std::memory_order_relaxed); }

  static constexpr size_t kMaxPending = 8 * 1024 * 1024;

 private:
  LineSink(int fd, bool owns_fd, std::string path, const LineSinkOptions& options);
  void WriterLoop();
  // Writes a batch of whole lines, rotating first whenever the next lines would not fit.
  void Output(std::string_view batch);
  void WriteAll(std::string_view data);
  bool AgeExpired() const;
  SteadyTime Now() const;
  // Renames and reopens the file; on failure keeps writing to the current descriptor.
  void Rotate();

  // Written by the writer thread only (and read by the destructor after it joined).
  int fd_;
  bool owns_fd_;
  const std::string path_;
  const LineSinkOptions options_;
  bool rotating_ = false;    // a regular file with a size or age limit
  uint64_t file_bytes_ = 0;  // size of the current file
  SteadyTime opened_at_{};   // when the current file was opened (or last rotation tried)

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::string pending_;
  uint64_t appended_ = 0;       // bytes appended, guarded by mutex_
  uint64_t pending_lines_ = 0;  // lines in pending_, guarded by mutex_
  uint64_t flushed_bytes_ = 0;  // bytes written, guarded by mutex_
  bool stop_ = false;
  bool flush_requested_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> rotations_{0};
  std::thread writer_;
};

}  // namespace sluice
