// The GCRA formulas of gcra.h; see there for the specification.
#include "limits/gcra.h"

#include <algorithm>

namespace sluice::limits {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

int64_t SaturatingMul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return (a < 0) != (b < 0) ? -kMax : kMax;
  return r;
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return b < 0 ? -kMax : kMax;
  return r;
}

// State at `now` for a TAT that is already stored (possibly in the past).
void FillState(int64_t tat, int64_t now_us, const GcraParams& p, GcraResult& r) {
  const int64_t tau = SaturatingMul(p.emission_us, p.burst);
  const int64_t ahead = std::max(tat, now_us) - now_us;  // >= 0
  r.remaining = std::max<int64_t>(0, tau - ahead) / p.emission_us;
  r.reset_us = ahead;
}

}  // namespace

int64_t EmissionIntervalUs(int64_t limit, int64_t period_us) {
  if (limit < 1) limit = 1;
  if (period_us < 1) period_us = 1;
  return std::max<int64_t>(1, period_us / limit + (period_us % limit != 0 ? 1 : 0));
}

GcraParams MakeGcraParams(int64_t limit, int64_t period_us, int64_t burst) {
  return GcraParams{EmissionIntervalUs(limit, period_us), std::max<int64_t>(1, burst)};
}

GcraResult GcraCharge(int64_t tat, int64_t now_us, int64_t amount, const GcraParams& p) {
  GcraResult r;
  r.new_tat = tat;
  if (amount < 0) amount = 0;
  if (amount > p.burst) {
    r.never_passes = true;
    r.retry_after_us = kNeverUs;
    FillState(tat, now_us, p, r);
    return r;
  }
  const int64_t tau = SaturatingMul(p.emission_us, p.burst);
  const int64_t new_tat =
      SaturatingAdd(std::max(tat, now_us), SaturatingMul(amount, p.emission_us));
  const int64_t ahead = new_tat - now_us;
  if (ahead <= tau) {
    r.allowed = true;
    r.new_tat = new_tat;
    r.remaining = (tau - ahead) / p.emission_us;
    r.reset_us = ahead;
    return r;
  }
  r.retry_after_us = (new_tat - tau) - now_us;
  FillState(tat, now_us, p, r);
  return r;
}

GcraResult GcraPeek(int64_t tat, int64_t now_us, const GcraParams& p) {
  GcraResult r;
  r.allowed = true;
  r.new_tat = tat;
  FillState(tat, now_us, p, r);
  return r;
}

int64_t GcraAdjust(int64_t tat, int64_t now_us, int64_t delta, const GcraParams& p) {
  if (delta > 0) return SaturatingAdd(std::max(tat, now_us), SaturatingMul(delta, p.emission_us));
  if (delta < 0 && tat > now_us) {
    return std::max(SaturatingAdd(tat, SaturatingMul(delta, p.emission_us)), now_us);
  }
  return tat;
}

}  // namespace sluice::limits
