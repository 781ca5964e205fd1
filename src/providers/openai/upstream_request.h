// The OpenAI-compatible dialect: how a client request becomes an upstream request
// (re-serialised from the parsed JSON with the upstream model name and, for streams,
// stream_options.include_usage forced on so usage is always known) and which upstream
// response headers reach the client. Used by http/proxy. Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "config/snapshot.h"
#include "core/request_context.h"

namespace sluice {

// Path after the backend's base path, e.g. "/chat/completions".
std::string_view UpstreamPathSuffix(RouteKind route);

// REQUIRES: ctx.JsonBody() is an object (the model was resolved).
void BuildUpstreamBody(RequestContext& ctx, const ModelConfig& model, std::string& out);
// The same for one deployment's model name: called again for each attempt of a retried or
// fallen-back request, so "model" is compared with what the body holds now.
void BuildUpstreamBody(RequestContext& ctx, std::string_view upstream_model, std::string& out);

// The request head: request line, Host, framing, the provider key (from config, never
// from the client), the backend's static headers and the headers filters added.
void BuildUpstreamHead(const RequestContext& ctx, const BackendConfig& backend, size_t body_size,
                       std::string& out);

// True for upstream response headers that are safe and useful to pass to the client.
bool ForwardResponseHeader(std::string_view name);

// True when an SSE data payload is the usage-only chunk ("choices":[] plus usage) that
// the gateway requested for itself and must drop when the client did not ask for usage.
bool IsUsageOnlyChunk(std::string_view data);

// Removes a top-level `"usage":null` member (and its separating comma) from an SSE event's
// text. Upstreams add it to every chunk once include_usage is on; a client that did not
// ask for usage must see the chunks it would have seen without the gateway. Returns true
// when something was removed.
bool StripNullUsage(std::string& event_text);

}  // namespace sluice
