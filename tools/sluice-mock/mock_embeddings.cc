// Deterministic embedding vectors and their JSON encodings, float and base64 (see
// mock_embeddings.h). Pure functions plus a thread-local scratch vector; thread-safe.
#include "mock_embeddings.h"

#include <bit>
#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>
#include <cstring>

#include "core/json_text.h"
#include "core/random.h"

namespace sluice {
namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool IsTokenArray(const boost::json::array& list) {
  for (const boost::json::value& id : list) {
    if (!id.is_int64() && !id.is_uint64()) return false;
  }
  return true;
}

// Hashes a token id as 8 little-endian bytes, so [1, 2] and "12" never collide by layout.
uint64_t HashTokens(const boost::json::array& ids) {
  uint64_t hash = Fnv1a("tokens:");
  for (const boost::json::value& id : ids) {
    uint64_t v = id.is_int64() ? static_cast<uint64_t>(id.get_int64()) : id.get_uint64();
    unsigned char bytes[8];
    for (int k = 0; k < 8; ++k) bytes[k] = static_cast<unsigned char>(v >> (8 * k));
    hash = Fnv1a(std::string_view(reinterpret_cast<const char*>(bytes), 8), hash);
  }
  return hash;
}

void AppendOne(std::string& out, size_t index, uint64_t hash, size_t dims,
               EmbeddingEncoding encoding, std::vector<float>& scratch) {
  EmbeddingVector(hash, dims, scratch);
  if (index > 0) out.push_back(',');
  out.append("{\"object\":\"embedding\",\"index\":");
  AppendDecimal(out, static_cast<int64_t>(index));
  out.append(",\"embedding\":");
  if (encoding == EmbeddingEncoding::kBase64) {
    static_assert(std::endian::native == std::endian::little, "float32 bytes must be LE");
    out.push_back('"');
    AppendBase64(out, reinterpret_cast<const unsigned char*>(scratch.data()),
                 scratch.size() * sizeof(float));
    out.push_back('"');
  } else {
    out.push_back('[');
    char buf[32];
    for (size_t i = 0; i < scratch.size(); ++i) {
      if (i > 0) out.push_back(',');
      // Shortest text that reads back as the same float32.
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), scratch[i]);
      out.append(buf, end);
    }
    out.push_back(']');
  }
  out.push_back('}');
}

}  // namespace

uint64_t Fnv1a(std::string_view bytes, uint64_t hash) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

void EmbeddingVector(uint64_t hash, size_t dims, std::vector<float>& out) {
  out.resize(dims);
  uint64_t state = hash;
  double norm = 0;
  for (size_t i = 0; i < dims; ++i) {
    // Uniform in [-1, 1), never all zero in practice; guarded below anyway.
    double v = static_cast<double>(SplitMix64(state) >> 11) * 0x1.0p-52 - 1.0;
    out[i] = static_cast<float>(v);
    norm += v * v;
  }
  if (norm <= 0) {
    if (dims > 0) out[0] = 1.0f;
    return;
  }
  double scale = 1.0 / std::sqrt(norm);
  for (float& v : out) v = static_cast<float>(v * scale);
}

void AppendBase64(std::string& out, const unsigned char* data, size_t size) {
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    uint32_t n = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out.push_back(kBase64Alphabet[(n >> 18) & 63]);
    out.push_back(kBase64Alphabet[(n >> 12) & 63]);
    out.push_back(kBase64Alphabet[(n >> 6) & 63]);
    out.push_back(kBase64Alphabet[n & 63]);
  }
  size_t rest = size - i;
  if (rest == 0) return;
  uint32_t n = uint32_t{data[i]} << 16;
  if (rest == 2) n |= uint32_t{data[i + 1]} << 8;
  out.push_back(kBase64Alphabet[(n >> 18) & 63]);
  out.push_back(kBase64Alphabet[(n >> 12) & 63]);
  out.push_back(rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=');
  out.push_back('=');
}

bool DecodeBase64(std::string_view text, std::string& out) {
  if (text.size() % 4 != 0) return false;
  auto value = [](char c) -> int {
    const char* p = std::strchr(kBase64Alphabet, c);
    return (c != '\0' && p != nullptr) ? static_cast<int>(p - kBase64Alphabet) : -1;
  };
  out.clear();
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text[i + k];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return false;
      v[k] = value(c);
      if (v[k] < 0) return false;
    }
    uint32_t n = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | v[3];
    out.push_back(static_cast<char>(n >> 16));
    if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 255));
    if (pad < 1) out.push_back(static_cast<char>(n & 255));
  }
  return true;
}

size_t CountEmbeddingInputs(const boost::json::value* input, std::string& message) {
  if (input == nullptr) {
    message = "You must provide an input.";
    return 0;
  }
  if (input->is_string()) return 1;
  const boost::json::array* list = input->if_array();
  if (list == nullptr || list->empty()) {
    message =
        "'input' must be a string, an array of strings or an array of token arrays, "
        "and must not be empty.";
    return 0;
  }
  if (IsTokenArray(*list)) return 1;  // one input given as token ids
  bool strings = list->front().is_string();
  for (const boost::json::value& item : *list) {
    const boost::json::array* ids = item.if_array();
    bool ok = strings ? item.is_string() : ids != nullptr && !ids->empty() && IsTokenArray(*ids);
    if (!ok) {
      message = "'input' items must all be strings or all be non-empty arrays of token ids.";
      return 0;
    }
  }
  return list->size();
}

void AppendEmbeddingsBody(std::string& out, const boost::json::value& input, std::string_view model,
                          size_t dims, EmbeddingEncoding encoding, int64_t prompt_tokens) {
  thread_local std::vector<float> scratch;  // reused: no allocation per request once warm
  out.append("{\"object\":\"list\",\"data\":[");
  if (const boost::json::string* text = input.if_string()) {
    AppendOne(out, 0, Fnv1a(*text), dims, encoding, scratch);
  } else {
    const boost::json::array& list = input.get_array();
    if (IsTokenArray(list)) {
      AppendOne(out, 0, HashTokens(list), dims, encoding, scratch);
    } else {
      for (size_t i = 0; i < list.size(); ++i) {
        const boost::json::value& item = list[i];
        uint64_t hash = item.is_string() ? Fnv1a(item.get_string()) : HashTokens(item.get_array());
        AppendOne(out, i, hash, dims, encoding, scratch);
      }
    }
  }
  out.append("],\"model\":");
  AppendJsonString(out, model);
  out.append(",\"usage\":{\"prompt_tokens\":");
  AppendDecimal(out, prompt_tokens);
  out.append(",\"total_tokens\":");
  AppendDecimal(out, prompt_tokens);
  out.append("}}");
}

}  // namespace sluice
