// A response produced by the gateway itself instead of an upstream: errors in OpenAI's
// shape ({"error":{"message","type","param","code"}}) and small JSON documents (models
// list, health). Filters return one to end the request chain. Value type; not shared.
#pragma once

#include <string>
#include <string_view>

#include "core/errors.h"
#include "core/response_head.h"

namespace sluice {

struct LocalReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  HeaderBlock headers;
  ErrorClass error = ErrorClass::kNone;
};

// Builds the OpenAI error body for `error` with a human-readable `message`. `param` names
// the offending request field, empty → null. The status comes from the error table unless
// `status_override` is non-zero.
LocalReply ErrorReply(ErrorClass error, std::string_view message, std::string_view param = {},
                      int status_override = 0);

// Appends {"error":{...}} to `out`; shared by replies and SSE error events.
void AppendOpenAiError(std::string& out, std::string_view message, std::string_view type,
                       std::string_view param, std::string_view code);

LocalReply JsonReply(int status, std::string body);

std::string_view ReasonPhrase(int status);

}  // namespace sluice
