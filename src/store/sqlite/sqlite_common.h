// Helpers shared by the SqliteStore source files (one per table group): input checks that
// produce kInvalid/kNotFound errors. Header-only, internal to store/sqlite; pure functions,
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "store/store.h"

namespace sluice::sqlite {

inline constexpr int kMaxPageLimit = 1000;

inline StoreError Invalid(std::string message) {
  return StoreError{StoreErrorCode::kInvalid, std::move(message)};
}

inline StoreError NotFound(std::string message) {
  return StoreError{StoreErrorCode::kNotFound, std::move(message)};
}

// Stored data that does not decode (hand-edited or damaged file): reported as unavailable.
inline StoreError Corrupt(std::string message) {
  return StoreError{StoreErrorCode::kUnavailable, std::move(message)};
}

inline std::optional<StoreError> CheckPage(const Page& page) {
  if (page.limit < 1 || page.limit > kMaxPageLimit) {
    return Invalid("page limit must be between 1 and 1000, got " + std::to_string(page.limit));
  }
  return std::nullopt;
}

}  // namespace sluice::sqlite
