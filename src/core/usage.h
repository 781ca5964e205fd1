// Token usage of one request as the upstream reported it (OpenAI's `usage` object). Filled
// by the relays, read by OnComplete consumers (access log; later usage records, budgets,
// metrics). Plain value type.
#pragma once

#include <cstdint>

namespace sluice {

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t total_tokens = 0;
  int64_t cached_tokens = 0;
  bool known = false;  // true once an upstream `usage` object was seen
};

}  // namespace sluice
