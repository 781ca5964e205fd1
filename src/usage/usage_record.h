// The usage record of one request (UsageRecord, declared with the store that keeps it in
// store/store.h) and its journal encoding: a compact binary payload inside a frame
// [u32 length][u32 CRC-32C of length and payload][payload], little-endian, so a reader finds
// where a torn or damaged tail begins and ignores it. Used by the usage journal (writer)
// and exporter (reader). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/store.h"

namespace sluice {

inline constexpr size_t kUsageFrameHeaderBytes = 8;
// A record is a few hundred bytes; a larger length can only be damage.
inline constexpr uint32_t kMaxUsagePayloadBytes = 1 << 20;

// CRC-32C (Castagnoli), as in iSCSI/ext4; `crc` continues an earlier value.
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

// Appends one frame holding `record` to `out` (no allocation beyond `out` growing).
void AppendUsageFrame(const UsageRecord& record, std::string& out);

// The payload alone, and back. Decoding checks every length against the input, so any byte
// string is safe to decode; false when it is not a record. Fields a newer writer appends
// after the known ones are ignored.
void EncodeUsagePayload(const UsageRecord& record, std::string& out);
bool DecodeUsagePayload(std::string_view payload, UsageRecord* record);

enum class FrameStatus {
  kOk,          // a whole frame with a matching checksum
  kIncomplete,  // `data` ends inside the frame (a torn tail, or not yet written)
  kCorrupt,     // impossible length or checksum mismatch (a torn or damaged tail)
};

struct FrameView {
  FrameStatus status = FrameStatus::kIncomplete;
  size_t frame_bytes = 0;    // header + payload, when kOk
  std::string_view payload;  // points into `data`, when kOk
};

// The frame at the start of `data`.
FrameView ReadUsageFrame(std::string_view data);

}  // namespace sluice
