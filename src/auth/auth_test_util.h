// Test helpers for the sluice_auth unit tests: a harness that wires a real SqliteStore (temp
// file), the store and hashing BlockingPools, Issuers with the gateway issuer, KeyCache,
// AccessPolicy, AuditLog, Authenticator and LoginService the way AuthRuntime::Open does; a
// Store wrapper that counts reads (to prove the key cache answers); a driver that runs a
// coroutine to completion on a local io_context; seeding helpers. Used from one test thread.
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/access_policy.h"
#include "auth/api_key.h"
#include "auth/audit_log.h"
#include "auth/authenticator.h"
#include "auth/issuers.h"
#include "auth/key_cache.h"
#include "auth/login_service.h"
#include "core/blocking_pool.h"
#include "store/sqlite/store_test_util.h"

namespace sluice::auth_test {

inline constexpr char kGatewaySecret[] = "unit-test-gateway-signing-secret-0123456789abcdef";

// Runs `task` on a fresh io_context until it completes and returns its value (rethrows its
// exception). BlockingPool::Run resumes on this io_context, which stays busy meanwhile.
template <class T>
T Await(boost::asio::awaitable<T> task) {
  boost::asio::io_context io;
  std::optional<T> result;
  std::exception_ptr failure;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    failure = e;
    if (!e) result.emplace(std::move(value));
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  if (!result) {
    ADD_FAILURE() << "the coroutine did not complete";
    return T{};
  }
  return std::move(*result);
}

// A Store that forwards to another and counts the reads the auth path makes. With
// `fail_reads` set, key and user reads answer kUnavailable (a store outage).
class CountingStore final : public Store {
 public:
  explicit CountingStore(Store& inner) : inner_(inner) {}

  std::atomic<int> key_reads{0};
  std::atomic<int> user_reads{0};
  std::atomic<bool> fail_reads{false};

  StoreResult<void> InsertKey(const ApiKeyRecord& key) override { return inner_.InsertKey(key); }
  StoreResult<std::optional<ApiKeyRecord>> GetKey(std::string_view id) override {
    return inner_.GetKey(id);
  }
  StoreResult<std::optional<ApiKeyRecord>> FindKeyByHash(std::string_view hash) override {
    ++key_reads;
    if (fail_reads) return StoreError{StoreErrorCode::kUnavailable, "injected outage"};
    return inner_.FindKeyByHash(hash);
  }
  StoreResult<std::vector<ApiKeyRecord>> ListKeys(const KeyFilter& filter,
                                                  const Page& page) override {
    return inner_.ListKeys(filter, page);
  }
  StoreResult<void> UpdateKey(const ApiKeyRecord& key) override { return inner_.UpdateKey(key); }
  StoreResult<void> RevokeKey(std::string_view id, int64_t now) override {
    return inner_.RevokeKey(id, now);
  }
  StoreResult<void> RecordKeyUsage(const std::vector<KeyUsageDelta>& deltas) override {
    return inner_.RecordKeyUsage(deltas);
  }
  StoreResult<void> InsertUser(const UserRecord& user) override { return inner_.InsertUser(user); }
  StoreResult<std::optional<UserRecord>> GetUser(std::string_view id) override {
    ++user_reads;
    if (fail_reads) return StoreError{StoreErrorCode::kUnavailable, "injected outage"};
    return inner_.GetUser(id);
  }
  StoreResult<std::optional<UserRecord>> FindUserByName(std::string_view username) override {
    ++user_reads;
    if (fail_reads) return StoreError{StoreErrorCode::kUnavailable, "injected outage"};
    return inner_.FindUserByName(username);
  }
  StoreResult<std::vector<UserRecord>> ListUsers(const UserFilter& filter,
                                                 const Page& page) override {
    return inner_.ListUsers(filter, page);
  }
  StoreResult<void> UpdateUser(const UserRecord& user) override { return inner_.UpdateUser(user); }
  StoreResult<void> InsertTeam(const TeamRecord& team) override { return inner_.InsertTeam(team); }
  StoreResult<std::optional<TeamRecord>> GetTeam(std::string_view id) override {
    return inner_.GetTeam(id);
  }
  StoreResult<std::vector<TeamRecord>> ListTeams(const Page& page) override {
    return inner_.ListTeams(page);
  }
  StoreResult<void> UpdateTeam(const TeamRecord& team) override { return inner_.UpdateTeam(team); }
  StoreResult<void> AddTeamMember(std::string_view team_id, std::string_view user_id) override {
    return inner_.AddTeamMember(team_id, user_id);
  }
  StoreResult<void> RemoveTeamMember(std::string_view team_id, std::string_view user_id) override {
    return inner_.RemoveTeamMember(team_id, user_id);
  }
  StoreResult<std::vector<std::string>> ListUserTeams(std::string_view user_id) override {
    return inner_.ListUserTeams(user_id);
  }
  StoreResult<void> InsertRefreshToken(const RefreshTokenRecord& token) override {
    return inner_.InsertRefreshToken(token);
  }
  StoreResult<std::optional<RefreshTokenRecord>> FindRefreshToken(
      std::string_view token_hash) override {
    return inner_.FindRefreshToken(token_hash);
  }
  StoreResult<bool> UseRefreshToken(std::string_view id, int64_t now) override {
    return inner_.UseRefreshToken(id, now);
  }
  StoreResult<void> RevokeRefreshFamily(std::string_view family_id, int64_t now) override {
    return inner_.RevokeRefreshFamily(family_id, now);
  }
  StoreResult<void> RevokeTokenId(std::string_view jti, int64_t expires_at) override {
    return inner_.RevokeTokenId(jti, expires_at);
  }
  StoreResult<std::vector<std::string>> ListRevokedTokenIds(int64_t now) override {
    return inner_.ListRevokedTokenIds(now);
  }
  StoreResult<void> AppendAudit(const std::vector<AuditRecord>& records) override {
    return inner_.AppendAudit(records);
  }
  StoreResult<std::vector<AuditRecord>> ListAudit(const AuditFilter& filter,
                                                  const Page& page) override {
    return inner_.ListAudit(filter, page);
  }
  StoreResult<std::optional<std::string>> GetSetting(std::string_view name) override {
    return inner_.GetSetting(name);
  }
  StoreResult<void> PutSetting(std::string_view name, std::string_view value) override {
    return inner_.PutSetting(name, value);
  }

