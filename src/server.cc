// Server: worker start-up, signal handling and the drain sequence.
#include "server.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "auth/auth_runtime.h"
#include "config_file_watch.h"
#include "http/health_probe.h"
#include "limits/limits_runtime.h"
#include "limits/redis_limiter_store.h"
#include "observability/metrics_registry.h"
#include "observability/request_trace.h"
#include "routing/health_checker.h"
#include "routing/routing_runtime.h"
#include "server_metrics.h"
#include "store/sqlite/sqlite_store.h"
#include "usage/usage_exporter.h"
#include "usage/usage_journal.h"
#include "usage/usage_recorder.h"

namespace sluice {
namespace asio = boost::asio;

namespace {
constexpr auto kPollInterval = std::chrono::milliseconds(10);
constexpr auto kForceCloseGrace = std::chrono::seconds(2);
}  // namespace

RuntimeServices::RuntimeServices() = default;

RuntimeServices::~RuntimeServices() {
  // The server has drained: sync what is journaled, export all of it, then close.
  if (usage_journal) usage_journal->Stop();
  if (usage_exporter && !usage_exporter->Stop()) {
    spdlog::warn("usage records not all exported yet; they stay journaled for the next start");
  }
  if (auth) auth->Stop();
}

namespace {

// Journal + exporter + recorder over the configured store. The exporter writes through a
// connection of its own (SQLite in WAL mode serialises writers across connections).
bool OpenUsage(const Snapshot& snapshot, RuntimeServices& out, std::vector<std::string>& errors) {
  const StoreConfig& store = snapshot.store;
  if (!store.records_usage) return true;
  std::string dir =
      store.usage_journal_dir.empty() ? store.sqlite_path + ".usage" : store.usage_journal_dir;
  std::string error;
  UsageJournal::Options journal_options;
  journal_options.dir = dir;
  journal_options.sync = store.usage_sync_to_disk;
  out.usage_journal = UsageJournal::Open(journal_options, &error);
  if (!out.usage_journal) {
    errors.push_back("usage journal " + dir + ": " + error);
    return false;
  }
  out.usage_store = SqliteStore::Open(store.sqlite_path, &error);
  if (!out.usage_store) {
    errors.push_back("usage store: " + error);
    return false;
  }
  UsageExporter::Options exporter_options;
  exporter_options.dir = dir;
  out.usage_exporter =
      std::make_unique<UsageExporter>(exporter_options, *out.usage_store, out.usage_journal.get());
  out.usage_exporter->Start();  // replays what an earlier run left behind
  out.usage_recorder = std::make_unique<UsageRecorder>(*out.usage_journal);
  out.services.usage = out.usage_recorder.get();
  ObserveUsage(out);
  return true;
}

}  // namespace

bool OpenRuntime(std::shared_ptr<const Snapshot> snapshot, RuntimeServices& out,
                 std::vector<std::string>& errors) {
  OpenMetrics(*snapshot, out);
  if (!OpenTracing(*snapshot, out, errors)) return false;
  std::string routing_error;
  out.routing = routing::RoutingRuntime::Create(snapshot, SystemClock::Instance(), routing_error);
  if (!out.routing) {
    errors.push_back("routing: " + routing_error);
    return false;
  }
  out.services.routing = out.routing.get();
  // Active health checks of the backends that have a health_check (a reload calls Update).
  out.health = std::make_unique<routing::HealthChecker>(std::make_unique<UpstreamHealthProber>());
  out.health->Update(out.routing->current());
  out.health->Start();
  out.services.health = out.health.get();
  if (snapshot->limits.configured) {
    std::string error;
    out.limits = limits::LimitsRuntime::Create(snapshot->limits, error);
    if (!out.limits) {
      errors.push_back("limits: " + error);
      return false;
    }
    out.limits_snapshot = snapshot;
    if (snapshot->limits.redis) {
      // Counters shared by every gateway on this Redis; the in-process store decides
      // (with ceil(limit / instances)) whenever Redis cannot answer in time.
      const RedisConfig& redis = snapshot->limits.redis_config;
      limits::RedisLimiterStoreOptions options;
      options.redis.host = redis.host;
      options.redis.port = redis.port;
      options.redis.db = redis.db;
      options.redis.password = redis.password;
      options.timeout = redis.timeout;
      options.instances = redis.instances;
      out.limits->SetStore(
          std::make_unique<limits::RedisLimiterStore>(options, out.limits->local()));
    }
    out.limits->StartSweeper();
    out.services.limits = out.limits.get();
    ObserveLimiter(out);
  }
  if (!snapshot->UsesAuth()) return true;
  out.auth = AuthRuntime::Open(snapshot, errors);
  if (!out.auth) return false;
  out.bootstrap_messages = out.auth->Bootstrap();
  out.auth->Start();
  out.services.auth = out.auth.get();
  return OpenUsage(*snapshot, out, errors);
}

Server::Server(std::shared_ptr<const Snapshot> snapshot, const Services* services)
    : snapshot_(std::move(snapshot)), services_(services) {
  auto first = std::make_shared<ConfigGeneration>();
  first->snapshot = snapshot_;
  if (services_ != nullptr && services_->routing != nullptr) {
    // The table OpenRuntime built for this snapshot, or a new one over the same state.
    first->routing = services_->routing->current();
    std::string error;
    if (!first->routing || &first->routing->snapshot() != snapshot_.get()) {
      first->routing = services_->routing->BuildTable(snapshot_, error);
    }
    if (!first->routing) spdlog::error("routing: {}", error);
  }
  generation_ = std::move(first);
}

Server::~Server() {
  if (!threads_.empty()) Drain(std::chrono::seconds(0));
  if (metrics_collector_ != 0) services_->metrics->RemoveCollector(metrics_collector_);
}

namespace {

// SO_REUSEPORT lets any process of the same user join a port that is already served, so a
// second gateway started by mistake would silently share the traffic. Binding the address
// once without SO_REUSEPORT fails if anything listens there, which turns that into an error.
bool PortIsFree(const ListenAddress& address, std::string& error) {
  if (address.port == 0) return true;
  asio::io_context io;
  asio::ip::tcp::acceptor probe(io);
  boost::system::error_code ec;
  asio::ip::tcp::endpoint endpoint(asio::ip::make_address(address.host, ec), address.port);
  if (!ec) probe.open(endpoint.protocol(), ec);
  if (!ec) probe.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) probe.bind(endpoint, ec);
  if (ec) {
    error = "cannot listen on " + address.host + ":" + std::to_string(address.port) + ": " +
            ec.message();
    return false;
  }
  return true;
}

}  // namespace

