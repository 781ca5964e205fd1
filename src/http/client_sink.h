// What the request handlers (dispatch, proxy, relay) need from the client connection:
// writing response bytes, and noticing at once when the client goes away while the
// upstream is working. Implemented by Session; single-threaded.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <memory>
#include <span>
#include <string>

#include "core/response_head.h"

namespace sluice {

class Abortable;

// Scratch buffers for one request's exchange, owned by the connection so their capacity
// is reused from request to request instead of allocated each time.
struct ExchangeBuffers {
  std::string head;           // response head to the client
  std::string upstream_head;  // request head to the upstream
  std::string upstream_body;  // request body to the upstream
  std::string body;           // response body (buffered) or decoded upstream payload
  std::string batch;          // SSE events gathered for one client write
  std::string piece;          // one SSE event handed to filters
  // The upstream response's head as filters see it (its header block keeps its capacity).
  ResponseHead response_head;
  // Backing memory of the request's JSON arena (RequestContext::SetJsonScratch).
  static constexpr size_t kJsonScratchBytes = 4096;
  std::unique_ptr<unsigned char[]> json_scratch =
      std::make_unique<unsigned char[]>(kJsonScratchBytes);

  // Releases buffers that grew past a size worth keeping per idle connection.
  void ShrinkIfLarge() {
    for (std::string* s : {&head, &upstream_head, &upstream_body, &body, &batch, &piece}) {
      if (s->capacity() > kKeepCapacity) std::string().swap(*s);
    }
  }
  static constexpr size_t kKeepCapacity = 16 * 1024;
};

class ClientSink {
 public:
  virtual ~ClientSink() = default;
  // Writes all of `buffers` (one gather write) within the write timeout. Returns false
  // when the client is gone or too slow; the response is then abandoned.
  virtual boost::asio::awaitable<bool> Write(
      std::span<const boost::asio::const_buffer> buffers) = 0;
  // While the upstream works, watch the client socket: on disconnect, abort `target`.
  virtual void WatchForDisconnect(Abortable* target) = 0;
  virtual void StopWatching() = 0;
  virtual bool client_gone() const = 0;
  // HTTP/1.<minor> of the current request.
  virtual int minor_version() const = 0;
  // Whether the connection stays open after this response; handlers may turn it off.
  virtual bool keep_alive() const = 0;
  virtual void DisableKeepAlive() = 0;
  virtual ExchangeBuffers& buffers() = 0;
};

}  // namespace sluice
