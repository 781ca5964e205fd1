// A deterministic estimate of a request's tokens from its parsed JSON body, made at
// admission to reserve tokens (and money) before the upstream answers; the reservation is
// settled later with the upstream's real usage. Pure functions; thread-safe.
//
// The estimate (the numbers are the contract of token_estimator_test.cc):
//   text(s)      = ceil(utf8_bytes(s) / 4)                       (0 for "")
//   json(v)      = ceil(compact_json_size(v) / 4), where compact_json_size counts strings as
//                  their bytes + 2 quotes (escapes not counted), integers as their decimal
//                  digits (and sign), doubles as 8, true/null 4, false 5, and the brackets,
//                  colons and commas of compact JSON
//   chat         = sum over messages of [3 + for each field: "content" → content tokens,
//                  other string fields → text (and +1 for "name"), other values (tool_calls,
//                  function_call...) → json]  + 3 (reply priming)
//                  + json(tools) + json(functions) when present
//     content    = a string → text; an array of parts → per part: {"type":"text"} → text(text),
//                  {"type":"image_url"} → 765 (85 when "detail" is "low"), any other part →
//                  json(part); null → 0
//   completions  = prompt: a string → text; an array → per element: a string → text, a token
//                  id → 1, an array of token ids → its length
//   embeddings   = input: as a completions prompt
// The body's kind is found by its fields: "messages", else "prompt", else "input".
// Completion reservation: max_completion_tokens, else max_tokens, else the configured
// default; times n (default 1); 0 for embeddings. Negative or non-integer values are
// ignored (the next source applies).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string_view>

namespace sluice::limits {

inline constexpr int64_t kTokensPerMessage = 3;
inline constexpr int64_t kTokensPerName = 1;
inline constexpr int64_t kReplyPrimingTokens = 3;
inline constexpr int64_t kImageTokens = 765;          // a 1024x1024 image at high detail
inline constexpr int64_t kLowDetailImageTokens = 85;  // any image at "detail": "low"

struct TokenEstimate {
  int64_t prompt = 0;
  int64_t completion_reserve = 0;
  int64_t total() const { return prompt + completion_reserve; }
};

TokenEstimate EstimateTokens(const boost::json::object& body, int64_t default_completion_tokens);

int64_t TextTokens(std::string_view text);
int64_t JsonTokens(const boost::json::value& value);
int64_t CompactJsonSize(const boost::json::value& value);

}  // namespace sluice::limits
