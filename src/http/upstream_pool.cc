// UpstreamPool: lease, return, trim, and DNS caching.
#include "http/upstream_pool.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sluice {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kDnsTtl = std::chrono::seconds(30);
}

UpstreamPool::UpstreamPool(asio::io_context& io, DeadlineSweeper& sweeper,
                           const BackendConfig& backend)
    : io_(io),
      sweeper_(sweeper),
      backend_(backend),
      identity_(PoolIdentity(backend)),
      resolver_(io) {}

std::string UpstreamPool::PoolIdentity(const BackendConfig& b) {
  std::string id;
  id.reserve(128);
  for (std::string_view part : {std::string_view(b.name), std::string_view(b.host),
                                std::string_view(b.server_name), std::string_view(b.tls_ca_file)}) {
    id += part;
    id += '\n';
  }
  for (int64_t n :
       {int64_t{b.port}, int64_t{b.tls}, int64_t{b.tls_verify}, int64_t(b.connect_timeout.count()),
        int64_t(b.pool_idle_timeout.count()), int64_t(b.max_idle_connections)}) {
    id += std::to_string(n);
    id += '\n';
  }
  return id;
}

asio::awaitable<bool> UpstreamPool::Resolve(std::vector<tcp::endpoint>& out) {
  SteadyTime now = std::chrono::steady_clock::now();
  if (!endpoints_.empty() && now < endpoints_expiry_) {
    out = endpoints_;
    co_return true;
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(backend_.host, ec);
  if (!ec) {
    endpoints_ = {tcp::endpoint(address, backend_.port)};
    endpoints_expiry_ = SteadyTime::max();
  } else {
    auto [rec, results] = co_await resolver_.async_resolve(
        backend_.host, std::to_string(backend_.port), asio::as_tuple(asio::use_awaitable));
    if (rec || results.empty()) co_return false;
    endpoints_.clear();
    for (const auto& r : results) endpoints_.push_back(r.endpoint());
    endpoints_expiry_ = now + kDnsTtl;
  }
  out = endpoints_;
  co_return true;
}

asio::awaitable<UpstreamPool::Lease> UpstreamPool::Acquire(bool fresh_only) {
  Lease lease;
  SteadyTime now = std::chrono::steady_clock::now();
  while (!fresh_only && !idle_.empty()) {
    std::unique_ptr<UpstreamConnection> conn = std::move(idle_.back());
    idle_.pop_back();
    if (now - conn->idle_since < backend_.pool_idle_timeout && conn->LooksAlive()) {
      lease.connection = std::move(conn);
      lease.reused = true;
      co_return lease;
    }
  }
  auto conn = std::make_unique<UpstreamConnection>(io_, backend_);
  sweeper_.Add(*conn);
  conn->SetTimeout(backend_.connect_timeout);
  std::vector<tcp::endpoint> endpoints;
  if (!co_await Resolve(endpoints)) {
    lease.failure = UpstreamFailure::kConnect;
    co_return lease;
  }
  if (conn->timed_out()) {  // the connect budget went to a slow DNS lookup
    lease.failure = UpstreamFailure::kTimeout;
    co_return lease;
  }
  lease.failure = co_await conn->Connect(endpoints);
  conn->ClearDeadline();
  if (lease.failure == UpstreamFailure::kNone) {
    ++opened_;
    lease.connection = std::move(conn);
  }
  co_return lease;
}

void UpstreamPool::Release(std::unique_ptr<UpstreamConnection> connection) {
  if (!connection || !connection->reusable() || backend_.max_idle_connections == 0) return;
  connection->ClearDeadline();
  connection->idle_since = std::chrono::steady_clock::now();
  if (idle_.size() >= backend_.max_idle_connections) idle_.erase(idle_.begin());
  idle_.push_back(std::move(connection));
}

void UpstreamPool::Trim(SteadyTime now) {
  size_t expired = 0;
  while (expired < idle_.size() && now - idle_[expired]->idle_since >= backend_.pool_idle_timeout) {
    ++expired;
  }
  if (expired > 0) idle_.erase(idle_.begin(), idle_.begin() + static_cast<std::ptrdiff_t>(expired));
}

}  // namespace sluice
