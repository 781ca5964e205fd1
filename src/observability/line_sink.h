// Asynchronous line output for logs: workers append finished lines to an in-memory buffer
// and a background thread writes them out in large batches, so a worker never waits on a
// pipe, a terminal or a disk. The buffer is bounded; when it is full, lines are dropped and
// counted instead of blocking. One sink per destination ("stdout", "stderr" or a file path),
// shared process-wide. Thread-safe: a short mutex section per line (a pointer swap on the
// writer side), never held across I/O.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace sluice {

class LineSink {
 public:
  // The shared sink for `target`; nullptr with `error` set when a file cannot be opened.
  static std::shared_ptr<LineSink> Open(const std::string& target, std::string& error);
  ~LineSink();

  // REQUIRES: `line` ends with '\n'.
  void Write(std::string_view line);
  // Blocks until every line written so far has reached the destination.
  void Flush();
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }

  static constexpr size_t kMaxPending = 8 * 1024 * 1024;

 private:
  LineSink(int fd, bool owns_fd);
  void WriterLoop();
  void WriteAll(const std::string& data);

  int fd_;
  bool owns_fd_;
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
  std::thread writer_;
};

}  // namespace sluice