bool Server::Start(std::string& error) {
  ::signal(SIGPIPE, SIG_IGN);
  ListenAddress address = snapshot_->server.listen;
  if (!PortIsFree(address, error)) return false;
  for (int i = 0; i < snapshot_->server.workers; ++i) {
    auto worker = std::make_unique<Worker>(i, generation_, state_, services_);
    boost::system::error_code ec;
    uint16_t bound = worker->Listen(address, ec);
    if (ec) {
      error = "cannot listen on " + address.host + ":" + std::to_string(address.port) + ": " +
              ec.message();
      return false;
    }
    address.port = bound;  // with port 0, every worker joins the port the first one got
    workers_.push_back(std::move(worker));
  }
  port_ = address.port;
  if (!StartAdmin(error)) return false;
  CollectMetrics();
  for (auto& worker : workers_) {
    threads_.emplace_back([w = worker.get()] { w->Run(); });
  }
  state_.started = true;
  state_.ready = true;
  return true;
}

// The admin API gets one worker of its own: admin traffic never queues behind model
// traffic, and the listener can stay on loopback while the data plane is public.
bool Server::StartAdmin(std::string& error) {
  if (!snapshot_->admin.enabled) return true;
  if (services_ == nullptr || services_->auth == nullptr) {
    error = "the admin API needs the identity runtime (an auth: or store: section)";
    return false;
  }
  const ListenAddress& address = snapshot_->admin.listen;
  if (!PortIsFree(address, error)) return false;
  auto worker = std::make_unique<Worker>(static_cast<int>(workers_.size()), generation_, state_,
                                         services_, WorkerRole::kAdmin);
  boost::system::error_code ec;
  admin_port_ = worker->Listen(address, ec);
  if (ec) {
    error = "cannot listen on " + address.host + ":" + std::to_string(address.port) +
            " (admin): " + ec.message();
    return false;
  }
  workers_.push_back(std::move(worker));
  return true;
}

