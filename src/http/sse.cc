// SseParser state machine and the usage extractor shared by streaming and non-streaming
// relays.
#include "http/sse.h"

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/stream_parser.hpp>
#include <cstring>

namespace sluice {

void SseParser::Reset() {
  buffer_.clear();
  start_ = scan_ = checked_ = 0;
  ResetEvent();
}

void SseParser::ResetEvent() {
  name_begin_ = name_len_ = data_begin_ = data_len_ = 0;
  data_lines_ = 0;
  saw_field_ = false;
  joined_data_.clear();
}

void SseParser::Feed(std::string_view bytes) {
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    scan_ = checked_ = 0;
    start_ = 0;
  } else if (start_ > 4096 && start_ * 2 > buffer_.size()) {
    buffer_.erase(0, start_);
    scan_ -= start_;
    checked_ = checked_ >= start_ ? checked_ - start_ : 0;
    name_begin_ = name_begin_ >= start_ ? name_begin_ - start_ : 0;
    data_begin_ = data_begin_ >= start_ ? data_begin_ - start_ : 0;
    start_ = 0;
  }
  buffer_.append(bytes);
}

void SseParser::TakeLine(size_t begin, size_t end) {
  std::string_view line(buffer_.data() + begin, end - begin);
  if (!line.empty() && line.front() == ':') return;  // comment
  saw_field_ = true;
  size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  size_t value_begin = colon == std::string_view::npos ? line.size() : colon + 1;
  if (value_begin < line.size() && line[value_begin] == ' ') ++value_begin;
  size_t value_len = line.size() - value_begin;
  if (field == "data") {
    if (data_lines_ == 0) {
      data_begin_ = begin + value_begin;
      data_len_ = value_len;
    } else {
      if (data_lines_ == 1) joined_data_.assign(buffer_.data() + data_begin_, data_len_);
      joined_data_.push_back('\n');
      joined_data_.append(line.substr(value_begin));
    }
    ++data_lines_;
  } else if (field == "event") {
    name_begin_ = begin + value_begin;
    name_len_ = value_len;
  }
  // id, retry and unknown fields pass through in `raw` untouched.
}

SseParser::Result SseParser::Next(SseEvent& event) {
  const char* data = buffer_.data();
  size_t size = buffer_.size();
  while (scan_ < size) {
    // Find the line end: LF, CRLF or a lone CR. Search for LF first and look for CR only
    // inside that line, and never rescan the part of an unfinished line already searched,
    // so scanning stays linear however the bytes are split (even one byte per read).
    size_t from = std::max(scan_, checked_);
    const void* lf = std::memchr(data + from, '\n', size - from);
    size_t lf_pos = lf ? static_cast<const char*>(lf) - data : size;
    const void* cr = std::memchr(data + from, '\r', lf_pos - from);
    size_t line_end;
    size_t next;
    if (cr != nullptr) {
      size_t cr_pos = static_cast<const char*>(cr) - data;
      if (cr_pos + 1 == size) {  // CR at the end: might be the first half of CRLF
        checked_ = cr_pos;
        break;
      }
      line_end = cr_pos;
      next = data[cr_pos + 1] == '\n' ? cr_pos + 2 : cr_pos + 1;
    } else if (lf != nullptr) {
      line_end = lf_pos;
      next = lf_pos + 1;
    } else {
      checked_ = size;
      break;
    }
    if (line_end == scan_) {  // blank line: the event ends here
      if (scan_ == start_) {  // stray blank line between events
        start_ = scan_ = next;
        continue;
      }
      // Also when the whole event arrived in one piece, not only while it accumulates.
      if (next - start_ > max_event_bytes_) return Result::kTooLarge;
      event.raw = std::string_view(data + start_, next - start_);
      event.name = std::string_view(data + name_begin_, name_len_);
      event.has_data = data_lines_ > 0;
      event.data = data_lines_ > 1 ? std::string_view(joined_data_)
                                   : std::string_view(data + data_begin_, data_len_);
      event.comment_only = !saw_field_;
      start_ = scan_ = next;
      // Reset the field offsets but keep joined_data_ alive until the next call.
      name_begin_ = name_len_ = data_begin_ = data_len_ = 0;
      data_lines_ = 0;
      saw_field_ = false;
      return Result::kEvent;
    }
    if (data_lines_ > 1 && joined_data_.size() > max_event_bytes_) return Result::kTooLarge;
    if (data_lines_ <= 1 && !joined_data_.empty()) joined_data_.clear();
    TakeLine(scan_, line_end);
    scan_ = next;
  }
  if (size - start_ > max_event_bytes_) return Result::kTooLarge;
  return Result::kNeedMore;
}

void AppendSseData(std::string& out, std::string_view payload) {
  out.append("data: ");
  out.append(payload);
  out.append("\n\n");
}

namespace {

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Members whose non-empty string value is generated text.
constexpr std::string_view kTokenKeys[] = {"content",   "text",    "reasoning_content",
                                           "reasoning", "refusal", "arguments"};

}  // namespace

