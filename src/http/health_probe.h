// The real HealthProber (routing/health_checker.h): one active health check of a backend
// over a fresh upstream connection (plain TCP or TLS, verified as for requests): GET or HEAD
// of health_check.path with the backend's Host header, provider key and static headers, as
// the proxy sends them, and `Connection: close`; only the status line and headers are read.
// Bounded by health_check.timeout from the DNS lookup to the response head. Stateless;
// thread-safe (each probe owns its connection).
#pragma once

#include <string>

#include "config/snapshot.h"
#include "routing/health_checker.h"

namespace sluice {

class UpstreamHealthProber final : public routing::HealthProber {
 public:
  boost::asio::awaitable<routing::ProbeResult> Probe(boost::asio::io_context& io,
                                                     const BackendConfig& backend) override;
};

// The request a health check sends (exposed for tests): no body, connection closed after.
std::string HealthCheckRequest(const BackendConfig& backend);

}  // namespace sluice
