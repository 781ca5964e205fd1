// The embedded Store: one SQLite connection (WAL, synchronous=NORMAL, foreign keys, 5 s busy
// timeout) with its schema migrated at open and every SQL text compiled once per connection.
// The gateway's store thread and the CLI each open their own instance on the same file.
// Not thread-safe: one thread at a time per instance; use one instance per thread.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace sluice {

namespace sqlite {
class Database;
}  // namespace sqlite

class SqliteStore final : public Store {
 public:
  struct Options {
    // How long a call waits for another connection's write lock before kUnavailable.
    int busy_timeout_ms = 5000;
  };

  // Opens (creating if needed) the database at `path` and migrates its schema. ":memory:"
  // gives a private in-memory database (tests). nullptr and a message in *error when the
  // file cannot be opened or was created by a newer sluice.
  static std::unique_ptr<SqliteStore> Open(const std::string& path, std::string* error);
  static std::unique_ptr<SqliteStore> Open(const std::string& path, const Options& options,
                                           std::string* error);
  ~SqliteStore() override;

  StoreResult<void> InsertKey(const ApiKeyRecord& key) override;
  StoreResult<std::optional<ApiKeyRecord>> GetKey(std::string_view id) override;
  StoreResult<std::optional<ApiKeyRecord>> FindKeyByHash(std::string_view hash) override;
  StoreResult<std::vector<ApiKeyRecord>> ListKeys(const KeyFilter& filter,
                                                  const Page& page) override;
  StoreResult<void> UpdateKey(const ApiKeyRecord& key) override;
  StoreResult<void> RevokeKey(std::string_view id, int64_t now) override;
  StoreResult<void> RecordKeyUsage(const std::vector<KeyUsageDelta>& deltas) override;

  StoreResult<void> InsertUser(const UserRecord& user) override;
  StoreResult<std::optional<UserRecord>> GetUser(std::string_view id) override;
  StoreResult<std::optional<UserRecord>> FindUserByName(std::string_view username) override;
  StoreResult<std::vector<UserRecord>> ListUsers(const UserFilter& filter,
                                                 const Page& page) override;
  StoreResult<void> UpdateUser(const UserRecord& user) override;

  StoreResult<void> InsertTeam(const TeamRecord& team) override;
  StoreResult<std::optional<TeamRecord>> GetTeam(std::string_view id) override;
  StoreResult<std::vector<TeamRecord>> ListTeams(const Page& page) override;
  StoreResult<void> UpdateTeam(const TeamRecord& team) override;
  StoreResult<void> AddTeamMember(std::string_view team_id, std::string_view user_id) override;
  StoreResult<void> RemoveTeamMember(std::string_view team_id, std::string_view user_id) override;
  StoreResult<std::vector<std::string>> ListUserTeams(std::string_view user_id) override;

  StoreResult<void> InsertRefreshToken(const RefreshTokenRecord& token) override;
  StoreResult<std::optional<RefreshTokenRecord>> FindRefreshToken(
      std::string_view token_hash) override;
  StoreResult<bool> UseRefreshToken(std::string_view id, int64_t now) override;
  StoreResult<void> RevokeRefreshFamily(std::string_view family_id, int64_t now) override;

  StoreResult<void> RevokeTokenId(std::string_view jti, int64_t expires_at) override;
  StoreResult<std::vector<std::string>> ListRevokedTokenIds(int64_t now) override;

  StoreResult<void> AppendAudit(const std::vector<AuditRecord>& records) override;
  StoreResult<std::vector<AuditRecord>> ListAudit(const AuditFilter& filter,
                                                  const Page& page) override;

  StoreResult<std::optional<std::string>> GetSetting(std::string_view name) override;
  StoreResult<void> PutSetting(std::string_view name, std::string_view value) override;

  StoreResult<void> PutUsage(const std::vector<UsageRecord>& records) override;
  StoreResult<UsageReport> QueryUsage(const UsageFilter& filter, UsageGroupBy group_by,
                                      int limit) override;
  StoreResult<UsageSums> UsageTotals(const UsageFilter& filter) override;

  // How many distinct SQL texts this connection has compiled (tests: each compiles once).
  int CompiledStatementsForTesting() const;

 private:
  explicit SqliteStore(std::unique_ptr<sqlite::Database> db);

  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace sluice
