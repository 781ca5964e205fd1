// Time as the gateway sees it. Code that makes decisions on time (limiters, breakers,
// caches) takes a Clock so tests can drive a manual one instead of sleeping.
// SystemClock is stateless and thread-safe.
#pragma once

#include <chrono>

namespace sluice {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::steady_clock::duration;
using std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime Now() const = 0;
  virtual WallTime WallNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& Instance();
};

inline double ToMillis(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace sluice
