// An in-process OTLP/HTTP JSON receiver for tests: a collector stand-in on 127.0.0.1 (port
// chosen by the OS) running its own thread. It accepts POST /v1/traces with an
// ExportTraceServiceRequest body, keeps the spans as plain structs, and can be told to
// answer errors (503, 429 with Retry-After, 400) or to drop idle keep-alive connections.
// Thread-safe: every public member may be called from any thread.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace sluice::testing {

struct ReceivedSpan {
  std::string service_name;  // the resource's service.name
  std::string trace_id;      // lowercase hex as sent
  std::string span_id;
  std::string parent_span_id;  // "" when absent
  std::string name;
  int kind = 0;
  std::string start_time_unix_nano;
  std::string end_time_unix_nano;
  std::map<std::string, std::string> attributes;  // int/double/bool rendered as text
  int status_code = 0;
  std::string status_message;
};

class OtlpReceiver {
 public:
  OtlpReceiver();   // listening when constructed
  ~OtlpReceiver();  // Stop()
  OtlpReceiver(const OtlpReceiver&) = delete;
  OtlpReceiver& operator=(const OtlpReceiver&) = delete;

  uint16_t port() const { return port_; }
  std::string endpoint() const;  // http://127.0.0.1:<port>/v1/traces

  std::vector<ReceivedSpan> spans() const;
  // Spans per accepted request, in arrival order.
  std::vector<size_t> batch_sizes() const;
  size_t requests() const;     // every request received, whatever the answer
  size_t connections() const;  // connections accepted
  // A request header of the last request ("" when absent).
  std::string last_header(const std::string& name) const;

  // Bounded waits (condition variable): false on timeout.
  bool WaitForSpans(size_t n, std::chrono::milliseconds timeout) const;
  bool WaitForRequests(size_t n, std::chrono::milliseconds timeout) const;

  // The status every request gets from now on (non-2xx: the spans are not kept).
  void SetStatus(int status);
  // The next `count` requests get `status` (with Retry-After: `retry_after` if not empty);
  // then SetStatus's status applies again.
  void FailNext(int count, int status, std::string retry_after = "");
  // Closes each connection right after answering (while still advertising keep-alive), as
  // a collector with a short idle timeout does.
  void SetDropIdleConnections(bool drop);

  // Closes the listener and every connection; later connects are refused. Idempotent.
  void Stop();

 private:
  struct Answer {
    int status;
    std::string retry_after;
  };
  class Connection;
  boost::asio::awaitable<void> AcceptLoop();
  boost::asio::awaitable<void> Serve(boost::asio::ip::tcp::socket socket);
  // Parses, stores and decides the answer for one request (io thread).
  Answer Handle(const std::string& method, const std::string& target,
                const std::string& content_type, const std::string& body,
                std::vector<std::pair<std::string, std::string>> headers);

  boost::asio::io_context io_{1};
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  std::set<Connection*> open_;  // io thread only
  uint16_t port_ = 0;
  std::atomic<bool> drop_idle_{false};
  std::atomic<bool> stopped_{false};

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<ReceivedSpan> spans_;                                // guarded by mutex_
  std::vector<size_t> batch_sizes_;                                // guarded by mutex_
  std::vector<std::pair<std::string, std::string>> last_headers_;  // guarded by mutex_
  size_t requests_ = 0;                                            // guarded by mutex_
  size_t connections_ = 0;                                         // guarded by mutex_
  int status_ = 200;                                               // guarded by mutex_
  int fail_count_ = 0;                                             // guarded by mutex_
  int fail_status_ = 503;                                          // guarded by mutex_
  std::string fail_retry_after_;                                   // guarded by mutex_

  std::thread thread_;
};

}  // namespace sluice::testing
