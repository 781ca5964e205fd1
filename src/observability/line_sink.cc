// LineSink: the batching writer thread and the process-wide registry of sinks.
#include "observability/line_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

namespace sluice {
namespace {

constexpr auto kFlushInterval = std::chrono::milliseconds(50);
constexpr size_t kWakeThreshold = 64 * 1024;

}  // namespace

std::shared_ptr<LineSink> LineSink::Open(const std::string& target, std::string& error) {
  static std::mutex registry_mutex;
  static std::map<std::string, std::weak_ptr<LineSink>> registry;
  std::lock_guard lock(registry_mutex);
  if (auto existing = registry[target].lock()) return existing;
  int fd;
  bool owns = false;
  if (target == "stdout") {
    fd = STDOUT_FILENO;
  } else if (target == "stderr") {
    fd = STDERR_FILENO;
  } else {
    fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
      error = "cannot open '" + target + "': " + std::strerror(errno);
      return nullptr;
    }
    owns = true;
  }
  std::shared_ptr<LineSink> sink(new LineSink(fd, owns));
  registry[target] = sink;
  return sink;
}

LineSink::LineSink(int fd, bool owns_fd) : fd_(fd), owns_fd_(owns_fd) {
  writer_ = std::thread([this] { WriterLoop(); });
}

LineSink::~LineSink() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  writer_.join();
  if (owns_fd_) ::close(fd_);
}

void LineSink::Write(std::string_view line) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (pending_.size() + line.size() > kMaxPending) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    size_t before = pending_.size();
    pending_.append(line);
    appended_ += line.size();
    ++pending_lines_;
    wake = before < kWakeThreshold && pending_.size() >= kWakeThreshold;
  }
  if (wake) wake_.notify_one();
}

void LineSink::Flush() {
  std::unique_lock lock(mutex_);
  uint64_t target = appended_;
  flush_requested_ = true;
  wake_.notify_one();
  flushed_.wait(lock, [&] { return flushed_bytes_ >= target; });
}

void LineSink::WriteAll(const std::string& data) {
  size_t offset = 0;
  while (offset < data.size()) {
    ssize_t n = ::write(fd_, data.data() + offset, data.size() - offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // destination gone (closed pipe, full disk): nothing sensible to do
    }
    offset += static_cast<size_t>(n);
  }
}

void LineSink::WriterLoop() {
  std::string batch;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, kFlushInterval,
                   [&] { return stop_ || flush_requested_ || pending_.size() >= kWakeThreshold; });
    flush_requested_ = false;
    uint64_t upto = appended_;
    if (!pending_.empty()) {
      batch.swap(pending_);
      uint64_t lines = pending_lines_;
      pending_lines_ = 0;
      lock.unlock();
      WriteAll(batch);
      written_.fetch_add(lines, std::memory_order_relaxed);
      batch.clear();
      lock.lock();
    }
    flushed_bytes_ = upto;
    flushed_.notify_all();
    if (stop_ && pending_.empty()) return;
  }
}

}  // namespace sluice
