// SqliteStore: usage records (one row per request, inserted idempotently by request id) and
// the usage reports over them. Not thread-safe: one thread at a time per instance.
//
// Rows carry their UTC day number (time_ms div 86400000, floored) so reports group on an
// integer column; the day is formatted as YYYY-MM-DD here. Every filter combination yields
// one SQL text, compiled once per connection (at most 64 texts per grouping).
#include <chrono>
#include <cstdio>
#include <string>

#include "store/sqlite/sqlite_common.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"

namespace sluice {
namespace {

using sqlite::Statement;

constexpr int kMaxUsageGroups = 10000;
constexpr int64_t kMillisPerDay = 86'400'000;

int64_t DayNumber(int64_t time_ms) {
  int64_t day = time_ms / kMillisPerDay;
  if (time_ms % kMillisPerDay < 0) --day;  // floor for times before 1970
  return day;
}

std::string FormatDay(int64_t day) {
  const std::chrono::year_month_day date{
      std::chrono::sys_days{std::chrono::days{static_cast<int>(day)}}};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

const char* GroupColumn(UsageGroupBy group_by) {
  switch (group_by) {
    case UsageGroupBy::kDay:
      return "''";
    case UsageGroupBy::kKey:
      return "key_id";
    case UsageGroupBy::kUser:
      return "user_id";
    case UsageGroupBy::kTeam:
      return "team_id";
    case UsageGroupBy::kModel:
      return "model_requested";
  }
  return "''";
}

// The sums in columns `first`.. of `stmt`, in UsageSums order.
constexpr char kSumColumns[] =
    "COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), "
    "COALESCE(SUM(cached_tokens), 0), COALESCE(SUM(cost_micros), 0), "
    "COALESCE(SUM(status >= 400 OR error_class != ''), 0) ";

UsageSums ReadSums(const Statement& stmt, int first) {
  UsageSums sums;
  sums.requests = stmt.Int(first);
  sums.prompt_tokens = stmt.Int(first + 1);
  sums.completion_tokens = stmt.Int(first + 2);
  sums.cached_tokens = stmt.Int(first + 3);
  sums.cost_micros = stmt.Int(first + 4);
  sums.errors = stmt.Int(first + 5);
  return sums;
}

std::string WhereClause(const UsageFilter& filter) {
  std::string sql = "WHERE 1";
  if (filter.from_ms != 0) sql += " AND time_ms >= ?1";
  if (filter.to_ms != 0) sql += " AND time_ms < ?2";
  if (!filter.key_id.empty()) sql += " AND key_id = ?3";
  if (!filter.user_id.empty()) sql += " AND user_id = ?4";
  if (!filter.team_id.empty()) sql += " AND team_id = ?5";
  if (!filter.model.empty()) sql += " AND model_requested = ?6";
  return sql;
}

// Binds only the parameters WhereClause used: binding an index above the highest one in
// the text is an error.
void BindFilter(Statement& stmt, const UsageFilter& filter) {
  if (filter.from_ms != 0) stmt.Bind(1, filter.from_ms);
  if (filter.to_ms != 0) stmt.Bind(2, filter.to_ms);
  if (!filter.key_id.empty()) stmt.Bind(3, filter.key_id);
  if (!filter.user_id.empty()) stmt.Bind(4, filter.user_id);
  if (!filter.team_id.empty()) stmt.Bind(5, filter.team_id);
  if (!filter.model.empty()) stmt.Bind(6, filter.model);
}

}  // namespace

StoreResult<void> SqliteStore::PutUsage(const std::vector<UsageRecord>& records) {
  for (const UsageRecord& record : records) {
    if (record.request_id.empty()) return sqlite::Invalid("usage record request id is empty");
  }
  if (records.empty()) return {};
  sqlite::Transaction txn(*db_);
  if (StoreResult<void> begun = txn.Begin(); !begun.ok()) return begun;
  for (const UsageRecord& r : records) {
    Statement stmt = db_->Prepare(
        "INSERT INTO usage_records (request_id, time_ms, day, key_id, user_id, team_id, "
        "model_requested, model_served, backend, prompt_tokens, completion_tokens, "
        "cached_tokens, tokens_estimated, cost_micros, status, error_class, latency_ms, "
        "ttft_ms, stream, cache_hit, client_disconnected, experiment_arm) VALUES (?1, ?2, ?3, "
        "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
        "?22) ON CONFLICT (request_id) DO NOTHING");
    stmt.Bind(1, r.request_id);
    stmt.Bind(2, r.time_ms);
    stmt.Bind(3, DayNumber(r.time_ms));
    stmt.Bind(4, r.key_id);
    stmt.Bind(5, r.user_id);
    stmt.Bind(6, r.team_id);
    stmt.Bind(7, r.model_requested);
    stmt.Bind(8, r.model_served);
    stmt.Bind(9, r.backend);
    stmt.Bind(10, r.prompt_tokens);
    stmt.Bind(11, r.completion_tokens);
    stmt.Bind(12, r.cached_tokens);
    stmt.Bind(13, int64_t{r.tokens_estimated});
    stmt.Bind(14, r.cost_micros);
    stmt.Bind(15, int64_t{r.status});
    stmt.Bind(16, r.error_class);
    stmt.Bind(17, r.latency_ms);
    stmt.Bind(18, r.ttft_ms);
    stmt.Bind(19, int64_t{r.stream});
    stmt.Bind(20, int64_t{r.cache_hit});
    stmt.Bind(21, int64_t{r.client_disconnected});
    stmt.Bind(22, r.experiment_arm);
    if (StoreResult<void> done = stmt.Run("put usage record"); !done.ok()) return done;
  }
  return txn.Commit();
}

StoreResult<UsageReport> SqliteStore::QueryUsage(const UsageFilter& filter, UsageGroupBy group_by,
                                                 int limit) {
  if (limit < 1 || limit > kMaxUsageGroups) {
    return sqlite::Invalid("usage group limit must be between 1 and 10000, got " +
                           std::to_string(limit));
  }
  StoreResult<UsageSums> totals = UsageTotals(filter);
  if (!totals.ok()) return totals.error();
  const std::string group = GroupColumn(group_by);
  const std::string sql = "SELECT day, " + group + ", " + kSumColumns + "FROM usage_records " +
                          WhereClause(filter) + " GROUP BY day, " + group + " ORDER BY day, " +
                          group + " LIMIT ?7";
  Statement stmt = db_->Prepare(sql);
  BindFilter(stmt, filter);
  stmt.Bind(7, static_cast<int64_t>(limit) + 1);  // one more tells whether we truncated
  UsageReport report;
  report.totals = *totals;
  for (;;) {
    StoreResult<bool> row = stmt.Next("query usage");
    if (!row.ok()) return row.error();
    if (!*row) break;
    if (static_cast<int>(report.rows.size()) == limit) {
      report.truncated = true;
      break;
    }
    UsageGroupRow out;
    out.day = FormatDay(stmt.Int(0));
    out.group = stmt.Text(1);
    out.sums = ReadSums(stmt, 2);
    report.rows.push_back(std::move(out));
  }
  return report;
}

StoreResult<UsageSums> SqliteStore::UsageTotals(const UsageFilter& filter) {
  Statement stmt = db_->Prepare(std::string("SELECT ") + kSumColumns + "FROM usage_records " +
                                WhereClause(filter));
  BindFilter(stmt, filter);
  StoreResult<bool> row = stmt.Next("sum usage");
  if (!row.ok()) return row.error();
  if (!*row) return UsageSums{};
  return ReadSums(stmt, 0);
}

}  // namespace sluice
