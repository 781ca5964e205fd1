// Glob matching of model patterns (see model_patterns.h).
#include "config/model_patterns.h"

#include "config/snapshot.h"

namespace sluice {

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative matcher with single-star backtracking: linear in practice, no recursion.
  size_t p = 0;
  size_t t = 0;
  size_t star = std::string_view::npos;
  size_t resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool ModelMatchesAny(const std::vector<std::string>& patterns, const ModelConfig& model,
                     std::string_view requested) {
  for (const std::string& pattern : patterns) {
    if (GlobMatch(pattern, model.name) || GlobMatch(pattern, requested)) return true;
    for (const std::string& alias : model.aliases) {
      if (GlobMatch(pattern, alias)) return true;
    }
  }
  return false;
}

}  // namespace sluice
