// Request ids: validation of ids sent by clients and generation of new ones
// ("req_" + 32 hex digits, the shape OpenAI uses). Generation uses a per-thread generator
// seeded from the OS, so it needs no lock. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace sluice {

// 1..128 characters from [A-Za-z0-9._:/+=-]: safe to echo in headers and logs.
bool IsValidRequestId(std::string_view id);
void GenerateRequestId(std::string& out);

}  // namespace sluice