 private:
  Store& inner_;
};

inline std::unique_ptr<Issuers> BuildIssuers(const AuthConfig& config) {
  std::vector<std::string> errors;
  std::unique_ptr<Issuers> issuers = Issuers::Build(config, "test.yaml", errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  issuers->AddGatewayIssuer(kGatewaySecret, "sluice");
  return issuers;
}

// The auth runtime's parts, built as AuthRuntime::Open builds them, on a temp database.
// The store is only touched from store_pool's thread (use OnStore from the test).
class AuthHarness {
 public:
  explicit AuthHarness(const std::string& name, const AuthConfig& config = AuthConfig(),
                       Duration negative_ttl = std::chrono::seconds(2))
      : db_path_(name),
        config(config),
        sqlite_(sqlite::OpenOrDie(db_path_.path())),
        store(*sqlite_),
        issuers(BuildIssuers(this->config)),
        keys(this->config.key_cache_ttl, negative_ttl),
        policy(this->config),
        audit(store, store_pool),
        authenticator(keys, store, store_pool, policy, *issuers, control),
        login(store, store_pool, hash_pool, *issuers, this->config, audit) {
    EXPECT_GE(sodium_init(), 0);
  }
  ~AuthHarness() {
    // Queued store work finishes before the store goes away.
    store_pool.Stop();
    hash_pool.Stop();
  }

  // Runs `work` on the store's thread and returns its result.
  template <class F>
  auto OnStore(F work) {
    return store_pool.RunSync(std::move(work));
  }

  // Flushes the audit log and returns every stored row, newest first.
  std::vector<AuditRecord> AuditRows() {
    audit.Flush();
    return OnStore([this] {
      Page page;
      page.limit = 1000;
      auto rows = store.ListAudit(AuditFilter{}, page);
      EXPECT_TRUE(rows.ok());
      return rows.ok() ? rows.value() : std::vector<AuditRecord>{};
    });
  }

 private:
  sqlite::TempDbPath db_path_;

 public:
  AuthConfig config;

 private:
  std::unique_ptr<SqliteStore> sqlite_;

 public:
  CountingStore store;
  std::unique_ptr<Issuers> issuers;
  BlockingPool store_pool{1};
  BlockingPool hash_pool{1};
  KeyCache keys;
  AccessPolicy policy;
  AuditLog audit;
  boost::asio::io_context control;  // for JWKS fetches; never needed by these tests
  Authenticator authenticator;
  LoginService login;
};

// A user with an argon2id password hash (empty password: no password login).
inline UserRecord MakeUser(const std::string& username, const std::string& password,
                           std::vector<std::string> roles = {"user"}, std::string tier = "") {
  UserRecord user;
  user.id = NewId("usr");
  user.username = username;
  user.email = username + "@example.com";
  if (!password.empty()) user.password_hash = LoginService::HashPassword(password);
  user.roles = std::move(roles);
  user.tier = std::move(tier);
  user.created_at = user.updated_at = NowSeconds();
  return user;
}

// A freshly generated key and the record that stores it (no owner, no roles).
struct TestKey {
  std::string secret;
  ApiKeyRecord record;
};

inline TestKey MakeTestKey() {
  NewApiKey generated = GenerateApiKey();
  TestKey key;
  key.secret = generated.secret;
  key.record.id = NewId("key");
  key.record.name = "test key";
  key.record.hash = generated.hash;
  key.record.prefix = generated.prefix;
  key.record.created_at = NowSeconds();
  return key;
}

// The payload of a compact JWS, decoded without verification (empty object on failure).
inline boost::json::object JwtClaims(const std::string& token) {
  size_t first = token.find('.');
  size_t second = first == std::string::npos ? first : token.find('.', first + 1);
  if (second == std::string::npos) return {};
  auto payload =
      jwt::Base64UrlDecode(std::string_view(token).substr(first + 1, second - first - 1));
  if (!payload) return {};
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(*payload, ec);
  if (ec || !value.is_object()) return {};
  return value.get_object();
}

}  // namespace sluice::auth_test
