// sluice-mock's settings: the process-wide flags (MockConfig, filled by main.cc from the
// command line) and the per-request overrides read from the optional "mock" body field.
// The resolved per-request parameters (Effective) combine the two. MockConfig is
// immutable once the server starts and is shared read-only by all workers.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

struct MockConfig {
  std::string listen = "127.0.0.1:8081";
  int workers = 1;
  std::vector<std::string> models = {"gpt-4o-mini", "gpt-4o", "text-embedding-3-small"};
  bool strict_models = false;
  int64_t tokens = 16;
  int64_t ttft_ms = 0;
  int64_t itl_ms = 0;
  int64_t jitter_ms = 0;
  int64_t latency_ms = 0;
  int64_t response_bytes = 0;
  int64_t embedding_dims = 16;
  double error_rate = 0;
  int error_status = 500;
  double reset_rate = 0;
  int64_t reset_after = 0;
  std::optional<uint64_t> seed;
  std::string api_key;      // empty: no auth check
  int health_status = 200;  // what GET /health answers at start (POST /mock/health changes it)
  uint64_t max_body_bytes = 64ULL << 20;
};

// Upper bounds keep a typo in a test from asking for hours of delay or gigabytes of text.
inline constexpr int64_t kMaxTokens = 1'000'000;
inline constexpr int64_t kMaxDelayMs = 3'600'000;
inline constexpr int64_t kMaxResponseBytes = 64LL << 20;
inline constexpr int64_t kMaxEmbeddingDims = 65'536;

// The "mock" object of a request body: every field optional.
struct RequestOverrides {
  std::optional<int64_t> tokens;
  std::optional<int64_t> ttft_ms;
  std::optional<int64_t> itl_ms;
  std::optional<int64_t> jitter_ms;
  std::optional<int64_t> latency_ms;
  std::optional<int64_t> status;
  std::optional<int64_t> reset_after;
  std::optional<int64_t> response_bytes;
};

// Reads `mock` (the value of the body's "mock" field; null pointer when absent). On a bad
// field returns false with a client-facing message and the offending parameter name
// (e.g. "mock.tokens"). Unknown fields are ignored so newer tests run on older mocks.
bool ParseOverrides(const boost::json::value* mock, RequestOverrides& out, std::string& message,
                    std::string& param);

// Flags and overrides resolved for one request.
struct Effective {
  int64_t tokens = 0;  // before max_tokens truncation
  int64_t ttft_ms = 0;
  int64_t itl_ms = 0;
  int64_t jitter_ms = 0;
  int64_t latency_ms = 0;
};
// Per-request values beat flags. The token count comes from the most specific source:
// mock.response_bytes, mock.tokens, --response-bytes (non-stream replies only, so a mock
// started for ~1 KB bodies still streams --tokens tokens), then --tokens.
Effective Resolve(const MockConfig& config, const RequestOverrides& overrides, bool stream);

// Splits "host:port" or "[v6]:port". Returns false when the text has no valid port.
bool SplitHostPort(std::string_view text, std::string& host, uint16_t& port);

}  // namespace sluice