int64_t StreamChunkTokens(std::string_view data) {
  // Walks the colons from the end: the generated text sits near the end of a chunk (only
  // "logprobs", "finish_reason" and "usage" follow it), so a chunk with a token is decided
  // after a few colons (~45 ns for a 200-byte vLLM chunk, a sixth of a scan over every
  // quote). A colon counts when a non-empty string follows it and `"key"` precedes it with
  // '{', ',' or whitespace before the key's quote. Inside a JSON string every quote is
  // escaped (preceded by '\\'), so text that merely looks like a member never matches.
  const char* begin = data.data();
  const char* p = begin + data.size();
  const char* end = p;
  while (p > begin) {
    const void* hit = memrchr(begin, ':', static_cast<size_t>(p - begin));
    if (hit == nullptr) return 0;
    const char* colon = static_cast<const char*>(hit);
    p = colon;
    const char* value = colon + 1;
    while (value < end && IsJsonSpace(*value)) ++value;
    // null, "", arrays (logprobs.content) and objects carry no token.
    if (end - value < 2 || value[0] != '"' || value[1] == '"') continue;
    const char* name_end = colon;  // one past the name's closing quote
    while (name_end > begin && IsJsonSpace(name_end[-1])) --name_end;
    if (name_end == begin || name_end[-1] != '"') continue;
    --name_end;
    for (std::string_view key : kTokenKeys) {
      if (static_cast<size_t>(name_end - begin) < key.size() + 2) continue;
      const char* name = name_end - key.size();
      if (name[-1] != '"' || std::memcmp(name, key.data(), key.size()) != 0) continue;
      char before = name[-2];
      if (before == '{' || before == ',' || IsJsonSpace(before)) return 1;
    }
  }
  return 0;
}

namespace {

// Reads a non-negative integer member of a JSON object, clamped to [0, 2^53] so a broken
// upstream can neither make the conversion undefined nor overflow the sums of counts.
int64_t ReadCount(const boost::json::object& obj, std::string_view key) {
  constexpr int64_t kMax = int64_t{1} << 53;
  const boost::json::value* v = obj.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return std::clamp<int64_t>(v->get_int64(), 0, kMax);
  if (v->is_uint64()) return static_cast<int64_t>(std::min<uint64_t>(v->get_uint64(), kMax));
  if (v->is_double()) {
    double d = v->get_double();
    if (!(d > 0)) return 0;  // also NaN
    return d >= static_cast<double>(kMax) ? kMax : static_cast<int64_t>(d);
  }
  return 0;
}

}  // namespace

bool ExtractUsage(std::string_view json, Usage& usage) {
  // The key can only appear unescaped outside strings, so a raw search is exact enough:
  // OpenAI-style documents carry one top-level "usage" and no nested object of that name.
  // A string value that is exactly "usage" (say, in content) can follow the real key, so
  // occurrences are tried from the last backwards until one is a key with an object value.
  constexpr std::string_view kKey = "\"usage\"";
  size_t pos = std::string_view::npos;
  for (size_t hit = json.rfind(kKey); hit != std::string_view::npos;
       hit = hit == 0 ? std::string_view::npos : json.rfind(kKey, hit - 1)) {
    size_t p = hit + kKey.size();
    while (p < json.size() &&
           (json[p] == ' ' || json[p] == '\t' || json[p] == '\n' || json[p] == '\r'))
      ++p;
    if (p >= json.size() || json[p] != ':') continue;
    ++p;
    while (p < json.size() &&
           (json[p] == ' ' || json[p] == '\t' || json[p] == '\n' || json[p] == '\r'))
      ++p;
    if (p < json.size() && json[p] == '{') {
      pos = p;
      break;
    }
    if (json.substr(p, 4) == "null") return false;  // the key itself, with no usage
  }
  if (pos == std::string_view::npos) return false;
  // Parse with stack memory only: the usage object is small.
  unsigned char value_memory[1024];
  unsigned char parser_memory[512];
  boost::json::monotonic_resource arena(value_memory, sizeof(value_memory));
  boost::json::stream_parser parser(boost::json::storage_ptr(), boost::json::parse_options(),
                                    parser_memory, sizeof(parser_memory));
  parser.reset(boost::json::storage_ptr(&arena));
  boost::system::error_code ec;
  size_t used = parser.write_some(json.data() + pos, json.size() - pos, ec);
  (void)used;
  if (ec || !parser.done()) return false;
  boost::json::value v = parser.release();
  if (!v.is_object()) return false;
  const boost::json::object& obj = v.get_object();
  usage.prompt_tokens = ReadCount(obj, "prompt_tokens");
  usage.completion_tokens = ReadCount(obj, "completion_tokens");
  usage.total_tokens = ReadCount(obj, "total_tokens");
  if (usage.total_tokens == 0) usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  usage.cached_tokens = 0;
  if (const auto* details = obj.if_contains("prompt_tokens_details");
      details && details->is_object()) {
    usage.cached_tokens = ReadCount(details->get_object(), "cached_tokens");
  }
  usage.known = true;
  return true;
}

}  // namespace sluice
