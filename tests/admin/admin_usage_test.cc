// Integration: GET /admin/usage through the real admin listener — sums grouped by UTC day
// and key/model with the query's filters and totals, 400 for a bad group_by or time, and the
// permission: usage:read_all (readonly, operator, admin) answers; a `user` key (usage:read,
// its own usage only) gets 403.
#include <gtest/gtest.h>

#include "tests/admin/admin_test_fixture.h"

namespace sluice::testing::admin_test {
namespace {

constexpr int64_t kJan1 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

UsageRecord Row(const std::string& id, int64_t time_ms, const std::string& key,
                const std::string& model, int status) {
  UsageRecord r;
  r.request_id = id;
  r.time_ms = time_ms;
  r.key_id = key;
  r.model_requested = model;
  r.prompt_tokens = 100;
  r.completion_tokens = 20;
  r.cached_tokens = 4;
  r.cost_micros = 300;
  r.status = status;
  return r;
}

class AdminUsageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<UsageRecord> rows = {
        Row("r1", kJan1 + 1, "key_a", "gpt-4o", 200),
        Row("r2", kJan1 + 2, "key_b", "gpt-4o", 429),
        Row("r3", kJan1 + 86'400'000, "key_a", "llama", 200),
    };
    StoreResult<void> put = gw_.OnStore([&] { return gw_.auth().store().PutUsage(rows); });
    ASSERT_TRUE(put.ok()) << put.error().message;
  }
  AdminGateway gw_;
};

TEST_F(AdminUsageTest, GroupsByDayAndKeyWithTotals) {
  Response r = gw_.Admin("GET", "/admin/usage?group_by=key&from=" + std::to_string(kJan1));
  ASSERT_EQ(r.status, 200) << r.body;
  json::object report = JsonOf(r);
  EXPECT_EQ(Str(report, "object"), "usage_report");
  EXPECT_EQ(Str(report, "group_by"), "key");
  const json::array& rows = report.at("rows").as_array();
  ASSERT_EQ(rows.size(), 3u) << r.body;
  EXPECT_EQ(Str(rows[0].as_object(), "day"), "2026-01-01");
  EXPECT_EQ(Str(rows[0].as_object(), "group"), "key_a");
  EXPECT_EQ(Str(rows[1].as_object(), "group"), "key_b");
  EXPECT_EQ(rows[1].at("errors").as_int64(), 1);
  EXPECT_EQ(Str(rows[2].as_object(), "day"), "2026-01-02");
  const json::object& totals = report.at("totals").as_object();
  EXPECT_EQ(totals.at("requests").as_int64(), 3);
  EXPECT_EQ(totals.at("prompt_tokens").as_int64(), 300);
  EXPECT_EQ(totals.at("completion_tokens").as_int64(), 60);
  EXPECT_EQ(totals.at("cached_tokens").as_int64(), 12);
  EXPECT_EQ(totals.at("cost_micros").as_int64(), 900);
  EXPECT_EQ(totals.at("errors").as_int64(), 1);
  EXPECT_FALSE(report.at("truncated").as_bool());
}

TEST_F(AdminUsageTest, FiltersByModelAndTimeAndTruncates) {
  Response r = gw_.Admin("GET", "/admin/usage?model=gpt-4o&to=" + std::to_string(kJan1 + 2));
  ASSERT_EQ(r.status, 200) << r.body;
  json::object report = JsonOf(r);
  ASSERT_EQ(report.at("rows").as_array().size(), 1u);
  EXPECT_EQ(report.at("totals").at("requests").as_int64(), 1);  // r1 only: `to` is exclusive

  r = gw_.Admin("GET", "/admin/usage?group_by=model&limit=1");
  ASSERT_EQ(r.status, 200) << r.body;
  report = JsonOf(r);
  EXPECT_EQ(report.at("rows").as_array().size(), 1u);
  EXPECT_TRUE(report.at("truncated").as_bool());
  EXPECT_EQ(report.at("totals").at("requests").as_int64(), 3);
}

TEST_F(AdminUsageTest, RejectsABadGroupOrTime) {
  for (std::string query : {"group_by=week", "from=yesterday", "limit=0"}) {
    Response r = gw_.Admin("GET", "/admin/usage?" + query);
    EXPECT_EQ(r.status, 400) << query << ": " << r.body;
    EXPECT_EQ(JsonOf(r).at("error").at("param").as_string(), query.substr(0, query.find('=')));
  }
}

TEST_F(AdminUsageTest, NeedsUsageReadAll) {
  TestKey user = gw_.CreateKey({.roles = {"user"}});
  EXPECT_EQ(gw_.Call("GET", "/admin/usage", "", user.secret).status, 403);
  TestKey reader = gw_.CreateKey({.roles = {"readonly"}});
  EXPECT_EQ(gw_.Call("GET", "/admin/usage", "", reader.secret).status, 200);
}

}  // namespace
}  // namespace sluice::testing::admin_test
