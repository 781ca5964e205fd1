// Tests of AuditLog (audit_log.h) writing to a real SqliteStore in a temp file through a
// one-thread BlockingPool, as the runtime does: rows wait for a flush (or a full batch),
// failed authentications pass a token bucket (burst 100, 20/s) and the suppressed ones
// are summarised in one row per flush, and no secret reaches the table.
#include "auth/audit_log.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "auth/api_key.h"
#include "store/sqlite/store_test_util.h"

namespace sluice {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const SteadyTime kT0 = SteadyTime() + std::chrono::hours(1000);

class AuditLogTest : public testing::Test {
 protected:
  ~AuditLogTest() override { pool_.Stop(); }

  // Every stored row, newest first (read on the store thread, after queued writes).
  std::vector<AuditRecord> Rows() {
    return pool_.RunSync([this] {
      Page page;
      page.limit = 1000;
      auto rows = store_->ListAudit(AuditFilter{}, page);
      EXPECT_TRUE(rows.ok());
      return rows.ok() ? rows.value() : std::vector<AuditRecord>{};
    });
  }

  static std::map<std::string, int> CountByAction(const std::vector<AuditRecord>& rows) {
    std::map<std::string, int> counts;
    for (const AuditRecord& row : rows) ++counts[row.action];
    return counts;
  }

  static AuditRecord Failure(const std::string& key_prefix, int n) {
    AuditRecord record;
    record.principal = "anonymous";
    record.key_prefix = key_prefix;
    record.action = "auth.failure";
    record.result = "denied";
    record.client_ip = "127.0.0." + std::to_string(n % 250);
    record.request_id = "req-" + std::to_string(n);
    return record;
  }

