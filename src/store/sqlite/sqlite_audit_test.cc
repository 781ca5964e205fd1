// Tests of the audit log in SqliteStore: newest-first order independent of id order, each
// filter (principal, action exact and prefix, target, result, time range), pagination with
// filters, unknown cursors, and batches that are appended all or nothing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/store_test_util.h"

namespace sluice::sqlite {
namespace {

AuditRecord MakeAudit(const std::string& id, int64_t time_ms, const std::string& principal,
                      const std::string& action) {
  AuditRecord record;
  record.id = id;
  record.time_ms = time_ms;
  record.principal = principal;
  record.key_prefix = "sk-sl-ab…";
  record.action = action;
  record.target = "key:key_1";
  record.result = "ok";
  record.client_ip = "10.0.0.1";
  record.request_id = "req_" + id;
  record.details_json = R"({"n":1})";
  return record;
}

class SqliteStoreAudit : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(store_, nullptr);
    // Ids deliberately do not sort by time: aud_9 is the oldest.
    std::vector<AuditRecord> records = {
        MakeAudit("aud_9", 1000, "cli", "key.create"),
        MakeAudit("aud_8", 2000, "user:usr_1", "key.revoke"),
        MakeAudit("aud_7", 3000, "user:usr_1", "login"),
        MakeAudit("aud_6", 3000, "user:usr_2", "keys.list"),  // same time as aud_7
        MakeAudit("aud_5", 4000, "cli", "key"),
        MakeAudit("aud_4", 5000, "user:usr_2", "auth.failure"),
        MakeAudit("aud_3", 6000, "user:usr_1", "key.create"),
    };
    records[5].result = "denied";
    records[5].target = "";
    ASSERT_TRUE(store_->AppendAudit(records).ok());
  }

  std::vector<std::string> Ids(const AuditFilter& filter, int limit = 1000) {
    std::vector<std::string> ids;
    Page page{limit, ""};
    for (int guard = 0; guard < 100; ++guard) {
      StoreResult<std::vector<AuditRecord>> records = store_->ListAudit(filter, page);
      EXPECT_TRUE(records.ok()) << (records.ok() ? "" : records.error().message);
      if (!records.ok() || records->empty()) break;
      for (const AuditRecord& record : *records) ids.push_back(record.id);
      page.after = records->back().id;
    }
    return ids;
  }

  std::unique_ptr<SqliteStore> store_ = OpenOrDie(":memory:");
};

using IdList = std::vector<std::string>;

TEST_F(SqliteStoreAudit, NewestFirstWithIdsBreakingTimeTies) {
  EXPECT_EQ(Ids({}), (IdList{"aud_3", "aud_4", "aud_5", "aud_7", "aud_6", "aud_8", "aud_9"}));
  // The same order page by page, including across the tie at 3000 ms.
  EXPECT_EQ(Ids({}, 1), (IdList{"aud_3", "aud_4", "aud_5", "aud_7", "aud_6", "aud_8", "aud_9"}));
  EXPECT_EQ(Ids({}, 3), (IdList{"aud_3", "aud_4", "aud_5", "aud_7", "aud_6", "aud_8", "aud_9"}));
}

TEST_F(SqliteStoreAudit, RecordsRoundTrip) {
  StoreResult<std::vector<AuditRecord>> records = store_->ListAudit({}, Page{1, ""});
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  const AuditRecord& got = (*records)[0];
  AuditRecord want = MakeAudit("aud_3", 6000, "user:usr_1", "key.create");
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.time_ms, want.time_ms);
  EXPECT_EQ(got.principal, want.principal);
  EXPECT_EQ(got.key_prefix, want.key_prefix);
  EXPECT_EQ(got.action, want.action);
  EXPECT_EQ(got.target, want.target);
  EXPECT_EQ(got.result, want.result);
  EXPECT_EQ(got.client_ip, want.client_ip);
  EXPECT_EQ(got.request_id, want.request_id);
  EXPECT_EQ(got.details_json, want.details_json);
}

TEST_F(SqliteStoreAudit, FiltersSelectExactlyTheMatchingRecords) {
  AuditFilter filter;
  filter.principal = "user:usr_1";
  EXPECT_EQ(Ids(filter), (IdList{"aud_3", "aud_7", "aud_8"}));
  EXPECT_EQ(Ids(filter, 2), (IdList{"aud_3", "aud_7", "aud_8"}));

  filter = {};
  filter.action = "key.create";  // exact
  EXPECT_EQ(Ids(filter), (IdList{"aud_3", "aud_9"}));
  filter.action = "key";  // exact: neither "key.create" nor "keys.list"
  EXPECT_EQ(Ids(filter), (IdList{"aud_5"}));
  filter.action = "key.";  // prefix: not "key" itself, not "keys.list"
  EXPECT_EQ(Ids(filter), (IdList{"aud_3", "aud_8", "aud_9"}));
  filter.action = "ke";
  EXPECT_TRUE(Ids(filter).empty());

  filter = {};
  filter.result = "denied";
  EXPECT_EQ(Ids(filter), (IdList{"aud_4"}));
  filter = {};
  filter.target = "key:key_1";
  EXPECT_EQ(Ids(filter).size(), 6u);

  filter = {};
  filter.since_ms = 2000;  // inclusive
  filter.until_ms = 5000;  // exclusive
  EXPECT_EQ(Ids(filter), (IdList{"aud_5", "aud_7", "aud_6", "aud_8"}));
  EXPECT_EQ(Ids(filter, 1), (IdList{"aud_5", "aud_7", "aud_6", "aud_8"}));
  filter.until_ms = 0;
  EXPECT_EQ(Ids(filter).size(), 6u);

  filter = {};
  filter.principal = "user:usr_1";
  filter.action = "key.";
  filter.since_ms = 1500;
  EXPECT_EQ(Ids(filter), (IdList{"aud_3", "aud_8"}));
  filter.principal = "nobody";
  EXPECT_TRUE(Ids(filter).empty());
}

TEST_F(SqliteStoreAudit, CursorAndPageChecks) {
  StoreResult<std::vector<AuditRecord>> after = store_->ListAudit({}, Page{2, "aud_7"});
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].id, "aud_6");
  EXPECT_EQ((*after)[1].id, "aud_8");
  StoreResult<std::vector<AuditRecord>> unknown = store_->ListAudit({}, Page{2, "aud_x"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, StoreErrorCode::kInvalid);
  for (int limit : {0, 1001}) {
    StoreResult<std::vector<AuditRecord>> bad = store_->ListAudit({}, Page{limit, ""});
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, StoreErrorCode::kInvalid);
  }
}

TEST_F(SqliteStoreAudit, ABatchIsAppendedAllOrNothing) {
  StoreResult<void> result = store_->AppendAudit(
      {MakeAudit("aud_new", 9000, "cli", "x"), MakeAudit("aud_3", 9000, "cli", "x")});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kConflict);
  EXPECT_EQ(Ids({}).size(), 7u);

  AuditRecord bad_details = MakeAudit("aud_new2", 9000, "cli", "x");
  bad_details.details_json = "not json";
  result = store_->AppendAudit({MakeAudit("aud_new", 9000, "cli", "x"), bad_details});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kInvalid);
  EXPECT_EQ(Ids({}).size(), 7u);

  ASSERT_TRUE(store_->AppendAudit({}).ok());
  ASSERT_TRUE(store_->AppendAudit({MakeAudit("aud_new", 9000, "cli", "x")}).ok());
  EXPECT_EQ(Ids({}).front(), "aud_new");
}

}  // namespace
}  // namespace sluice::sqlite
