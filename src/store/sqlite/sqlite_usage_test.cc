// Tests of usage records in SqliteStore: idempotent inserts by request id, all-or-nothing
// batches, reports grouped by UTC day and by key/user/team/model with every filter, totals
// (also when the groups are truncated), the principal's own totals, and input checks.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/store_test_util.h"

namespace sluice::sqlite {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kJan1 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

UsageRecord MakeUsage(const std::string& id, int64_t time_ms, const std::string& key,
                      const std::string& model) {
  UsageRecord r;
  r.request_id = id;
  r.time_ms = time_ms;
  r.key_id = key;
  r.user_id = key == "key_a" ? "usr_1" : "usr_2";
  r.team_id = "team_1";
  r.model_requested = model;
  r.model_served = model + "-2025";
  r.backend = "openai";
  r.prompt_tokens = 100;
  r.completion_tokens = 10;
  r.cached_tokens = 1;
  r.cost_micros = 1000;
  r.status = 200;
  return r;
}

class SqliteStoreUsage : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(store_, nullptr);
    std::vector<UsageRecord> records = {
        MakeUsage("r1", kJan1 + 5, "key_a", "gpt-4o"),
        MakeUsage("r2", kJan1 + kDay - 1, "key_a", "llama"),  // last ms of Jan 1
        MakeUsage("r3", kJan1 + kDay, "key_a", "gpt-4o"),     // first ms of Jan 2
        MakeUsage("r4", kJan1 + kDay + 7, "key_b", "gpt-4o"),
        MakeUsage("r5", kJan1 + 2 * kDay, "key_b", "llama"),
    };
    records[3].status = 502;
    records[3].error_class = "upstream_error";
    records[4].status = 200;
    records[4].error_class = "client_disconnect";
    records[4].client_disconnected = true;
    ASSERT_TRUE(store_->PutUsage(records).ok());
  }

  UsageReport Query(const UsageFilter& filter, UsageGroupBy group_by, int limit = 100) {
    StoreResult<UsageReport> report = store_->QueryUsage(filter, group_by, limit);
    EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.error().message);
    return report.ok() ? *report : UsageReport{};
  }

  std::unique_ptr<SqliteStore> store_ = OpenOrDie(":memory:");
};

UsageSums Sums(int64_t requests, int64_t errors) {
  return UsageSums{requests, 100 * requests, 10 * requests, requests, 1000 * requests, errors};
}

TEST_F(SqliteStoreUsage, AReplayedRecordIsStoredOnce) {
  UsageRecord again = MakeUsage("r1", kJan1 + 5, "key_a", "gpt-4o");
  again.prompt_tokens = 999'999;  // a replay never overwrites what was stored
  ASSERT_TRUE(store_->PutUsage({again, MakeUsage("r6", kJan1, "key_a", "gpt-4o")}).ok());
  StoreResult<UsageSums> totals = store_->UsageTotals(UsageFilter{});
  ASSERT_TRUE(totals.ok());
  EXPECT_EQ(*totals, Sums(6, 2));
}

TEST_F(SqliteStoreUsage, ABatchWithAnEmptyRequestIdWritesNothing) {
  StoreResult<void> put =
      store_->PutUsage({MakeUsage("r7", kJan1, "key_a", "m"), MakeUsage("", kJan1, "key_a", "m")});
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, StoreErrorCode::kInvalid);
  EXPECT_EQ(store_->UsageTotals(UsageFilter{})->requests, 5);
  EXPECT_TRUE(store_->PutUsage({}).ok());
}

TEST_F(SqliteStoreUsage, GroupsByUtcDay) {
  UsageReport report = Query(UsageFilter{}, UsageGroupBy::kDay);
  ASSERT_EQ(report.rows.size(), 3u);
  EXPECT_EQ(report.rows[0].day, "2026-01-01");
  EXPECT_EQ(report.rows[0].group, "");
  EXPECT_EQ(report.rows[0].sums, Sums(2, 0));
  EXPECT_EQ(report.rows[1].day, "2026-01-02");
  EXPECT_EQ(report.rows[1].sums, Sums(2, 1));  // a 502
  EXPECT_EQ(report.rows[2].day, "2026-01-03");
  EXPECT_EQ(report.rows[2].sums, Sums(1, 1));  // a client disconnect counts as an error
  EXPECT_EQ(report.totals, Sums(5, 2));
  EXPECT_FALSE(report.truncated);
}

