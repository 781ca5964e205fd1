// UpstreamHealthProber: resolve, connect (TLS verified), send the check, read the head.
#include "http/health_probe.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "config/health_check_loader.h"
#include "http/upstream_connection.h"

namespace sluice {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// What the timeout cancels: the lookup and the connection. Shared with the timer's handler,
// which may run after the probe has returned.
struct ProbeCall {
  ProbeCall(asio::io_context& io, const BackendConfig& backend)
      : resolver(io), connection(io, backend) {}
  tcp::resolver resolver;
  UpstreamConnection connection;
  bool finished = false;
};

std::string Describe(UpstreamFailure failure, std::chrono::milliseconds timeout) {
  switch (failure) {
    case UpstreamFailure::kConnect:
      return "connect failed";
    case UpstreamFailure::kTimeout:
      return "no answer within " + std::to_string(timeout.count()) + "ms";
    case UpstreamFailure::kReset:
      return "connection closed before the response";
    case UpstreamFailure::kBadResponse:
      return "malformed response";
    case UpstreamFailure::kTooLarge:
      return "response head too large";
    case UpstreamFailure::kAborted:
    case UpstreamFailure::kNone:
      break;
  }
  return "check aborted";
}

}  // namespace

std::string HealthCheckRequest(const BackendConfig& backend) {
  const HealthCheckConfig& check = backend.health_check;
  std::string out;
  out.append(check.method).append(" ").append(check.path).append(" HTTP/1.1\r\nHost: ");
  out.append(backend.host_header);
  out.append("\r\nUser-Agent: sluice-health-check\r\nAccept: */*\r\n");
  if (!backend.api_key.empty()) {
    out.append("Authorization: Bearer ").append(backend.api_key).append("\r\n");
  }
  out.append(backend.extra_headers);
  out.append("Connection: close\r\n\r\n");
  return out;
}

asio::awaitable<routing::ProbeResult> UpstreamHealthProber::Probe(asio::io_context& io,
                                                                  const BackendConfig& backend) {
  const HealthCheckConfig& check = backend.health_check;
  auto call = std::make_shared<ProbeCall>(io, backend);
  asio::steady_timer timer(io);
  timer.expires_after(check.timeout);
  std::shared_ptr<ProbeCall> timed = call;
  auto on_timeout = [timed](const boost::system::error_code& ec) {
    if (ec || timed->finished) return;
    timed->connection.OnTimeout();  // fails whatever the connection awaits with kTimeout
    timed->resolver.cancel();
  };
  timer.async_wait(on_timeout);

  routing::ProbeResult result;
  UpstreamFailure failure = UpstreamFailure::kNone;
  std::vector<tcp::endpoint> endpoints;
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(backend.host, ec);
  if (!ec) {
    endpoints.emplace_back(address, backend.port);
  } else {
    std::string port = std::to_string(backend.port);
    auto [rec, found] = co_await call->resolver.async_resolve(backend.host, port, kAwait);
    if (rec || found.empty()) {
      failure = call->connection.timed_out() || rec == asio::error::operation_aborted
                    ? UpstreamFailure::kTimeout
                    : UpstreamFailure::kConnect;
      result.error = failure == UpstreamFailure::kTimeout ? Describe(failure, check.timeout)
                                                          : "DNS lookup of the host failed";
    }
    for (const auto& entry : found) endpoints.push_back(entry.endpoint());
  }
  if (result.error.empty()) failure = co_await call->connection.Connect(endpoints);
  std::string request;
  if (result.error.empty() && failure == UpstreamFailure::kNone) {
    request = HealthCheckRequest(backend);
    asio::const_buffer buffer(request.data(), request.size());
    failure = co_await call->connection.Write(std::span<const asio::const_buffer>(&buffer, 1));
  }
  HttpResponseHead head;
  if (result.error.empty() && failure == UpstreamFailure::kNone) {
    HeadLimits limits;
    failure = co_await call->connection.ReadHead(limits, head);
  }
  call->finished = true;
  timer.cancel();
  if (!result.error.empty()) co_return result;
  if (failure != UpstreamFailure::kNone) {
    result.error = Describe(failure, check.timeout);
  } else if (!HealthStatusExpected(check, head.status)) {
    result.error = "status " + std::to_string(head.status);
  } else {
    result.ok = true;
  }
  co_return result;
}

}  // namespace sluice
