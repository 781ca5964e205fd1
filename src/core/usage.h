// Token usage of one request as the upstream reported it (OpenAI's `usage` object), or as
// the gateway counted it when it cut a stream at a budget (`estimated`). Filled by the
// relays, read by OnComplete consumers (access log, usage records, budgets). Plain value type.
#pragma once

#include <cstdint>

namespace sluice {

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t total_tokens = 0;
  int64_t cached_tokens = 0;
  bool known = false;      // true once an upstream `usage` object was seen (or a cut set it)
  bool estimated = false;  // counted by the gateway, not reported by the upstream
};

}  // namespace sluice
