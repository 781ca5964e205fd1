// Model patterns as tiers, key allow-lists and limit policies write them: exact names or
// globs ('*' any run of characters, '?' any one character; everything else literal), matched
// against a model's name, its aliases and the name the client sent. Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice {

struct ModelConfig;

bool GlobMatch(std::string_view pattern, std::string_view text);

// True when any pattern matches `model` (by name or alias) or `requested`.
bool ModelMatchesAny(const std::vector<std::string>& patterns, const ModelConfig& model,
                     std::string_view requested);

}  // namespace sluice
