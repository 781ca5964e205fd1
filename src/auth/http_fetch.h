// A small HTTPS/HTTP GET client for control-plane fetches (JWKS documents): one request,
// one response body, certificate and host-name verification on, bounded size and time.
// Not for the data path (the proxy has pooled connections for that). Each call is
// independent; run it on any io_context.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <optional>
#include <string>

namespace sluice {

struct FetchResult {
  int status = 0;
  std::string body;
  std::string error;  // empty on success
};

boost::asio::awaitable<FetchResult> HttpGet(const std::string& url, boost::asio::ssl::context& tls,
                                            std::chrono::milliseconds timeout,
                                            size_t max_body_bytes = 1024 * 1024);

}  // namespace sluice
