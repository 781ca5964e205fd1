// SqliteStore: the users, teams and team_members tables. Not thread-safe: one thread at a
// time per instance.
#include <string>

#include "store/sqlite/sqlite_common.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/string_list.h"

namespace sluice {
namespace {

using sqlite::Statement;

constexpr char kSelectUser[] =
    "SELECT u.id, u.username, u.email, u.password_hash, u.disabled, u.roles, u.tier, "
    "u.created_at, u.updated_at FROM users u ";

constexpr char kSelectTeam[] = "SELECT id, name, tier, created_at FROM teams ";

StoreResult<UserRecord> ReadUser(const Statement& stmt) {
  UserRecord user;
  user.id = stmt.Text(0);
  user.username = stmt.Text(1);
  user.email = stmt.Text(2);
  user.password_hash = stmt.Text(3);
  user.disabled = stmt.Int(4) != 0;
  if (!sqlite::DecodeStringList(stmt.Text(5), &user.roles)) {
    return sqlite::Corrupt("user " + user.id + ": stored roles are not a JSON array of strings");
  }
  user.tier = stmt.Text(6);
  user.created_at = stmt.Int(7);
  user.updated_at = stmt.Int(8);
  return user;
}

TeamRecord ReadTeam(const Statement& stmt) {
  TeamRecord team;
  team.id = stmt.Text(0);
  team.name = stmt.Text(1);
  team.tier = stmt.Text(2);
  team.created_at = stmt.Int(3);
  return team;
}

StoreResult<std::optional<UserRecord>> ReadOptionalUser(Statement& stmt, std::string_view what) {
  StoreResult<bool> row = stmt.Next(what);
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<UserRecord>();
  StoreResult<UserRecord> user = ReadUser(stmt);
  if (!user.ok()) return user.error();
  return std::optional<UserRecord>(std::move(*user));
}

StoreResult<void> MustChange(sqlite::Database& db, StoreResult<void> done, std::string absent) {
  if (!done.ok()) return done;
  if (db.Changes() == 0) return sqlite::NotFound(std::move(absent));
  return {};
}

}  // namespace

StoreResult<void> SqliteStore::InsertUser(const UserRecord& user) {
  if (user.id.empty()) return sqlite::Invalid("user id is empty");
  if (user.username.empty()) return sqlite::Invalid("user " + user.id + ": username is empty");
  Statement stmt = db_->Prepare(
      "INSERT INTO users (id, username, email, password_hash, disabled, roles, tier, "
      "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  stmt.Bind(1, user.id);
  stmt.Bind(2, user.username);
  stmt.Bind(3, user.email);
  stmt.Bind(4, user.password_hash);
  stmt.Bind(5, int64_t{user.disabled ? 1 : 0});
  stmt.Bind(6, sqlite::EncodeStringList(user.roles));
  stmt.Bind(7, user.tier);
  stmt.Bind(8, user.created_at);
  stmt.Bind(9, user.updated_at);
  return stmt.Run("insert user");
}

StoreResult<std::optional<UserRecord>> SqliteStore::GetUser(std::string_view id) {
  static const std::string kSql = std::string(kSelectUser) + "WHERE u.id = ?1";
  Statement stmt = db_->Prepare(kSql);
  stmt.Bind(1, id);
  return ReadOptionalUser(stmt, "get user");
}

StoreResult<std::optional<UserRecord>> SqliteStore::FindUserByName(std::string_view username) {
  static const std::string kSql = std::string(kSelectUser) + "WHERE u.username = ?1";
  Statement stmt = db_->Prepare(kSql);
  stmt.Bind(1, username);
  return ReadOptionalUser(stmt, "find user");
}

StoreResult<std::vector<UserRecord>> SqliteStore::ListUsers(const UserFilter& filter,
                                                            const Page& page) {
  if (std::optional<StoreError> invalid = sqlite::CheckPage(page)) return *invalid;
  std::string sql = kSelectUser;
  if (!filter.team_id.empty()) {
    sql += "JOIN team_members m ON m.user_id = u.id AND m.team_id = ?2 ";
  }
  sql += "WHERE u.id > ?1";
  if (filter.disabled.has_value()) sql += " AND u.disabled = ?3";
  sql += " ORDER BY u.id LIMIT ?4";
  Statement stmt = db_->Prepare(sql);
  stmt.Bind(1, page.after);
  stmt.Bind(2, filter.team_id);
  stmt.Bind(3, int64_t{filter.disabled.value_or(false) ? 1 : 0});
  stmt.Bind(4, static_cast<int64_t>(page.limit));
  std::vector<UserRecord> users;
  for (;;) {
    StoreResult<bool> row = stmt.Next("list users");
    if (!row.ok()) return row.error();
    if (!*row) break;
    StoreResult<UserRecord> user = ReadUser(stmt);
    if (!user.ok()) return user.error();
    users.push_back(std::move(*user));
  }
  return users;
}

StoreResult<void> SqliteStore::UpdateUser(const UserRecord& user) {
  Statement stmt = db_->Prepare(
      "UPDATE users SET email = ?2, password_hash = ?3, disabled = ?4, roles = ?5, tier = ?6, "
      "updated_at = ?7 WHERE id = ?1");
  stmt.Bind(1, user.id);
  stmt.Bind(2, user.email);
  stmt.Bind(3, user.password_hash);
  stmt.Bind(4, int64_t{user.disabled ? 1 : 0});
  stmt.Bind(5, sqlite::EncodeStringList(user.roles));
  stmt.Bind(6, user.tier);
  stmt.Bind(7, user.updated_at);
  return MustChange(*db_, stmt.Run("update user"), "user " + user.id + " not found");
}

StoreResult<void> SqliteStore::InsertTeam(const TeamRecord& team) {
  if (team.id.empty()) return sqlite::Invalid("team id is empty");
  if (team.name.empty()) return sqlite::Invalid("team " + team.id + ": name is empty");
  Statement stmt =
      db_->Prepare("INSERT INTO teams (id, name, tier, created_at) VALUES (?1, ?2, ?3, ?4)");
  stmt.Bind(1, team.id);
  stmt.Bind(2, team.name);
  stmt.Bind(3, team.tier);
  stmt.Bind(4, team.created_at);
  return stmt.Run("insert team");
}

StoreResult<std::optional<TeamRecord>> SqliteStore::GetTeam(std::string_view id) {
  static const std::string kSql = std::string(kSelectTeam) + "WHERE id = ?1";
  Statement stmt = db_->Prepare(kSql);
  stmt.Bind(1, id);
  StoreResult<bool> row = stmt.Next("get team");
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<TeamRecord>();
  return std::optional<TeamRecord>(ReadTeam(stmt));
}

StoreResult<std::vector<TeamRecord>> SqliteStore::ListTeams(const Page& page) {
  if (std::optional<StoreError> invalid = sqlite::CheckPage(page)) return *invalid;
  static const std::string kSql = std::string(kSelectTeam) + "WHERE id > ?1 ORDER BY id LIMIT ?2";
  Statement stmt = db_->Prepare(kSql);
  stmt.Bind(1, page.after);
  stmt.Bind(2, static_cast<int64_t>(page.limit));
  std::vector<TeamRecord> teams;
  for (;;) {
    StoreResult<bool> row = stmt.Next("list teams");
    if (!row.ok()) return row.error();
    if (!*row) break;
    teams.push_back(ReadTeam(stmt));
  }
  return teams;
}

// Replaces name and tier (kConflict when the new name is taken).
StoreResult<void> SqliteStore::UpdateTeam(const TeamRecord& team) {
  if (team.name.empty()) return sqlite::Invalid("team " + team.id + ": name is empty");
  Statement stmt = db_->Prepare("UPDATE teams SET name = ?2, tier = ?3 WHERE id = ?1");
  stmt.Bind(1, team.id);
  stmt.Bind(2, team.name);
  stmt.Bind(3, team.tier);
  return MustChange(*db_, stmt.Run("update team"), "team " + team.id + " not found");
}

StoreResult<void> SqliteStore::AddTeamMember(std::string_view team_id, std::string_view user_id) {
  Statement stmt = db_->Prepare("INSERT INTO team_members (team_id, user_id) VALUES (?1, ?2)");
  stmt.Bind(1, team_id);
  stmt.Bind(2, user_id);
  StoreResult<void> done = stmt.Run("add team member");
  if (!done.ok() && done.error().code == StoreErrorCode::kNotFound) {  // a foreign key
    return sqlite::NotFound("add team member: team " + std::string(team_id) + " or user " +
                            std::string(user_id) + " not found");
  }
  return done;
}

StoreResult<void> SqliteStore::RemoveTeamMember(std::string_view team_id,
                                                std::string_view user_id) {
  Statement stmt = db_->Prepare("DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2");
  stmt.Bind(1, team_id);
  stmt.Bind(2, user_id);
  return MustChange(
      *db_, stmt.Run("remove team member"),
      "user " + std::string(user_id) + " is not a member of team " + std::string(team_id));
}

StoreResult<std::vector<std::string>> SqliteStore::ListUserTeams(std::string_view user_id) {
  Statement stmt =
      db_->Prepare("SELECT team_id FROM team_members WHERE user_id = ?1 ORDER BY team_id");
  stmt.Bind(1, user_id);
  std::vector<std::string> teams;
  for (;;) {
    StoreResult<bool> row = stmt.Next("list user teams");
    if (!row.ok()) return row.error();
    if (!*row) break;
    teams.push_back(stmt.Text(0));
  }
  return teams;
}

}  // namespace sluice
