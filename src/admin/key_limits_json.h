// A key's limit overrides (core/key_limits.h) as the admin API's `limits` object, read and
// written here once for the admin API and the CLI (through AdminOps). The names follow the
// limit policies of the configuration (docs/limits.md): `requests_per_minute`,
// `tokens_per_minute`, `concurrency` and `budgets: [{usd|tokens, per}]`.
// Pure functions; thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>

#include "core/key_limits.h"

namespace sluice {

// The largest amount a limit may have (the configuration's bound, limits_loader.cc).
inline constexpr int64_t kMaxKeyLimit = int64_t{1} << 50;

// null when nothing is overridden, else an object with the overridden fields only, e.g.
// {"requests_per_minute":600,"budgets":[{"usd":25,"per":"month"}]}: a valid `limits` input
// that reproduces the same overrides.
boost::json::value KeyLimitsJson(const KeyLimits& limits);

struct KeyLimitsError {
  std::string message;  // names the field, e.g. "'limits.concurrency' must be ..."
  std::string param;    // e.g. "limits.budgets[1].per"
};

// Applies a request's `limits` value to `limits` with JSON merge-patch rules: null clears
// every override; an object sets the fields it names, a field set to null clears that one,
// and `budgets` (null or a list of at most one usd and one tokens budget) replaces both
// budgets. Amounts are positive whole numbers (usd: a positive number of dollars, kept in
// micro-dollars); `per` is day, week or month (default month). On a problem returns it and
// leaves `limits` unchanged.
std::optional<KeyLimitsError> ApplyKeyLimits(const boost::json::value& patch, KeyLimits& limits);

}  // namespace sluice
