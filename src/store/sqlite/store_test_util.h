// Test helpers for the SQLite store tests: temporary database files under the test temp
// directory (removed with their -wal/-shm companions) and records with every field set.
// Used by store/sqlite/*_test.cc only; each helper is used from one thread.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "store/sqlite/sqlite_store.h"

namespace sluice::sqlite {

// A database path unique to this process and `name`; removed before and after use.
class TempDbPath {
 public:
  explicit TempDbPath(const std::string& name)
      : path_(testing::TempDir() + "sluice_store_" + name + "_" + std::to_string(getpid()) +
              ".db") {
    Remove();
  }
  ~TempDbPath() { Remove(); }
  TempDbPath(const TempDbPath&) = delete;
  TempDbPath& operator=(const TempDbPath&) = delete;
  const std::string& path() const { return path_; }

 private:
  void Remove() const {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::remove((path_ + suffix).c_str());
    }
  }
  std::string path_;
};

inline std::unique_ptr<SqliteStore> OpenOrDie(const std::string& path) {
  std::string error;
  std::unique_ptr<SqliteStore> store = SqliteStore::Open(path, &error);
  EXPECT_NE(store, nullptr) << error;
  return store;
}

inline ApiKeyRecord MakeKey(const std::string& id) {
  ApiKeyRecord key;
  key.id = id;
  key.name = "name of " + id;
  key.hash = "hash-" + id;
  key.prefix = "sk-sl-" + id.substr(0, 4) + "…";
  key.user_id = "usr_1";
  key.team_id = "team_1";
  key.roles = {"user", "admin"};
  key.tier = "gold";
  key.allowed_models = {"gpt-4o*", "llama-3"};
  key.metadata_json = R"({"env":"test"})";
  key.created_at = 1000;
  key.expires_at = 5000;
  return key;
}

inline UserRecord MakeUser(const std::string& id, const std::string& username) {
  UserRecord user;
  user.id = id;
  user.username = username;
  user.email = username + "@example.com";
  user.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$secret-" + id;
  user.roles = {"viewer"};
  user.tier = "free";
  user.created_at = 100;
  user.updated_at = 100;
  return user;
}

inline RefreshTokenRecord MakeRefreshToken(const std::string& id, const std::string& family) {
  RefreshTokenRecord token;
  token.id = id;
  token.family_id = family;
  token.user_id = "usr_1";
  token.token_hash = "rthash-" + id;
  token.created_at = 10;
  token.expires_at = 1000;
  return token;
}

}  // namespace sluice::sqlite
