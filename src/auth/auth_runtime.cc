// AuthRuntime: opening, bootstrap keys, the control loop and shutdown.
#include "auth/auth_runtime.h"

#include <fcntl.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fstream>

#include "auth/api_key.h"
#include "store/sqlite/sqlite_store.h"

namespace sluice {
namespace {

constexpr std::string_view kSigningSecretSetting = "login.signing_secret";
constexpr std::string_view kAdminBootstrapped = kAdminBootstrappedSetting;
constexpr std::string_view kDemoBootstrapped = kDemoBootstrappedSetting;
constexpr auto kTick = std::chrono::seconds(1);

// Creates a key and returns its secret (empty on failure). REQUIRES: store thread.
std::string CreateBootstrapKey(Store& store, const std::string& name,
                               std::vector<std::string> roles) {
  NewApiKey secret = GenerateApiKey();
  ApiKeyRecord record;
  record.id = NewId("key");
  record.name = name;
  record.hash = secret.hash;
  record.prefix = secret.prefix;
  record.roles = std::move(roles);
  record.created_at = NowSeconds();
  if (!store.InsertKey(record).ok()) return "";
  return secret.secret;
}

}  // namespace

void AuthRuntime::Validate(const Snapshot& snapshot, std::vector<std::string>& errors) {
  Issuers::Build(snapshot.auth, snapshot.source, errors);
}

std::unique_ptr<AuthRuntime> AuthRuntime::Open(std::shared_ptr<const Snapshot> snapshot,
                                               std::vector<std::string>& errors) {
  if (sodium_init() < 0) {
    errors.push_back("libsodium could not be initialised");
    return nullptr;
  }
  std::unique_ptr<AuthRuntime> rt(new AuthRuntime());
  rt->snapshot_ = std::move(snapshot);
  const Snapshot& snap = *rt->snapshot_;
  rt->issuers_ = Issuers::Build(snap.auth, snap.source, errors);
  if (!errors.empty()) return nullptr;
  std::string error;
  rt->store_ = SqliteStore::Open(snap.store.sqlite_path, &error);
  if (!rt->store_) {
    errors.push_back(snap.source + ": store: cannot open '" + snap.store.sqlite_path +
                     "': " + error);
    return nullptr;
  }
  std::string secret = snap.auth.signing_secret;
  if (secret.empty()) {
    auto stored = rt->store_->GetSetting(kSigningSecretSetting);
    if (stored.ok() && stored.value()) {
      secret = **stored;
    } else {
      secret = RandomToken(48);
      rt->store_->PutSetting(kSigningSecretSetting, secret);
    }
  }
  rt->issuers_->AddGatewayIssuer(secret, "sluice");
  rt->store_pool_ = std::make_unique<BlockingPool>(1);
  rt->hash_pool_ = std::make_unique<BlockingPool>(1);
  rt->keys_ = std::make_unique<KeyCache>(snap.auth.key_cache_ttl, std::chrono::seconds(2));
  rt->policy_ = std::make_unique<AccessPolicy>(snap.auth);
  rt->audit_ = std::make_unique<AuditLog>(*rt->store_, *rt->store_pool_);
  rt->authenticator_ = std::make_unique<Authenticator>(*rt->keys_, *rt->store_, *rt->store_pool_,
                                                       *rt->policy_, *rt->issuers_, rt->control_);
  rt->login_ = std::make_unique<LoginService>(*rt->store_, *rt->store_pool_, *rt->hash_pool_,
                                              *rt->issuers_, snap.auth, *rt->audit_);
  auto revoked = rt->store_->ListRevokedTokenIds(NowSeconds());
  if (revoked.ok()) rt->issuers_->ReplaceRevoked(std::move(revoked.value()));
  return rt;
}

AuthRuntime::~AuthRuntime() { Stop(); }

std::vector<std::string> AuthRuntime::Bootstrap() {
  return store_pool_->RunSync([this] {
    std::vector<std::string> lines;
    const AuthConfig& auth = snapshot_->auth;
    auto done = [this](std::string_view name) {
      auto value = store_->GetSetting(name);
      return value.ok() && value.value().has_value();
    };
    if (auth.bootstrap_admin_key && !done(kAdminBootstrapped)) {
      std::string key = CreateBootstrapKey(*store_, "bootstrap-admin", {"admin"});
      if (!key.empty()) {
        store_->PutSetting(kAdminBootstrapped, std::to_string(NowSeconds()));
        lines.push_back("created the first admin key (shown once, keep it safe): " + key);
        AuditRecord record;
        record.principal = "gateway";
        record.action = "key.create";
        record.target = "bootstrap-admin";
        record.result = "ok";
        audit_->Record(std::move(record));
      }
    }
    // Also when the file was deleted: the README's examples read it.
    const std::string& demo_file = auth.bootstrap_demo_key_file;
    if (!demo_file.empty() &&
        (!done(kDemoBootstrapped) || ::access(demo_file.c_str(), R_OK) != 0)) {
      std::string key = CreateBootstrapKey(*store_, "demo", {"user"});
      // Created owner-only before the secret is written.
      int fd = ::open(demo_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      std::string line = key + "\n";
      bool written =
          fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
      if (fd >= 0) ::close(fd);
      if (!key.empty() && written) {
        store_->PutSetting(kDemoBootstrapped, std::to_string(NowSeconds()));
        lines.push_back("created a demo application key (also in " + demo_file + "): " + key);
      }
    }
    return lines;
  });
}

void AuthRuntime::Start() {
  if (started_) return;
  started_ = true;
  tick_ = std::make_unique<boost::asio::steady_timer>(control_);
  ScheduleTick();
  boost::asio::co_spawn(control_, issuers_->RefreshDue(control_), boost::asio::detached);
  control_thread_ = std::thread([this] { control_.run(); });
}

void AuthRuntime::ScheduleTick() {
  tick_->expires_after(kTick);
  tick_->async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    ++ticks_;
    audit_->Flush();
    if (ticks_ % 5 == 0) {
      FlushUsage();
      store_pool_->Post([this] {
        auto revoked = store_->ListRevokedTokenIds(NowSeconds());
        if (revoked.ok()) issuers_->ReplaceRevoked(std::move(revoked.value()));
      });
    }
    if (ticks_ % 10 == 0) {
      boost::asio::co_spawn(control_, issuers_->RefreshDue(control_), boost::asio::detached);
    }
    ScheduleTick();
  });
}

void AuthRuntime::FlushUsage() {
  std::vector<KeyUsageDelta> usage = keys_->TakeUsage();
  if (usage.empty()) return;
  store_pool_->Post([this, usage = std::move(usage)] {
    StoreResult<void> result = store_->RecordKeyUsage(usage);
    if (!result.ok()) spdlog::warn("key usage: {}", result.error().message);
  });
}

void AuthRuntime::Quiesce() {
  if (stopped_) return;
  hash_pool_->WaitIdle();
  store_pool_->WaitIdle();
}

void AuthRuntime::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (started_) {
    boost::asio::post(control_, [this] {
      if (tick_) tick_->cancel();
      control_.stop();
    });
    control_thread_.join();
  }
  if (audit_) audit_->Flush();
  if (keys_) FlushUsage();
  if (store_pool_) store_pool_->Stop();
  if (hash_pool_) hash_pool_->Stop();
}

}  // namespace sluice
