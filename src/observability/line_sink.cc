// LineSink: the batching writer thread, file rotation and the process-wide registry of sinks.
#include "observability/line_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

namespace sluice {
namespace {

constexpr auto kFlushInterval = std::chrono::milliseconds(50);
constexpr size_t kWakeThreshold = 64 * 1024;

int OpenForAppend(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

}  // namespace

std::shared_ptr<LineSink> LineSink::Open(const std::string& target, std::string& error) {
  return Open(target, LineSinkOptions{}, error);
}

namespace {
// Open sinks by target (shared per target), for Open and ForEachOpen.
struct SinkRegistry {
  std::mutex mutex;
  std::map<std::string, std::weak_ptr<LineSink>> sinks;
};
SinkRegistry& Sinks() {
  static SinkRegistry* registry = new SinkRegistry;  // never destroyed: sinks may outlive exit
  return *registry;
}
}  // namespace

void LineSink::ForEachOpen(
    const std::function<void(const std::string& target, const LineSink& sink)>& fn) {
  SinkRegistry& registry = Sinks();
  std::lock_guard lock(registry.mutex);
  for (const auto& [target, weak] : registry.sinks) {
    if (auto sink = weak.lock()) fn(target, *sink);
  }
}

std::shared_ptr<LineSink> LineSink::Open(const std::string& target, const LineSinkOptions& options,
                                         std::string& error) {
  SinkRegistry& sinks = Sinks();
  std::lock_guard lock(sinks.mutex);
  auto& registry = sinks.sinks;
  if (auto existing = registry[target].lock()) return existing;
  int fd;
  bool owns = false;
  if (target == "stdout") {
    fd = STDOUT_FILENO;
  } else if (target == "stderr") {
    fd = STDERR_FILENO;
  } else {
    fd = OpenForAppend(target);
    if (fd < 0) {
      error = "cannot open '" + target + "': " + std::strerror(errno);
      return nullptr;
    }
    owns = true;
  }
  std::shared_ptr<LineSink> sink(new LineSink(fd, owns, owns ? target : "", options));
  registry[target] = sink;
  return sink;
}

LineSink::LineSink(int fd, bool owns_fd, std::string path, const LineSinkOptions& options)
    : fd_(fd), owns_fd_(owns_fd), path_(std::move(path)), options_(options) {
  struct stat st;
  if (owns_fd_ && ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
    file_bytes_ = static_cast<uint64_t>(st.st_size);
    rotating_ = options_.max_bytes > 0 || options_.max_age.count() > 0;
  }
  opened_at_ = Now();
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

void LineSink::WriteAll(std::string_view data) {
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

bool LineSink::AgeExpired() const {
  return options_.max_age.count() > 0 && file_bytes_ > 0 && Now() - opened_at_ >= options_.max_age;
}

SteadyTime LineSink::Now() const {
  // Not SystemClock::Instance(): a sink can outlive that static at exit (spdlog's registry).
  return options_.clock ? options_.clock->Now() : std::chrono::steady_clock::now();
}

void LineSink::Rotate() {
  opened_at_ = Now();
  int keep = std::max(options_.keep, 0);
  bool moved;
  if (keep == 0) {
    moved = ::unlink(path_.c_str()) == 0;
  } else {
    ::unlink((path_ + "." + std::to_string(keep)).c_str());
    for (int i = keep - 1; i >= 1; --i) {
      std::string from = path_ + "." + std::to_string(i);
      ::rename(from.c_str(), (path_ + "." + std::to_string(i + 1)).c_str());
    }
    moved = ::rename(path_.c_str(), (path_ + ".1").c_str()) == 0;
  }
  int fd = moved ? OpenForAppend(path_) : -1;
  if (fd < 0) {
    // Cannot rotate (permissions, a vanished directory): keep appending to the open file
    // and try again after another max_bytes or max_age.
    file_bytes_ = 0;
    return;
  }
  ::close(fd_);
  fd_ = fd;
  file_bytes_ = 0;
  rotations_.fetch_add(1, std::memory_order_relaxed);
}

void LineSink::Output(std::string_view batch) {
  if (!rotating_) {
    WriteAll(batch);
    return;
  }
  if (AgeExpired()) Rotate();
  if (options_.max_bytes == 0) {
    WriteAll(batch);
    file_bytes_ += batch.size();
    return;
  }
  size_t pos = 0;
  while (pos < batch.size()) {
    // The whole lines that still fit in the current file.
    uint64_t room = file_bytes_ < options_.max_bytes ? options_.max_bytes - file_bytes_ : 0;
    size_t end = pos;
    if (room > 0) {
      size_t limit = std::min<uint64_t>(batch.size() - pos, room) + pos;
      size_t newline = batch.rfind('\n', limit - 1);
      if (newline != std::string_view::npos && newline >= pos) end = newline + 1;
    }
    if (end == pos) {
      if (file_bytes_ > 0) {
        Rotate();  // leaves file_bytes_ at 0, so the next round writes at least one line
        continue;
      }
      // A line longer than max_bytes goes alone into a file of its own.
      size_t newline = batch.find('\n', pos);
      end = newline == std::string_view::npos ? batch.size() : newline + 1;
    }
    WriteAll(batch.substr(pos, end - pos));
    file_bytes_ += end - pos;
    pos = end;
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
      Output(batch);
      written_.fetch_add(lines, std::memory_order_relaxed);
      batch.clear();
      lock.lock();
    } else if (rotating_ && AgeExpired()) {
      lock.unlock();
      Rotate();
      lock.lock();
    }
    flushed_bytes_ = upto;
    flushed_.notify_all();
    if (stop_ && pending_.empty()) return;
  }
}

}  // namespace sluice
