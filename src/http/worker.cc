// Worker: listener (SO_REUSEPORT), accept loop, pools, drain and force-close.
#include "http/worker.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/session.h"
#include "observability/metrics_registry.h"

namespace sluice {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kTrimInterval = std::chrono::seconds(1);
}

Worker::Worker(int index, std::shared_ptr<const ConfigGeneration> generation, ServerState& state,
               const Services* services, WorkerRole role)
    : index_(index),
      role_(role),
      io_(1),
      generation_(std::move(generation)),
      first_snapshot_(generation_->snapshot),
      state_(state),
      services_(services),
      sweeper_(io_),
      acceptor_(io_) {
  if (services_ != nullptr && services_->metrics != nullptr) {
    metrics_ = &services_->metrics->AddWorker();
  }
  sweeper_.SetOnSweep([this](SteadyTime now) {
    if (now - last_trim_ < kTrimInterval) return;
    last_trim_ = now;
    for (auto& pool : pools_) pool->Trim(now);
    PublishPoolStats();
  });
}

Worker::~Worker() {
  // Sessions and pools hold sockets on io_; destroy them before the io_context.
  pool_cache_.clear();
  pools_.clear();
}

uint16_t Worker::Listen(const ListenAddress& address, boost::system::error_code& ec) {
  tcp::endpoint endpoint(asio::ip::make_address(address.host, ec), address.port);
  if (ec) return 0;
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return 0;
  acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  int one = 1;
  if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    ec = boost::system::error_code(errno, boost::system::system_category());
    return 0;
  }
  acceptor_.bind(endpoint, ec);
  if (ec) return 0;
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return 0;
  return acceptor_.local_endpoint().port();
}

UpstreamPool& Worker::Pool(const BackendConfig& backend) {
  if (pool_cache_.size() <= backend.index) pool_cache_.resize(backend.index + 1);
  auto& [cached_backend, cached_pool] = pool_cache_[backend.index];
  if (cached_backend != &backend) {
    cached_pool = &FindOrCreatePool(backend);
    cached_backend = &backend;
  }
  return *cached_pool;
}

UpstreamPool& Worker::FindOrCreatePool(const BackendConfig& backend) {
  // Off the fast path: once per backend and generation (a handful per reload).
  std::string identity = UpstreamPool::PoolIdentity(backend);
  for (auto& pool : pools_) {
    if (pool->identity() == identity) return *pool;
  }
  pools_.push_back(std::make_unique<UpstreamPool>(io_, sweeper_, backend));
  return *pools_.back();
}

void Worker::PostGeneration(std::shared_ptr<const ConfigGeneration> generation,
                            std::function<void()> applied) {
  asio::post(io_,
             [this, generation = std::move(generation), applied = std::move(applied)]() mutable {
               generation_ = std::move(generation);
               pool_cache_.clear();
               if (applied) applied();
             });
}

void Worker::PublishPoolStats() {
  std::vector<PoolStat> stats;
  stats.reserve(pools_.size());
  for (const auto& pool : pools_) {
    stats.push_back({pool->backend().name, pool->idle_count(), pool->connections_opened()});
  }
  std::lock_guard lock(pool_stats_mutex_);
  pool_stats_ = std::move(stats);
}

std::vector<Worker::PoolStat> Worker::PoolStats() const {
  std::lock_guard lock(pool_stats_mutex_);
  return pool_stats_;
}

void Worker::Run() {
  SetCurrentWorkerMetrics(metrics_);  // filters on this thread count into our cells
  sweeper_.Start();
  asio::co_spawn(io_, AcceptLoop(), asio::detached);
  io_.run();
  stopped_ = true;
}

asio::awaitable<void> Worker::AcceptLoop() {
  asio::steady_timer backoff(io_);
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
      // Out of descriptors or memory: back off instead of spinning on the error.
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (draining_) break;
    ++active_sessions_;
    if (metrics_ != nullptr) metrics_->connections_open.Add(1);
    auto session = std::make_shared<Session>(*this, std::move(socket));
    asio::co_spawn(io_, session->Run(), [](std::exception_ptr error) {
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        // Nothing on the request path throws by design; if something does (allocation
        // failure), the connection is closed and the cause is logged, never swallowed.
        spdlog::error("connection closed after an unexpected exception: {}", e.what());
      }
    });
  }
}

void Worker::SessionEnded() {
  --active_sessions_;
  if (metrics_ != nullptr) metrics_->connections_open.Add(-1);
  StopIfDrained();
}

void Worker::StopIfDrained() {
  if (draining_ && active_sessions_ == 0) {
    sweeper_.Stop();
    pools_.clear();
    pool_cache_.clear();
    io_.stop();
  }
}

void Worker::PostDrain() {
  asio::post(io_, [this] {
    if (draining_) return;
    draining_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      SessionLink& s = *it++;
      s.CloseIfIdle();
    }
    StopIfDrained();
  });
}

void Worker::PostForceClose() {
  asio::post(io_, [this] {
    draining_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      SessionLink& s = *it++;
      s.ForceClose();
    }
    StopIfDrained();
  });
}

}  // namespace sluice