  sqlite::TempDbPath path_{"auth_audit_log"};
  std::unique_ptr<SqliteStore> store_ = sqlite::OpenOrDie(path_.path());
  BlockingPool pool_{1};
  AuditLog log_{*store_, pool_};
};

TEST_F(AuditLogTest, RowsWaitForAFlushThenReachTheStore) {
  int64_t before = NowMillis();
  AuditRecord login;
  login.principal = "user:usr_1";
  login.action = "login";
  login.target = "user:usr_1";
  login.result = "ok";
  login.client_ip = "127.0.0.1";
  login.request_id = "req-1";
  login.details_json = R"({"method":"password"})";
  log_.Record(login);
  AuditRecord given;
  given.id = "aud_000000000000000000000001";
  given.time_ms = 1234;
  given.principal = "cli";
  given.action = "key.create";
  given.result = "ok";
  log_.Record(given);
  EXPECT_TRUE(Rows().empty());  // batched, not written per call

  log_.Flush();
  std::vector<AuditRecord> rows = Rows();
  int64_t after = NowMillis();
  ASSERT_EQ(rows.size(), 2u);
  const AuditRecord& first = rows[0].action == "login" ? rows[0] : rows[1];
  const AuditRecord& second = rows[0].action == "login" ? rows[1] : rows[0];
  // Id and time are filled in when missing...
  EXPECT_EQ(first.id.substr(0, 4), "aud_");
  EXPECT_EQ(first.id.size(), 28u);
  EXPECT_GE(first.time_ms, before);
  EXPECT_LE(first.time_ms, after);
  EXPECT_EQ(first.principal, "user:usr_1");
  EXPECT_EQ(first.target, "user:usr_1");
  EXPECT_EQ(first.result, "ok");
  EXPECT_EQ(first.client_ip, "127.0.0.1");
  EXPECT_EQ(first.request_id, "req-1");
  EXPECT_EQ(first.details_json, R"({"method":"password"})");
  // ...and kept when given.
  EXPECT_EQ(second.id, given.id);
  EXPECT_EQ(second.time_ms, 1234);

  log_.Flush();  // nothing pending: nothing more written
  EXPECT_EQ(Rows().size(), 2u);
}

TEST_F(AuditLogTest, AFullBatchFlushesItself) {
  AuditRecord record;
  record.principal = "cli";
  record.action = "key.create";
  record.result = "ok";
  for (size_t i = 0; i + 1 < AuditLog::kFlushAt; ++i) log_.Record(record);
  EXPECT_TRUE(Rows().empty());
  log_.Record(record);
  EXPECT_EQ(Rows().size(), AuditLog::kFlushAt);
}

TEST_F(AuditLogTest, OrdinaryRecordsAreNotRateLimited) {
  AuditRecord record;
  record.principal = "cli";
  record.action = "user.update";
  record.result = "ok";
  for (int i = 0; i < 300; ++i) log_.Record(record);
  log_.Flush();
  EXPECT_EQ(Rows().size(), 300u);
  EXPECT_EQ(log_.suppressed(), 0u);
}

TEST_F(AuditLogTest, AFloodOfFailuresIsSuppressedAndSummarised) {
  const std::string secret = GenerateApiKey().secret;
  const std::string shown = DisplayPrefix(secret);
  // The whole burst at one instant: 100 pass, the next 50 are only counted.
  for (int i = 0; i < 150; ++i) log_.RecordAuthFailure(Failure(shown, i), kT0);
  EXPECT_EQ(log_.suppressed(), 50u);
  log_.Flush();
  std::vector<AuditRecord> rows = Rows();
  std::map<std::string, int> counts = CountByAction(rows);
  EXPECT_EQ(counts["auth.failure"], 100);
  ASSERT_EQ(counts["auth.failure.suppressed"], 1);
  for (const AuditRecord& row : rows) {
    if (row.action != "auth.failure.suppressed") continue;
    EXPECT_EQ(row.principal, "gateway");
    EXPECT_EQ(row.result, "suppressed");
    EXPECT_EQ(row.details_json, R"({"count":50})");
    EXPECT_EQ(row.key_prefix, "");
    EXPECT_EQ(row.id.substr(0, 4), "aud_");
    EXPECT_GT(row.time_ms, 0);
  }
  // No row holds the key; the prefix shown is not enough to use it.
  for (const AuditRecord& row : rows) {
    for (const std::string* field : {&row.principal, &row.key_prefix, &row.target, &row.client_ip,
                                     &row.request_id, &row.details_json}) {
      EXPECT_EQ(field->find(secret), std::string::npos) << row.action;
      EXPECT_EQ(field->find(secret.substr(10, 20)), std::string::npos) << row.action;
    }
  }

  // The summary covers one flush interval: a flush without new suppressions adds none.
  log_.Flush();
  EXPECT_EQ(CountByAction(Rows())["auth.failure.suppressed"], 1);
  EXPECT_EQ(log_.suppressed(), 50u);  // the lifetime counter keeps counting
}

TEST_F(AuditLogTest, TheBucketRefillsAtTwentyPerSecondUpToTheBurst) {
  for (int i = 0; i < 100; ++i) log_.RecordAuthFailure(Failure("sk-sl-...", i), kT0);
  EXPECT_EQ(log_.suppressed(), 0u);
  log_.RecordAuthFailure(Failure("sk-sl-...", 100), kT0);
  EXPECT_EQ(log_.suppressed(), 1u);

  // One second later: 20 more pass, the 21st does not.
  const SteadyTime t1 = kT0 + seconds(1);
  for (int i = 0; i < 20; ++i) log_.RecordAuthFailure(Failure("sk-sl-...", i), t1);
  EXPECT_EQ(log_.suppressed(), 1u);
  log_.RecordAuthFailure(Failure("sk-sl-...", 20), t1);
  EXPECT_EQ(log_.suppressed(), 2u);

  // 60 ms is 1.2 tokens: one more passes.
  log_.RecordAuthFailure(Failure("sk-sl-...", 21), t1 + milliseconds(60));
  EXPECT_EQ(log_.suppressed(), 2u);
  log_.RecordAuthFailure(Failure("sk-sl-...", 22), t1 + milliseconds(60));
  EXPECT_EQ(log_.suppressed(), 3u);

  // After a long quiet spell the bucket holds the burst, not more.
  const SteadyTime t2 = kT0 + std::chrono::hours(1);
  for (int i = 0; i < 100; ++i) log_.RecordAuthFailure(Failure("sk-sl-...", i), t2);
  EXPECT_EQ(log_.suppressed(), 3u);
  log_.RecordAuthFailure(Failure("sk-sl-...", 100), t2);
  EXPECT_EQ(log_.suppressed(), 4u);

  log_.Flush();
  std::map<std::string, int> counts = CountByAction(Rows());
  EXPECT_EQ(counts["auth.failure"], 100 + 20 + 1 + 100);
  EXPECT_EQ(counts["auth.failure.suppressed"], 1);
}

}  // namespace
}  // namespace sluice
