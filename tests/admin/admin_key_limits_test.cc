// Integration: a key's limit overrides through the admin listener — set at creation, shown
// by GET and list (null without overrides), refused with a 400 naming the field, merged and
// cleared by PATCH, on the key's principal at once (GET /admin/whoami with the key itself
// reads the principal the key cache built; the cache TTL here is 10 s, so seeing a change
// proves the entry was dropped), and audited with the limits before and after.
#include <gtest/gtest.h>

#include "tests/admin/admin_test_fixture.h"

namespace sluice::testing::admin_test {
namespace {

const char kExample[] = R"({"requests_per_minute":600,"tokens_per_minute":200000,
    "concurrency":8,"budgets":[{"usd":25,"per":"month"},{"tokens":1000000,"per":"day"}]})";

class AdminKeyLimitsTest : public ::testing::Test {
 protected:
  // Creates a key (with `limits` when not null) and returns the 201 body.
  json::object NewKey(const json::value& limits) {
    json::object request{{"name", "limited"}};
    if (!limits.is_null()) request["limits"] = limits;
    return gw_.CreateKeyViaApi(request);
  }

  // The limits of the principal the gateway builds for `secret` (GET /admin/whoami).
  json::value PrincipalLimits(const std::string& secret) {
    Response r = gw_.Call("GET", "/admin/whoami", "", secret);
    EXPECT_EQ(r.status, 200) << r.body;
    json::object principal = JsonOf(r);
    EXPECT_TRUE(principal.contains("limits")) << r.body;
    return principal.contains("limits") ? principal["limits"] : json::value("missing");
  }

  json::value StoredLimits(const std::string& id) {
    return JsonOf(gw_.Admin("GET", "/admin/keys/" + id))["limits"];
  }

  AdminGateway gw_;
};

TEST_F(AdminKeyLimitsTest, CreateStoresTheLimitsAndGetListAndWhoamiShowThem) {
  const json::value example = json::parse(kExample);
  json::object created = NewKey(example);
  const std::string id = Str(created, "id");
  EXPECT_EQ(created["limits"], example);
  EXPECT_EQ(StoredLimits(id), example);
  json::object plain = NewKey(nullptr);
  EXPECT_TRUE(plain["limits"].is_null()) << json::serialize(plain);

  json::object list = JsonOf(gw_.Admin("GET", "/admin/keys?limit=1000"));
  int seen = 0;
  for (const json::value& item : list["data"].as_array()) {
    const json::object& key = item.as_object();
    ASSERT_TRUE(key.contains("limits")) << json::serialize(key);
    if (Str(key, "id") == id) {
      EXPECT_EQ(key.at("limits"), example);
      ++seen;
    } else {
      EXPECT_TRUE(key.at("limits").is_null()) << json::serialize(key);
    }
  }
  EXPECT_EQ(seen, 1);

  // The principal built from the key carries them; a key without overrides carries none.
  EXPECT_EQ(PrincipalLimits(Str(created, "secret")), example);
  EXPECT_TRUE(PrincipalLimits(Str(plain, "secret")).is_null());
  EXPECT_TRUE(PrincipalLimits(gw_.admin_key().secret).is_null());
  // The key still works on the data plane.
  EXPECT_EQ(gw_.ChatWithKey("m", Str(created, "secret")).status, 200);
}

TEST_F(AdminKeyLimitsTest, BadLimitsAre400WithTheFieldNamedAndChangeNothing) {
  struct Case {
    const char* limits;
    const char* param;
  };
  const Case cases[] = {
      {R"(600)", "limits"},
      {R"({"requests_per_minute":0})", "limits.requests_per_minute"},
      {R"({"tokens_per_minute":-5})", "limits.tokens_per_minute"},
      {R"({"concurrency":2.5})", "limits.concurrency"},
      {R"({"rpm_limit":60})", "limits.rpm_limit"},
      {R"({"budgets":[{"usd":10,"per":"year"}]})", "limits.budgets[0].per"},
      {R"({"budgets":[{"usd":-1}]})", "limits.budgets[0].usd"},
      {R"({"budgets":[{"tokens":10},{"tokens":20}]})", "limits.budgets[1]"},
      {R"({"budgets":[{"usd":1,"tokens":2}]})", "limits.budgets[0]"},
  };
  json::object existing = NewKey(json::parse(R"({"concurrency":3})"));
  const std::string id = Str(existing, "id");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.limits);
    const std::string body = std::string(R"({"name":"bad","limits":)") + c.limits + "}";
    json::object error =
        ExpectOpenAiError(gw_.Admin("POST", "/admin/keys", body), 400, "invalid_request_error", "");
    EXPECT_EQ(error["param"], json::value(c.param));
    EXPECT_NE(Str(error, "message").find(c.param), std::string::npos) << Str(error, "message");
    error = ExpectOpenAiError(gw_.Admin("PATCH", "/admin/keys/" + id, body), 400,
                              "invalid_request_error", "");
    EXPECT_EQ(error["param"], json::value(c.param));
  }
  // Nothing was created and the existing key kept its name and limits.
  json::object list = JsonOf(gw_.Admin("GET", "/admin/keys?limit=1000"));
  EXPECT_EQ(list["data"].as_array().size(), 2u);  // the admin key and `existing`
  json::object got = JsonOf(gw_.Admin("GET", "/admin/keys/" + id));
  EXPECT_EQ(Str(got, "name"), "limited");
  EXPECT_EQ(got["limits"], json::parse(R"({"concurrency":3})"));
}

