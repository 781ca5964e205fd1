// Deterministic embeddings for sluice-mock: each input's vector is drawn from a PRNG seeded
// with the FNV-1a hash of the input, then L2-normalised, so the same input always gives the
// same vector (whatever --seed is). Bodies are written as OpenAI's embeddings list with
// "float" (JSON numbers) or "base64" (little-endian float32 bytes) encoding.
// Pure functions; thread-safe.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

uint64_t Fnv1a(std::string_view bytes, uint64_t hash = 0xcbf29ce484222325ULL);

// Fills `out` with `dims` values, L2 norm 1, determined by `hash`.
void EmbeddingVector(uint64_t hash, size_t dims, std::vector<float>& out);

// Standard base64 (RFC 4648, with padding).
void AppendBase64(std::string& out, const unsigned char* data, size_t size);
// Decodes standard base64; false on bad input. Used by tests.
bool DecodeBase64(std::string_view text, std::string& out);

enum class EmbeddingEncoding : uint8_t { kFloat, kBase64 };

// Checks the shape of an embeddings "input" (string, array of strings, array of token ids,
// array of token-id arrays; not empty) and returns the number of items, or 0 with a
// client-facing message when it is invalid.
size_t CountEmbeddingInputs(const boost::json::value* input, std::string& message);

// Appends {"object":"list","data":[...],"model":..,"usage":{..}} for a validated input.
void AppendEmbeddingsBody(std::string& out, const boost::json::value& input, std::string_view model,
                          size_t dims, EmbeddingEncoding encoding, int64_t prompt_tokens);

}  // namespace sluice
