// UsageJournal: the queue, the group-commit writer thread and segment files. Thread-safe.
//
// Durability: a batch is written with write(2) and made durable with one fdatasync; a new
// segment's directory entry is made durable (fsync of the directory) before any record in
// it is reported durable. After a failed write or fsync the segment is abandoned (the page
// cache can no longer be trusted, and its tail may hold a partial frame) and the next batch
// starts a new one; the failed batch's waiters get false. Such a batch may still be partly
// on disk and exported later: false means "not known to be durable", not "lost".
#include "usage/usage_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/prefer.hpp>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "usage/usage_record.h"

namespace sluice {
namespace {

constexpr char kSegmentPrefix[] = "usage-";
constexpr char kSegmentSuffix[] = ".journal";

bool SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string UsageSegmentPath(const std::string& dir, uint64_t seq) {
  char name[64];
  std::snprintf(name, sizeof name, "%s%020" PRIu64 "%s", kSegmentPrefix, seq, kSegmentSuffix);
  return dir + "/" + name;
}

std::vector<uint64_t> ListUsageSegments(const std::string& dir) {
  std::vector<uint64_t> segments;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const size_t prefix = sizeof kSegmentPrefix - 1;
    const size_t suffix = sizeof kSegmentSuffix - 1;
    if (name.size() != prefix + 20 + suffix || name.compare(0, prefix, kSegmentPrefix) != 0 ||
        name.compare(prefix + 20, suffix, kSegmentSuffix) != 0) {
      continue;
    }
    const std::string digits = name.substr(prefix, 20);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    segments.push_back(std::stoull(digits));
  }
  std::sort(segments.begin(), segments.end());
  return segments;
}

namespace {

constexpr char kCheckpointName[] = "/export.checkpoint";

std::string CheckpointText(JournalPosition position) {
  return std::to_string(position.segment) + " " + std::to_string(position.offset);
}

}  // namespace

std::optional<JournalPosition> ReadUsageCheckpoint(const std::string& dir) {
  std::FILE* file = std::fopen((dir + kCheckpointName).c_str(), "re");
  if (file == nullptr) return std::nullopt;
  uint64_t segment = 0;
  uint64_t offset = 0;
  uint32_t crc = 0;
  const int fields = std::fscanf(file, "%" SCNu64 " %" SCNu64 " %" SCNu32, &segment, &offset, &crc);
  std::fclose(file);
  JournalPosition position{segment, offset};
  if (fields != 3 || Crc32c(CheckpointText(position)) != crc) return std::nullopt;
  return position;
}

bool WriteUsageCheckpoint(const std::string& dir, JournalPosition position) {
  const std::string text =
      CheckpointText(position) + " " + std::to_string(Crc32c(CheckpointText(position))) + "\n";
  const std::string path = dir + kCheckpointName;
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fdatasync(fd) == 0;
  ::close(fd);
  return written && std::rename(temp.c_str(), path.c_str()) == 0;
}

std::unique_ptr<UsageJournal> UsageJournal::Open(const Options& options, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    *error = "cannot create usage journal directory " + options.dir + ": " + ec.message();
    return nullptr;
  }
  if (options.queue_capacity == 0 || options.segment_bytes == 0) {
    *error = "usage journal: queue capacity and segment size must be positive";
    return nullptr;
  }
  std::unique_ptr<UsageJournal> journal(new UsageJournal(options));
  const std::vector<uint64_t> existing = ListUsageSegments(options.dir);
  uint64_t seq = existing.empty() ? 1 : existing.back() + 1;
  if (std::optional<JournalPosition> checkpoint = ReadUsageCheckpoint(options.dir)) {
    seq = std::max(seq, checkpoint->segment + 1);
  }
  if (!journal->OpenSegment(seq, error)) return nullptr;
  if (options.start_writer) journal->StartWriter();
  return journal;
}

void UsageJournal::StartWriter() {
  std::lock_guard<std::mutex> lock(mu_);
  if (writer_.joinable() || stopping_) return;
  writer_ = std::thread([this] { WriterLoop(); });
}

UsageJournal::UsageJournal(Options options) : options_(std::move(options)) {}

UsageJournal::~UsageJournal() {
  Stop();
  CloseSegment();
}

void UsageJournal::Append(UsageRecord record) { Enqueue(std::move(record), {}); }