TEST_F(AdminKeyLimitsTest, PatchMergesAndClearsAndThePrincipalSeesItAtOnce) {
  json::object created = NewKey(json::parse(R"({"requests_per_minute":60})"));
  const std::string id = Str(created, "id");
  const std::string secret = Str(created, "secret");
  ASSERT_EQ(PrincipalLimits(secret), json::parse(R"({"requests_per_minute":60})"));  // cached

  auto patch = [&](const char* limits) {
    Response r =
        gw_.Admin("PATCH", "/admin/keys/" + id, std::string(R"({"limits":)") + limits + "}");
    EXPECT_EQ(r.status, 200) << r.body;
    return JsonOf(r)["limits"];
  };
  const json::value merged = json::parse(
      R"({"requests_per_minute":60,"concurrency":4,"budgets":[{"usd":2.5,"per":"day"}]})");
  EXPECT_EQ(patch(R"({"concurrency":4,"budgets":[{"usd":2.5,"per":"day"}]})"), merged);
  EXPECT_EQ(StoredLimits(id), merged);
  EXPECT_EQ(PrincipalLimits(secret), merged);  // no wait for the 10 s cache TTL

  const json::value fewer = json::parse(R"({"concurrency":4})");
  EXPECT_EQ(patch(R"({"requests_per_minute":null,"budgets":null})"), fewer);
  EXPECT_EQ(PrincipalLimits(secret), fewer);

  // Other fields leave the limits alone; limits: null removes every override.
  Response renamed = gw_.Admin("PATCH", "/admin/keys/" + id, R"({"name":"renamed"})");
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(JsonOf(renamed)["limits"], fewer);
  EXPECT_TRUE(patch("null").is_null());
  EXPECT_TRUE(StoredLimits(id).is_null());
  EXPECT_TRUE(PrincipalLimits(secret).is_null());
  EXPECT_EQ(gw_.ChatWithKey("m", secret).status, 200);
}

TEST_F(AdminKeyLimitsTest, LimitChangesAreAuditedBeforeAndAfter) {
  Response created = gw_.Admin("POST", "/admin/keys", R"({"name":"a","limits":{"concurrency":2}})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = Str(JsonOf(created), "id");
  json::object details = json::parse(gw_.RowFor("key.create", created).details_json).as_object();
  EXPECT_EQ(details["status"], json::value(201));
  EXPECT_EQ(details["limits"], json::parse(R"({"from":null,"to":{"concurrency":2}})"));

  Response changed = gw_.Admin("PATCH", "/admin/keys/" + id,
                               R"({"limits":{"tokens_per_minute":1000,"concurrency":null}})");
  ASSERT_EQ(changed.status, 200) << changed.body;
  details = json::parse(gw_.RowFor("key.update", changed).details_json).as_object();
  EXPECT_EQ(details["status"], json::value(200));
  EXPECT_EQ(details["limits"],
            json::parse(R"({"from":{"concurrency":2},"to":{"tokens_per_minute":1000}})"));

  // A change of something else says nothing about limits.
  Response renamed = gw_.Admin("PATCH", "/admin/keys/" + id, R"({"name":"b"})");
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  details = json::parse(gw_.RowFor("key.update", renamed).details_json).as_object();
  EXPECT_FALSE(details.contains("limits")) << json::serialize(details);
  EXPECT_EQ(details["status"], json::value(200));
}

}  // namespace
}  // namespace sluice::testing::admin_test
