// sluice-mock's request handling without sockets: routes a complete HTTP request, checks
// auth, parses the JSON body, applies flags, overrides and injected faults, and appends the
// response (head and body, or only the head of a stream) to the connection's output. What
// must happen next (write now, wait, stream, reset) is returned as a ResponsePlan that the
// connection executes. One MockService per worker thread; not thread-safe. The catalog it
// reads is shared and immutable, except the health status (one atomic, any thread).
#pragma once

#include <atomic>
#include <boost/json/fwd.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_types.h"
#include "core/random.h"
#include "core/response_head.h"
#include "mock_config.h"
#include "mock_format.h"
#include "mock_stats.h"

namespace sluice {

// Parts of every response that only depend on the flags, built once at startup.
class MockCatalog {
 public:
  explicit MockCatalog(const MockConfig& config);
  const MockConfig& config() const { return config_; }
  bool HasModel(std::string_view model) const;
  const std::string& models_body() const { return models_body_; }
  const HeaderBlock& stream_headers() const { return stream_headers_; }
  const HeaderBlock& no_headers() const { return no_headers_; }
  // The status GET /health answers: --health-status, then what POST /mock/health (or
  // MockServer::SetHealthStatus) last set. One atomic shared by all workers, so tests can
  // make a running mock fail its health checks and recover.
  int health_status() const { return health_status_.load(std::memory_order_relaxed); }
  void set_health_status(int status) const {
    health_status_.store(status, std::memory_order_relaxed);
  }

 private:
  const MockConfig& config_;
  mutable std::atomic<int> health_status_;
  std::string models_body_;
  HeaderBlock stream_headers_;
  HeaderBlock no_headers_;
};

// Appends {"id":..,"object":"model","created":..,"owned_by":"sluice-mock"}.
void AppendModelObject(std::string& out, std::string_view id);

struct ResponsePlan {
  enum class Kind : uint8_t {
    kWrite,   // write the output (after `delay`)
    kStream,  // write the head, then run the stream with the emitter
    kReset,   // after `delay`, reset the connection without answering
  };
  Kind kind = Kind::kWrite;
  std::chrono::microseconds delay{0};
  bool keep_alive = true;
  // Streams only. Delays are bases; the connection adds ±jitter to each one.
  int64_t tokens = 0;
  std::chrono::microseconds ttft{0};
  std::chrono::microseconds itl{0};
  int64_t jitter_us = 0;
  int64_t reset_after = -1;  // cut the stream after this many tokens; -1: never
};

class MockService {
 public:
  MockService(const MockCatalog& catalog, StatsRegistry& stats, size_t worker_index);

  // Handles one complete request (its body already read and de-chunked). Appends the
  // response to `out`; for streams only the head, and `emitter` is ready for the events.
  void Handle(const HttpRequest& request, std::string& out, ResponsePlan& plan,
              StreamEmitter& emitter);

  // A base delay with this request's jitter applied (never negative).
  std::chrono::microseconds Jittered(std::chrono::microseconds base, int64_t jitter_us);

  StatsCell& stats() { return stats_cell_; }
  Xoshiro256& rng() { return rng_; }

 private:
  // What the endpoint handlers work on for one request.
  struct Request {
    const HttpRequest& http;
    std::string& out;
    ResponsePlan& plan;
    StreamEmitter& emitter;
    const boost::json::object* body = nullptr;  // the parsed body (POST endpoints)
  };
  void Dispatch(Request& r);
  void HandleCompletion(Request& r, Dialect dialect);
  // Reads the "mock" overrides and the model name; false after writing a 400.
  bool ReadOverridesAndModel(Request& r, RequestOverrides& overrides, std::string_view& model);
  void HandleEmbeddings(Request& r);
  void HandleModel(Request& r, std::string_view encoded_id);
  void HandleStats(Request& r);
  void HandleHealth(Request& r);
  // GET or POST /mock/health: reads or sets the status GET /health answers.
  void HandleHealthControl(Request& r);
  bool CheckAuth(Request& r);
  // Applies a forced or random injected error; true when the request was answered.
  bool InjectError(Request& r, int64_t forced_status, std::chrono::microseconds latency);
  bool CheckModel(Request& r, std::string_view model);
  void WriteJson(Request& r, int status, std::string_view body);
  void WriteError(Request& r, int status, std::string_view message, std::string_view type,
                  std::string_view param, std::string_view code);
  void AppendResponseId(std::string& out, std::string_view prefix);

  const MockCatalog& catalog_;
  const MockConfig& config_;
  StatsRegistry& stats_registry_;
  StatsCell& stats_cell_;
  Xoshiro256 rng_;
  std::string body_;  // scratch: bodies are built here first, since the head needs their size
  std::string id_;
  std::string decoded_;
};

}  // namespace sluice
