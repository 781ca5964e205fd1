// UsageExporter: reading segments, batching into the Store, the checkpoint and deletion.
// Thread-safe (see the header).
//
// Never loses, never duplicates: a batch is written to the Store (INSERT ... ON CONFLICT DO
// NOTHING by request id) BEFORE the checkpoint moves past it, and a segment is deleted only
// after the checkpoint has moved past it. A crash anywhere in between replays records that
// are already stored, which the Store ignores. The checkpoint only saves re-reading.
// A segment is read whole into memory (at most the journal's segment size, 16 MiB).
#include "usage/usage_exporter.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "usage/usage_record.h"

namespace sluice {
namespace {

// Reads bytes [from, to) of `path` (to = UINT64_MAX: the end). False if it cannot be opened.
bool ReadRange(const std::string& path, uint64_t from, uint64_t to, std::string* out) {
  out->clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char chunk[1 << 16];
  uint64_t at = from;
  while (at < to) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof chunk, to - at));
    const ssize_t n = ::pread(fd, chunk, want, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of file (or an error: what was read is still valid)
    out->append(chunk, static_cast<size_t>(n));
    at += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return true;
}

}  // namespace

UsageExporter::UsageExporter(Options options, Store& store, const UsageJournal* journal)
    : options_(std::move(options)), store_(store), journal_(journal) {
  position_ = ReadUsageCheckpoint(options_.dir).value_or(JournalPosition{});
}

UsageExporter::~UsageExporter() { Stop(); }

void UsageExporter::Start() {
  std::lock_guard<std::mutex> lock(loop_mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void UsageExporter::Notify() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    notified_ = true;
  }
  loop_wake_.notify_one();
}

void UsageExporter::Loop() {
  std::unique_lock<std::mutex> lock(loop_mu_);
  while (!stopping_) {
    loop_wake_.wait_for(lock, options_.interval, [this] { return stopping_ || notified_; });
    if (stopping_) break;
    notified_ = false;
    lock.unlock();
    ExportOnce();
    lock.lock();
  }
}

bool UsageExporter::Stop() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    stopping_ = true;
  }
  loop_wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  return ExportOnce();
}

bool UsageExporter::ExportOnce() {
  std::lock_guard<std::mutex> lock(export_mu_);
  // Read the durable end before listing: a segment created after this read is not durable
  // yet and is left for the next round.
  const JournalPosition durable =
      journal_ != nullptr ? journal_->DurableEnd() : JournalPosition{UINT64_MAX, 0};
  for (uint64_t seq : ListUsageSegments(options_.dir)) {
    if (seq > durable.segment) break;
    if (seq < position_.segment) {
      // Exported before a crash that came between the checkpoint and the deletion.
      if (std::remove(UsageSegmentPath(options_.dir, seq).c_str()) == 0) {
        deleted_.fetch_add(1, std::memory_order_relaxed);
      }
      continue;
    }
    if (!ExportSegment(seq, seq < durable.segment, durable.offset)) return false;
  }
  return true;
}

bool UsageExporter::ExportSegment(uint64_t seq, bool sealed, uint64_t durable_offset) {
  const std::string path = UsageSegmentPath(options_.dir, seq);
  const uint64_t start = seq == position_.segment ? position_.offset : 0;
  const uint64_t end = sealed ? UINT64_MAX : durable_offset;
  if (!sealed && start >= end) return true;  // nothing new in the active segment
  std::string bytes;
  if (!ReadRange(path, start, end, &bytes)) {
    Fail("cannot read usage journal segment " + path);
    return false;
  }
  std::vector<UsageRecord> batch;
  batch.reserve(options_.batch_records);
  std::string_view rest = bytes;
  uint64_t offset = start;
  while (!rest.empty()) {
    const FrameView frame = ReadUsageFrame(rest);
    if (frame.status != FrameStatus::kOk) {
      // A torn tail (a crash mid-write, or a failed batch): nothing after it is valid.
      // Within the durable prefix of the active segment this can only be damage.
      torn_tails_.fetch_add(1, std::memory_order_relaxed);
      break;
    }
    UsageRecord record;
    if (DecodeUsagePayload(frame.payload, &record) && !record.request_id.empty()) {
      batch.push_back(std::move(record));
    } else {
      bad_records_.fetch_add(1, std::memory_order_relaxed);  // checksummed yet not a record
    }
    rest.remove_prefix(frame.frame_bytes);
    offset += frame.frame_bytes;
    if (batch.size() >= options_.batch_records && !Flush(batch, {seq, offset})) return false;
  }
  if (!Flush(batch, {seq, offset})) return false;
  if (!sealed) return true;
  // Sealed and fully exported: move the checkpoint past it, then delete it.
  position_ = JournalPosition{seq + 1, 0};
  if (!WriteUsageCheckpoint(options_.dir, position_)) {
    Fail("cannot write the usage export checkpoint in " + options_.dir);
    return false;
  }
  if (std::remove(path.c_str()) == 0) deleted_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// Stores `batch`, then records `reached` as the checkpoint. An empty batch stores nothing
// but still advances the checkpoint (past undecodable frames).
bool UsageExporter::Flush(std::vector<UsageRecord>& batch, JournalPosition reached) {
  if (!batch.empty()) {
    StoreResult<void> stored = store_.PutUsage(batch);
    if (!stored.ok()) {
      Fail("usage export: " + stored.error().message);
      return false;
    }
    exported_.fetch_add(batch.size(), std::memory_order_relaxed);
    store_ok_.store(true, std::memory_order_relaxed);
    batch.clear();
  }
  if (reached.segment == position_.segment && reached.offset == position_.offset) return true;
  position_ = reached;
  if (!WriteUsageCheckpoint(options_.dir, position_)) {
    Fail("cannot write the usage export checkpoint in " + options_.dir);
    return false;
  }
  return true;
}

void UsageExporter::Fail(std::string message) {
  failures_.fetch_add(1, std::memory_order_relaxed);
  store_ok_.store(false, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(error_mu_);
  last_error_ = std::move(message);
}

std::string UsageExporter::last_error() const {
  std::lock_guard<std::mutex> lock(error_mu_);
  return last_error_;
}

}  // namespace sluice
