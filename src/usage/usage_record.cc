// Journal encoding of UsageRecord: CRC-32C, the frame and the payload (version byte, then
// every field in declaration order: strings as varint length + bytes, integers as zigzag
// varints, the four flags in one varint). Pure functions; thread-safe.
#include "usage/usage_record.h"

#include <array>

namespace sluice {
namespace {

constexpr uint8_t kPayloadVersion = 1;

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    table[i] = crc;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

void PutVarint(uint64_t value, std::string& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void PutInt(int64_t value, std::string& out) {
  PutVarint((static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63), out);
}

void PutString(std::string_view text, std::string& out) {
  PutVarint(text.size(), out);
  out.append(text);
}

void PutU32(uint32_t value, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

uint32_t GetU32(const char* in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i)
    value |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return value;
}

// Reads the payload front to back; any overrun makes ok() false for good.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }

  uint64_t Varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return Fail();
      const uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return Fail();
  }
  int64_t Int() {
    const uint64_t zigzag = Varint();
    return static_cast<int64_t>((zigzag >> 1) ^ (0 - (zigzag & 1)));
  }
  std::string String() {
    const uint64_t size = Varint();
    if (!ok_ || size > data_.size() - pos_) {
      Fail();
      return {};
    }
    std::string text(data_.substr(pos_, size));
    pos_ += size;
    return text;
  }
  uint8_t Byte() {
    if (pos_ >= data_.size()) return static_cast<uint8_t>(Fail());
    return static_cast<uint8_t>(data_[pos_++]);
  }

 private:
  uint64_t Fail() {
    ok_ = false;
    pos_ = data_.size();
    return 0;
  }
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace

uint32_t Crc32c(std::string_view data, uint32_t crc) {
  crc = ~crc;
  for (char c : data) crc = kCrcTable[(crc ^ static_cast<uint8_t>(c)) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

void EncodeUsagePayload(const UsageRecord& r, std::string& out) {
  out.push_back(static_cast<char>(kPayloadVersion));
  PutString(r.request_id, out);
  PutInt(r.time_ms, out);
  PutString(r.key_id, out);
  PutString(r.user_id, out);
  PutString(r.team_id, out);
  PutString(r.model_requested, out);
  PutString(r.model_served, out);
  PutString(r.backend, out);
  PutInt(r.prompt_tokens, out);
  PutInt(r.completion_tokens, out);
  PutInt(r.cached_tokens, out);
  PutInt(r.cost_micros, out);
  PutInt(r.status, out);
  PutString(r.error_class, out);
  PutInt(r.latency_ms, out);
  PutInt(r.ttft_ms, out);
  PutString(r.experiment_arm, out);
  PutVarint(uint64_t{r.tokens_estimated} | uint64_t{r.stream} << 1 | uint64_t{r.cache_hit} << 2 |
                uint64_t{r.client_disconnected} << 3,
            out);
}

bool DecodeUsagePayload(std::string_view payload, UsageRecord* record) {
  Reader in(payload);
  if (in.Byte() < kPayloadVersion || !in.ok()) return false;
  UsageRecord r;
  r.request_id = in.String();
  r.time_ms = in.Int();
  r.key_id = in.String();
  r.user_id = in.String();
  r.team_id = in.String();
  r.model_requested = in.String();
  r.model_served = in.String();
  r.backend = in.String();
  r.prompt_tokens = in.Int();
  r.completion_tokens = in.Int();
  r.cached_tokens = in.Int();
  r.cost_micros = in.Int();
  r.status = static_cast<int32_t>(in.Int());
  r.error_class = in.String();
  r.latency_ms = in.Int();
  r.ttft_ms = in.Int();
  r.experiment_arm = in.String();
  const uint64_t flags = in.Varint();
  if (!in.ok()) return false;
  r.tokens_estimated = (flags & 1) != 0;
  r.stream = (flags & 2) != 0;
  r.cache_hit = (flags & 4) != 0;
  r.client_disconnected = (flags & 8) != 0;
  *record = std::move(r);
  return true;
}

void AppendUsageFrame(const UsageRecord& record, std::string& out) {
  const size_t start = out.size();
  out.append(kUsageFrameHeaderBytes, '\0');
  EncodeUsagePayload(record, out);
  const uint32_t length = static_cast<uint32_t>(out.size() - start - kUsageFrameHeaderBytes);
  PutU32(length, &out[start]);
  const uint32_t crc = Crc32c(std::string_view(out).substr(start + kUsageFrameHeaderBytes),
                              Crc32c(std::string_view(out).substr(start, 4)));
  PutU32(crc, &out[start + 4]);
}

FrameView ReadUsageFrame(std::string_view data) {
  FrameView view;
  if (data.size() < kUsageFrameHeaderBytes) return view;  // kIncomplete
  const uint32_t length = GetU32(data.data());
  if (length == 0 || length > kMaxUsagePayloadBytes) {
    view.status = FrameStatus::kCorrupt;
    return view;
  }
  if (data.size() - kUsageFrameHeaderBytes < length) return view;  // kIncomplete
  const std::string_view payload = data.substr(kUsageFrameHeaderBytes, length);
  if (Crc32c(payload, Crc32c(data.substr(0, 4))) != GetU32(data.data() + 4)) {
    view.status = FrameStatus::kCorrupt;
    return view;
  }
  view.status = FrameStatus::kOk;
  view.frame_bytes = kUsageFrameHeaderBytes + length;
  view.payload = payload;
  return view;
}

}  // namespace sluice