bool Server::AllStopped() const {
  for (const auto& w : workers_) {
    if (!w->stopped()) return false;
  }
  return true;
}

void Server::BeginDrain() {
  state_.draining = true;
  state_.ready = false;
  for (auto& w : workers_) w->PostDrain();
}

void Server::ForceClose() {
  for (auto& w : workers_) w->PostForceClose();
}

void Server::Join() {
  for (auto& t : threads_) t.join();
  threads_.clear();
  // Work the workers handed to the runtime's pools (a password hash, a store read) may
  // still be finishing; its completion is addressed to a worker's io_context, so the
  // workers must outlive it.
  if (services_ != nullptr && services_->auth != nullptr) services_->auth->Quiesce();
  // Redis connections live on the workers' io_contexts: close them while those exist.
  if (services_ != nullptr && services_->limits != nullptr) services_->limits->Quiesce();
}

void Server::Drain(Duration timeout) {
  BeginDrain();
  SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
  while (!AllStopped() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kPollInterval);
  }
  if (!AllStopped()) {
    ForceClose();
    SteadyTime grace = std::chrono::steady_clock::now() + kForceCloseGrace;
    while (!AllStopped() && std::chrono::steady_clock::now() < grace) {
      std::this_thread::sleep_for(kPollInterval);
    }
    for (auto& w : workers_) w->io().stop();
  }
  Join();
}

int Server::Serve(const std::function<void(uint16_t port)>& on_listening) {
  asio::io_context io;
  asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  std::string error;
  if (!Start(error)) {
    spdlog::error("{}", error);
    return 1;
  }
  on_listening(port_);
  if (!config_path_.empty() && snapshot_->server.watch_config) WatchConfigFile(io);
  asio::steady_timer poll(io);
  int signals_seen = 0;
  SteadyTime deadline{};
  std::function<void()> poll_drain = [&] {
    if (AllStopped()) {
      io.stop();
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::warn("drain timeout reached; closing remaining connections");
      ForceClose();
      deadline = SteadyTime::max();
    }
    poll.expires_after(kPollInterval);
    poll.async_wait([&](boost::system::error_code ec) {
      if (!ec) poll_drain();
    });
  };
  std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec,
                                                                      int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      if (signals_seen == 0) ReloadConfig("SIGHUP");
    } else if (++signals_seen == 1) {
      spdlog::info(
          "{} received: draining (up to {} ms)", signo == SIGTERM ? "SIGTERM" : "SIGINT",
          std::chrono::duration_cast<std::chrono::milliseconds>(snapshot_->server.drain_timeout)
              .count());
      deadline = std::chrono::steady_clock::now() + snapshot_->server.drain_timeout;
      BeginDrain();
      poll_drain();
    } else {
      spdlog::warn("second signal: closing all connections now");
      ForceClose();
    }
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  io.run();
  // Whatever is left after a force close gets a short grace, then the loops stop.
  SteadyTime grace = std::chrono::steady_clock::now() + kForceCloseGrace;
  while (!AllStopped() && std::chrono::steady_clock::now() < grace) {
    std::this_thread::sleep_for(kPollInterval);
  }
  for (auto& w : workers_) w->io().stop();
  Join();
  watch_.reset();
  spdlog::info("drained; exiting");
  return 0;
}

}  // namespace sluice
