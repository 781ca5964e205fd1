// Versioned schema migrations of the SQLite store, applied by SqliteStore::Open: an ordered
// list of SQL scripts (migrations.cc, which also describes the schema), each applied once,
// in its own transaction, and recorded in schema_migrations. Stateless functions; the
// Database passed in is used by one thread at a time.
#pragma once

#include <span>
#include <string>

#include "store/sqlite/sqlite_db.h"

namespace sluice::sqlite {

struct Migration {
  int version;      // strictly increasing, starting at 1
  const char* sql;  // one or more statements
};

// The schema of this build, oldest first.
std::span<const Migration> Migrations();
int LatestSchemaVersion();

// Brings the database up to the last of `migrations`. Each missing version is applied in an
// IMMEDIATE transaction that re-reads the current version first, so two processes opening
// the same new file cannot apply a script twice. Fails (and changes nothing) when the
// database records a version newer than the last one known; a failing script is rolled back.
bool ApplyMigrations(Database& db, std::span<const Migration> migrations, std::string* error);

}  // namespace sluice::sqlite