TEST_F(SqliteStoreUsage, GroupsByDayAndEachDimension) {
  UsageReport by_key = Query(UsageFilter{}, UsageGroupBy::kKey);
  ASSERT_EQ(by_key.rows.size(), 4u);  // (1, a), (2, a), (2, b), (3, b)
  EXPECT_EQ(by_key.rows[1].day, "2026-01-02");
  EXPECT_EQ(by_key.rows[1].group, "key_a");
  EXPECT_EQ(by_key.rows[2].group, "key_b");
  EXPECT_EQ(by_key.rows[2].sums, Sums(1, 1));

  UsageReport by_model = Query(UsageFilter{}, UsageGroupBy::kModel);
  ASSERT_EQ(by_model.rows.size(), 4u);  // (1, gpt-4o), (1, llama), (2, gpt-4o), (3, llama)
  EXPECT_EQ(by_model.rows[0].group, "gpt-4o");
  EXPECT_EQ(by_model.rows[1].group, "llama");
  EXPECT_EQ(by_model.rows[2].sums, Sums(2, 1));

  UsageReport by_user = Query(UsageFilter{}, UsageGroupBy::kUser);
  ASSERT_EQ(by_user.rows.size(), 4u);
  EXPECT_EQ(by_user.rows[3].group, "usr_2");

  UsageReport by_team = Query(UsageFilter{}, UsageGroupBy::kTeam);
  ASSERT_EQ(by_team.rows.size(), 3u);
  EXPECT_EQ(by_team.rows[0].group, "team_1");
}

TEST_F(SqliteStoreUsage, FiltersSelectExactlyTheMatchingRows) {
  UsageFilter range;
  range.from_ms = kJan1 + kDay - 1;                                // inclusive
  range.to_ms = kJan1 + kDay + 7;                                  // exclusive
  EXPECT_EQ(Query(range, UsageGroupBy::kDay).totals.requests, 2);  // r2, r3

  UsageFilter key;
  key.key_id = "key_b";
  EXPECT_EQ(Query(key, UsageGroupBy::kDay).totals, Sums(2, 2));
  UsageFilter user;
  user.user_id = "usr_1";
  EXPECT_EQ(Query(user, UsageGroupBy::kDay).totals, Sums(3, 0));
  UsageFilter team;
  team.team_id = "team_2";
  UsageReport none = Query(team, UsageGroupBy::kTeam);
  EXPECT_TRUE(none.rows.empty());
  EXPECT_EQ(none.totals, UsageSums{});
  UsageFilter model;
  model.model = "llama";
  model.key_id = "key_a";
  UsageReport one = Query(model, UsageGroupBy::kModel);
  ASSERT_EQ(one.rows.size(), 1u);
  EXPECT_EQ(one.rows[0].day, "2026-01-01");
  EXPECT_EQ(one.totals, Sums(1, 0));
}

TEST_F(SqliteStoreUsage, TruncatedReportsKeepTheirTotals) {
  UsageReport report = Query(UsageFilter{}, UsageGroupBy::kKey, 2);
  EXPECT_EQ(report.rows.size(), 2u);
  EXPECT_TRUE(report.truncated);
  EXPECT_EQ(report.totals, Sums(5, 2));
}

TEST_F(SqliteStoreUsage, TotalsOfOnePrincipalSinceATime) {
  UsageFilter own;
  own.key_id = "key_a";
  own.from_ms = kJan1 + kDay;
  StoreResult<UsageSums> totals = store_->UsageTotals(own);
  ASSERT_TRUE(totals.ok());
  EXPECT_EQ(*totals, Sums(1, 0));
}

TEST_F(SqliteStoreUsage, RejectsAnOutOfRangeGroupLimit) {
  for (int limit : {0, 10001}) {
    StoreResult<UsageReport> report = store_->QueryUsage(UsageFilter{}, UsageGroupBy::kDay, limit);
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.error().code, StoreErrorCode::kInvalid);
  }
}

TEST_F(SqliteStoreUsage, DaysBeforeTheEpochRoundDown) {
  ASSERT_TRUE(store_->PutUsage({MakeUsage("old", -1, "key_z", "m")}).ok());
  UsageFilter key;
  key.key_id = "key_z";
  UsageReport report = Query(key, UsageGroupBy::kDay);
  ASSERT_EQ(report.rows.size(), 1u);
  EXPECT_EQ(report.rows[0].day, "1969-12-31");
}

}  // namespace
}  // namespace sluice::sqlite
