// The deterministic completion text and the usage arithmetic of sluice-mock. Token i
// (0-based) is kWords[i % kWordCount], preceded by a space when i > 0, so any prefix of the
// stream is known without state and the non-stream content equals the streamed deltas.
// Prompt tokens are estimated as ceil(bytes / 4), minimum 1. Pure functions over
// immutable tables; thread-safe.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

// ASCII words with nothing to escape in JSON, so token text can be copied into JSON as is.
inline constexpr std::string_view kWords[] = {
    "Hello",         "from",  "the",       "simulated", "upstream", "model",      "server.", "This",
    "deterministic", "reply", "is",        "generated", "one",      "token",      "at",      "a",
    "time",          "so",    "gateways,", "tests",     "and",      "benchmarks", "see",     "the",
    "same",          "text",  "every",     "run."};
inline constexpr int64_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);

// Token i's text including its leading space (none for token 0).
std::string_view TokenText(int64_t i);

// Bytes of the concatenation of tokens [0, n).
uint64_t ContentBytes(int64_t n);

// Smallest token count whose content has at least `bytes` bytes (0 for bytes <= 0).
int64_t TokensForBytes(int64_t bytes);

// Appends the concatenation of tokens [0, n) (raw text, which is also valid JSON string
// content). Copies from a prebuilt table for the common sizes.
void AppendContent(std::string& out, int64_t n);

// ceil(bytes / 4), minimum 1.
int64_t PromptTokensFromBytes(uint64_t bytes);

// UTF-8 bytes of every message content: string contents and the "text" of array parts.
uint64_t ChatPromptBytes(const boost::json::value* messages);

// UTF-8 bytes of a completions prompt or an embeddings input: a string, an array of
// strings, an array of token ids or an array of token-id arrays. Each token id counts as
// 4 bytes, so N token ids give exactly N prompt tokens.
uint64_t InputBytes(const boost::json::value* input);

}  // namespace sluice
