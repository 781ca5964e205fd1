// Parent-based ratio sampling (see sampler.h).
#include "observability/sampler.h"

#include <cmath>

namespace sluice {

Sampler::Sampler(double ratio) {
  if (!(ratio > 0)) ratio = 0;  // also catches NaN
  if (ratio > 1) ratio = 1;
  ratio_ = ratio;
  // ratio * 2^64 does not fit a uint64_t when it rounds up to 2^64 (ratio == 1 or within
  // one ulp of it): those ratios sample everything.
  double scaled = std::ldexp(ratio, 64);
  always_ = scaled >= 18446744073709551616.0;
  threshold_ = always_ ? 0 : static_cast<uint64_t>(scaled);
}

bool Sampler::SampleRoot(const TraceId& trace_id) const {
  if (always_) return true;
  uint64_t low = 0;
  for (size_t i = 8; i < 16; ++i) low = low << 8 | trace_id.bytes[i];
  return low < threshold_;
}

}  // namespace sluice