// One short critical section per request (a deque push): the writer takes the whole queue
// under the same lock once per batch, so contention is one lock hand-off per fsync.
void UsageJournal::Enqueue(UsageRecord record,
                           boost::asio::any_completion_handler<void(bool)> handler) {
  Entry entry{std::move(record), std::move(handler), {}};
  if (entry.handler) {
    entry.work = boost::asio::prefer(boost::asio::get_associated_executor(entry.handler),
                                     boost::asio::execution::outstanding_work.tracked);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      if (queue_.size() >= options_.queue_capacity && !entry.handler) {
        over_capacity_.fetch_add(1, std::memory_order_relaxed);
      }
      queue_.push_back(std::move(entry));
      queue_depth_.store(queue_.size(), std::memory_order_relaxed);
      wake_.notify_one();
      return;
    }
  }
  refused_.fetch_add(1, std::memory_order_relaxed);
  if (entry.handler) Complete(entry, false);
}

void UsageJournal::Stop() {
  std::call_once(stop_once_, [this] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (writer_.joinable()) {
      writer_.join();
    } else {
      WriterLoop();  // never started: drain here, so Stop() keeps its promise
    }
  });
}

JournalPosition UsageJournal::DurableEnd() const {
  std::lock_guard<std::mutex> lock(position_mu_);
  return durable_;
}

void UsageJournal::WriterLoop() {
  std::vector<Entry> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything queued is written
      const size_t n = std::min(queue_.size(), options_.queue_capacity);
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(n));
      queue_depth_.store(queue_.size(), std::memory_order_relaxed);
    }
    const bool ok = WriteBatch(batch);
    if (!ok) failed_batches_.fetch_add(1, std::memory_order_relaxed);
    for (Entry& entry : batch) Complete(entry, ok);
    batch.clear();
  }
}

bool UsageJournal::WriteBatch(const std::vector<Entry>& batch) {
  if (fd_ < 0) {
    std::string error;
    if (!OpenSegment(segment_ + 1, &error)) return false;
  }
  buffer_.clear();
  for (const Entry& entry : batch) {
    const size_t before = buffer_.size();
    AppendUsageFrame(entry.record, buffer_);
    const uint64_t used = segment_size_ + before;
    if (used > 0 && segment_size_ + buffer_.size() > options_.segment_bytes) {
      // This frame starts the next segment: make the current one whole and durable first.
      std::string frame = buffer_.substr(before);
      buffer_.resize(before);
      if (!buffer_.empty() && !WriteAndSync(buffer_)) return false;
      CloseSegment();
      std::string error;
      if (!OpenSegment(segment_ + 1, &error)) return false;
      buffer_ = std::move(frame);
    }
  }
  if (!WriteAndSync(buffer_)) return false;
  records_written_.fetch_add(batch.size(), std::memory_order_relaxed);
  return true;
}

// Appends `bytes` to the active segment and fdatasyncs (unless options_.sync is off);
// publishes the new durable end.
bool UsageJournal::WriteAndSync(std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      CloseSegment();
      return false;
    }
    done += static_cast<size_t>(n);
  }
  const int rc = options_.sync ? ::fdatasync(fd_) : 0;
  if (options_.sync) fsyncs_.fetch_add(1, std::memory_order_relaxed);
  if (rc != 0) {
    CloseSegment();
    return false;
  }
  segment_size_ += bytes.size();
  bytes_written_.fetch_add(bytes.size(), std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(position_mu_);
  durable_ = JournalPosition{segment_, segment_size_};
  return true;
}

bool UsageJournal::OpenSegment(uint64_t seq, std::string* error) {
  const std::string path = UsageSegmentPath(options_.dir, seq);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot create usage journal segment " + path + ": " + std::strerror(errno);
    // Skip the number either way: a later attempt must not collide with a stray file.
    segment_ = seq;
    return false;
  }
  if (!SyncDirectory(options_.dir)) {
    *error = "cannot sync usage journal directory " + options_.dir;
    ::close(fd);
    segment_ = seq;
    return false;
  }
  fd_ = fd;
  segment_ = seq;
  segment_size_ = 0;
  std::lock_guard<std::mutex> lock(position_mu_);
  durable_ = JournalPosition{segment_, 0};  // earlier segments were synced when written
  return true;
}

void UsageJournal::CloseSegment() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void UsageJournal::Complete(Entry& entry, bool ok) {
  if (!entry.handler) return;
  // execute() from this thread (never inside the caller's io_context) queues the handler;
  // `work` keeps the caller's io_context running until then.
  boost::asio::any_completion_executor work = std::move(entry.work);
  work.execute([handler = std::move(entry.handler), ok]() mutable { std::move(handler)(ok); });
}

}  // namespace sluice
