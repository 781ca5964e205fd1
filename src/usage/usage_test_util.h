// Test helpers for src/usage: a fresh temporary journal directory (removed before and after
// use), records with every field set, and reading a journal directory back frame by frame.
// Used by usage/*_test.cc only; each helper is used from one thread.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "store/store.h"
#include "usage/usage_journal.h"
#include "usage/usage_record.h"

namespace sluice {

class TempJournalDir {
 public:
  explicit TempJournalDir(const std::string& name)
      : path_(testing::TempDir() + "sluice_usage_" + name + "_" + std::to_string(getpid())) {
    std::filesystem::remove_all(path_);
  }
  ~TempJournalDir() { std::filesystem::remove_all(path_); }
  TempJournalDir(const TempJournalDir&) = delete;
  TempJournalDir& operator=(const TempJournalDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline UsageRecord MakeRecord(const std::string& request_id, int64_t n = 1) {
  UsageRecord r;
  r.request_id = request_id;
  r.time_ms = 1'767'225'600'000 + n;
  r.key_id = "key_" + request_id;  // one group per record in by-key reports
  r.user_id = "usr_1";
  r.team_id = "team_1";
  r.model_requested = "gpt-4o";
  r.model_served = "gpt-4o-2024-08-06";
  r.backend = "openai-east";
  r.prompt_tokens = 100 + n;
  r.completion_tokens = 20;
  r.cached_tokens = 3;
  r.tokens_estimated = (n % 2) == 0;
  r.cost_micros = 1234;
  r.status = 200;
  r.error_class = "";
  r.latency_ms = 321;
  r.ttft_ms = 45;
  r.stream = true;
  r.cache_hit = (n % 3) == 0;
  r.client_disconnected = false;
  r.experiment_arm = "b";
  return r;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Every whole frame of every segment in `dir`, in order (stops a segment at a bad frame).
inline std::vector<UsageRecord> ReadJournal(const std::string& dir) {
  std::vector<UsageRecord> records;
  for (uint64_t seq : ListUsageSegments(dir)) {
    const std::string bytes = ReadFile(UsageSegmentPath(dir, seq));
    std::string_view rest = bytes;
    for (FrameView frame = ReadUsageFrame(rest); frame.status == FrameStatus::kOk;
         frame = ReadUsageFrame(rest)) {
      UsageRecord record;
      EXPECT_TRUE(DecodeUsagePayload(frame.payload, &record));
      records.push_back(record);
      rest.remove_prefix(frame.frame_bytes);
    }
  }
  return records;
}

}  // namespace sluice
