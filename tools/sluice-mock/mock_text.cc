// Deterministic completion text and usage arithmetic of sluice-mock (see mock_text.h). The
// tables are built once on first use (thread-safe static init) and then only read.
#include "mock_text.h"

#include <array>
#include <boost/json/value.hpp>

namespace sluice {
namespace {

// Prebuilt content covers this many tokens (about 450 KB); longer replies are appended
// word by word.
constexpr int64_t kPrebuiltTokens = 1 << 16;

struct Tables {
  // prefix[k] = sum of kWords[0..k) lengths.
  std::array<uint64_t, kWordCount + 1> prefix{};
  std::array<std::string, kWordCount> spaced;  // " " + word
  std::string prebuilt;                        // tokens [0, kPrebuiltTokens)

  Tables() {
    for (int64_t k = 0; k < kWordCount; ++k) {
      prefix[k + 1] = prefix[k] + kWords[k].size();
      spaced[k].push_back(' ');
      spaced[k].append(kWords[k]);
    }
  }
};

const Tables& GetTables() {
  static const Tables tables;
  return tables;
}

const std::string& Prebuilt() {
  static const std::string text = [] {
    std::string s;
    s.reserve(ContentBytes(kPrebuiltTokens));
    for (int64_t i = 0; i < kPrebuiltTokens; ++i) s.append(TokenText(i));
    return s;
  }();
  return text;
}

}  // namespace

std::string_view TokenText(int64_t i) {
  if (i == 0) return kWords[0];
  return GetTables().spaced[static_cast<size_t>(i % kWordCount)];
}

uint64_t ContentBytes(int64_t n) {
  if (n <= 0) return 0;
  const Tables& t = GetTables();
  uint64_t cycles = static_cast<uint64_t>(n / kWordCount);
  uint64_t rest = static_cast<uint64_t>(n % kWordCount);
  // Word bytes plus one space before every token but the first.
  return cycles * t.prefix[kWordCount] + t.prefix[rest] + static_cast<uint64_t>(n - 1);
}

int64_t TokensForBytes(int64_t bytes) {
  if (bytes <= 0) return 0;
  int64_t lo = 1;
  int64_t hi = bytes;  // every token has at least one byte
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (ContentBytes(mid) >= static_cast<uint64_t>(bytes)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

void AppendContent(std::string& out, int64_t n) {
  if (n <= 0) return;
  const std::string& prebuilt = Prebuilt();
  int64_t copied = std::min(n, kPrebuiltTokens);
  out.append(prebuilt.data(), ContentBytes(copied));
  for (int64_t i = copied; i < n; ++i) out.append(TokenText(i));
}

int64_t PromptTokensFromBytes(uint64_t bytes) {
  uint64_t tokens = (bytes + 3) / 4;
  return tokens == 0 ? 1 : static_cast<int64_t>(tokens);
}

uint64_t ChatPromptBytes(const boost::json::value* messages) {
  uint64_t bytes = 0;
  const boost::json::array* list = messages != nullptr ? messages->if_array() : nullptr;
  if (list == nullptr) return 0;
  for (const boost::json::value& message : *list) {
    const boost::json::object* object = message.if_object();
    if (object == nullptr) continue;
    const boost::json::value* content = object->if_contains("content");
    if (content == nullptr) continue;
    if (const boost::json::string* text = content->if_string()) {
      bytes += text->size();
    } else if (const boost::json::array* parts = content->if_array()) {
      for (const boost::json::value& part : *parts) {
        const boost::json::object* part_object = part.if_object();
        if (part_object == nullptr) continue;
        const boost::json::value* part_text = part_object->if_contains("text");
        if (part_text != nullptr && part_text->is_string()) bytes += part_text->get_string().size();
      }
    }
  }
  return bytes;
}

uint64_t InputBytes(const boost::json::value* input) {
  if (input == nullptr) return 0;
  if (const boost::json::string* text = input->if_string()) return text->size();
  const boost::json::array* list = input->if_array();
  if (list == nullptr) return 0;
  uint64_t bytes = 0;
  for (const boost::json::value& item : *list) {
    if (const boost::json::string* text = item.if_string()) {
      bytes += text->size();
    } else if (item.is_number()) {
      bytes += 4;
    } else if (const boost::json::array* ids = item.if_array()) {
      bytes += 4 * ids->size();
    }
  }
  return bytes;
}

}  // namespace sluice
