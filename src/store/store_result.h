// Results of Store calls: a value or a StoreError (not found, conflict, invalid input,
// unavailable). Value types; thread-safe.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace sluice {

enum class StoreErrorCode { kNotFound, kConflict, kInvalid, kUnavailable };

struct StoreError {
  StoreErrorCode code;
  std::string message;  // for logs; never contains secrets
};

template <class T>
class StoreResult {
 public:
  StoreResult() : v_(T{}) {}  // a default value: awaitables need default-constructible results
  StoreResult(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design
  StoreResult(StoreError error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const StoreError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, StoreError> v_;
};

template <>
class StoreResult<void> {
 public:
  StoreResult() = default;
  StoreResult(StoreError error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const StoreError& error() const { return error_; }

 private:
  StoreError error_{StoreErrorCode::kNotFound, ""};
  bool ok_ = true;
};

}  // namespace sluice
