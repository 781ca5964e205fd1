// Small RAII layer over the sqlite3 C API used by SqliteStore: a connection that compiles each
// SQL text once and lends the compiled statement out, a borrowed statement that resets itself,
// an IMMEDIATE transaction that rolls back unless committed, and the mapping from SQLite
// result codes to StoreError. Not thread-safe: a Database and everything borrowed from it are
// used by one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "store/store_result.h"

namespace sluice::sqlite {

// Maps a (extended) SQLite result code to a StoreError: unique/primary-key violations are
// kConflict, foreign-key violations kNotFound, other constraint or type violations kInvalid,
// everything else (busy after the timeout, I/O, full disk, corruption) kUnavailable.
// `what` names the operation; the message carries SQLite's text, never bound values.
StoreError MakeError(sqlite3* db, int rc, std::string_view what);

// A compiled statement borrowed from Database::Prepare. Binding errors are remembered and
// reported by the next Step. Resets the statement and clears its bindings when destroyed,
// so the cached statement is ready for the next borrower.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt, int prepare_rc, std::string prepare_error);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  // Parameters are 1-based (?1, ?2, ...). Text is copied, so temporaries are fine.
  void Bind(int index, std::string_view text);
  void Bind(int index, int64_t value);

  // One step: true when a row is available, false when done.
  StoreResult<bool> Next(std::string_view what);
  // Runs a statement that returns no rows to completion.
  StoreResult<void> Run(std::string_view what);

  std::string Text(int column) const;
  int64_t Int(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int rc_;  // first prepare or bind error, SQLITE_OK when none
  std::string prepare_error_;
};

// One connection. Opening applies the pragmas (WAL unless in memory, synchronous=NORMAL,
// foreign keys, busy timeout); migrations are separate (migrations.h).
class Database {
 public:
  // nullptr and a message in *error when the file cannot be opened or configured.
  static std::unique_ptr<Database> Open(const std::string& path, int busy_timeout_ms,
                                        std::string* error);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // The statement for `sql`, compiled on first use and cached for the connection's life.
  // REQUIRES: the same SQL text is not borrowed twice at once.
  Statement Prepare(std::string_view sql);
  // Runs one or more statements without caching (schema scripts).
  StoreResult<void> Exec(const char* sql, std::string_view what);
  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  int64_t Changes() const;
  int cached_statements() const { return static_cast<int>(cache_.size()); }
  sqlite3* handle() const { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

// BEGIN IMMEDIATE ... COMMIT: takes the write lock up front (waiting up to the busy timeout)
// so a transaction never fails half-way on a lock upgrade. Rolls back when destroyed
// uncommitted.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  StoreResult<void> Begin();
  StoreResult<void> Commit();

 private:
  Database& db_;
  bool open_ = false;
};

}  // namespace sluice::sqlite
