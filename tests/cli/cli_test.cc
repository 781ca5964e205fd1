// Integration, with the real `sluice` binary: the identity commands (`sluice keys|users|
// teams|admin`) against a temporary config and SQLite store. Checks what they print (a
// secret once, alone on stdout; tables without secrets or hashes), what they store (hashes
// only: an argon2id password hash, no secret anywhere in the file), the audit rows, the
// bootstrap marker shared with the gateway, and the exit codes (0 ok, 1 failed, 2 usage).
#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "auth/api_key.h"
#include "auth/login_service.h"
#include "store/sqlite/sqlite_store.h"
#include "tests/cli/run_command.h"

namespace sluice::testing {
namespace {

namespace json = boost::json;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::create_directories(dir_);
    db_ = (dir_ / "sluice.db").string();
    config_ = (dir_ / "sluice.yaml").string();
    std::ofstream(config_) << "server:\n"
                              "  listen: 127.0.0.1:0\n"
                              "backends:\n"
                              "  - name: up\n"
                              "    url: http://127.0.0.1:9/v1\n"
                              "models:\n"
                              "  - name: m\n"
                              "    backend: up\n"
                              "auth:\n"
                              "  tiers:\n"
                              "    basic: [m]\n"
                              "    premium: [\"*\"]\n"
                              "  roles:\n"
                              "    invoker: [models:invoke]\n"
                              "store:\n"
                              "  sqlite: "
                           << db_ << "\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // `sluice <args> --config <config>`.
  CommandResult Sluice(std::vector<std::string> args, const std::string& stdin_text = "",
                       const std::vector<std::pair<std::string, std::string>>& env = {}) {
    args.insert(args.begin(), SLUICE_BINARY);
    args.push_back("--config");
    args.push_back(config_);
    return RunCommand(args, stdin_text, env);
  }

  // Creates a key and returns {secret, id}; the id is read from the --json form of list.
  std::pair<std::string, std::string> CreateKey(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"keys", "create", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult created = Sluice(args);
    EXPECT_EQ(created.exit_code, 0) << created.err;
    json::object key = json::parse(created.out).as_object();
    return {std::string(key.at("secret").as_string()), std::string(key.at("id").as_string())};
  }

  std::unique_ptr<SqliteStore> OpenStore() {
    std::string error;
    auto store = SqliteStore::Open(db_, &error);
    EXPECT_TRUE(store) << error;
    return store;
  }

  // Every byte of the store: the database and any WAL or shared-memory file beside it.
  std::string StoreBytes() const {
    std::string bytes;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      if (entry.path().filename().string().rfind("sluice.db", 0) != 0) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return bytes;
  }

  std::filesystem::path dir_;
  std::string db_;
  std::string config_;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The table row that mentions `id`, or "".
std::string RowOf(const std::string& table, const std::string& id) {
  for (const std::string& line : Lines(table)) {
    if (line.find(id) != std::string::npos) return line;
  }
  return "";
}

TEST_F(CliTest, KeyCreatePrintsTheSecretOnceThenListShowsItWithoutSecretAndRevokeShows) {
  CommandResult created = Sluice({"keys", "create", "--name", "ci-runner", "--tier", "basic",
                                  "--model", "m", "--expires-in", "30d"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  // stdout is the secret alone, so KEY=$(sluice keys create ...) captures it.
  ASSERT_EQ(Lines(created.out).size(), 1u) << created.out;
  std::string secret = Lines(created.out)[0];
  EXPECT_EQ(CheckApiKeyFormat(secret), ApiKeyFormat::kValid) << secret;
  auto store = OpenStore();
  auto found = store->FindKeyByHash(Sha256Hex(secret));
  ASSERT_TRUE(found.ok() && found.value());
  const ApiKeyRecord key = *found.value();
  EXPECT_NE(created.err.find("created key " + key.id + " (prefix " + key.prefix + ")"),
            std::string::npos)
      << created.err;

  CommandResult listed = Sluice({"keys", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::string row = RowOf(listed.out, key.id);
  EXPECT_NE(row.find("ci-runner"), std::string::npos) << listed.out;
  EXPECT_NE(row.find(key.prefix), std::string::npos) << listed.out;
  EXPECT_NE(row.find("basic"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find(secret), std::string::npos);
  EXPECT_EQ(listed.out.find(key.hash), std::string::npos);
  EXPECT_EQ(Lines(listed.out).size(), 2u) << listed.out;  // header + one key
  EXPECT_NE(Lines(listed.out)[0].find("REVOKED"), std::string::npos);

  CommandResult revoked = Sluice({"keys", "revoke", key.id});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_NE(revoked.out.find("revoked key " + key.id), std::string::npos) << revoked.out;
  auto after = store->GetKey(key.id);
  ASSERT_TRUE(after.ok() && after.value());
  EXPECT_NE(after.value()->revoked_at, 0);

  CommandResult only_revoked = Sluice({"keys", "list", "--revoked", "true"});
  ASSERT_EQ(only_revoked.exit_code, 0) << only_revoked.err;
  EXPECT_FALSE(RowOf(only_revoked.out, key.id).empty()) << only_revoked.out;
  CommandResult only_usable = Sluice({"keys", "list", "--revoked", "false"});
  ASSERT_EQ(only_usable.exit_code, 0) << only_usable.err;
  EXPECT_TRUE(RowOf(only_usable.out, key.id).empty()) << only_usable.out;

  // The REVOKED column now holds a date, where it held "-".
  size_t column = Lines(listed.out)[0].find("REVOKED");
  EXPECT_EQ(row.substr(column, 2), "- ") << listed.out;
  std::string revoked_row = RowOf(only_revoked.out, key.id);
  EXPECT_EQ(revoked_row.substr(column, 2), "20") << only_revoked.out;
}

TEST_F(CliTest, JsonOutputIsTheAdminApiShapeAndListsCarryNoSecretOrHash) {
  auto [secret, id] =
      CreateKey({"--name", "j", "--role", "user,invoker", "--metadata", R"({"owner":"ops"})"});
  CommandResult listed = Sluice({"keys", "list", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  json::object body = json::parse(listed.out).as_object();
  EXPECT_EQ(body.at("object").as_string(), "list");
  ASSERT_EQ(body.at("data").as_array().size(), 1u);
  const json::object& key = body.at("data").as_array()[0].as_object();
  EXPECT_EQ(key.at("id").as_string(), id);
  EXPECT_EQ(key.at("roles"), json::value(json::array{"user", "invoker"}));
  EXPECT_EQ(key.at("metadata").at("owner").as_string(), "ops");
  EXPECT_FALSE(key.contains("secret"));
  EXPECT_FALSE(key.contains("hash"));
  EXPECT_EQ(listed.out.find(secret), std::string::npos);
}

TEST_F(CliTest, RotatePrintsANewSecretAndKeepsTheKeysFields) {
  auto [old_secret, id] = CreateKey(
      {"--name", "rot", "--role", "invoker", "--tier", "premium", "--model", "m*", "--model", "e"});
  CommandResult rotated = Sluice({"keys", "rotate", id});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  ASSERT_EQ(Lines(rotated.out).size(), 1u) << rotated.out;
  std::string new_secret = Lines(rotated.out)[0];
  EXPECT_EQ(CheckApiKeyFormat(new_secret), ApiKeyFormat::kValid);
  EXPECT_NE(new_secret, old_secret);

  auto store = OpenStore();
  auto key = store->GetKey(id);
  ASSERT_TRUE(key.ok() && key.value());
  EXPECT_EQ(key.value()->hash, Sha256Hex(new_secret));
  EXPECT_EQ(key.value()->name, "rot");
  EXPECT_EQ(key.value()->roles, std::vector<std::string>{"invoker"});
  EXPECT_EQ(key.value()->tier, "premium");
  EXPECT_EQ(key.value()->allowed_models, (std::vector<std::string>{"m*", "e"}));
  EXPECT_EQ(key.value()->revoked_at, 0);
  auto old = store->FindKeyByHash(Sha256Hex(old_secret));
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old.value());

  // A revoked key cannot be rotated back to life.
  ASSERT_EQ(Sluice({"keys", "revoke", id}).exit_code, 0);
  CommandResult refused = Sluice({"keys", "rotate", id});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.out, "");
  EXPECT_NE(refused.err.find("is revoked"), std::string::npos) << refused.err;
}

TEST_F(CliTest, KeyLimitFlagsAreStoredListedUpdatedAndCleared) {
  auto [secret, id] =
      CreateKey({"--name", "limited", "--rpm", "600", "--tpm", "200000", "--max-parallel", "8",
                 "--budget-usd", "25", "--budget-tokens", "1000000", "--budget-tokens-per", "day"});
  KeyLimits expected;
  expected.requests_per_minute = 600;
  expected.tokens_per_minute = 200000;
  expected.concurrency = 8;
  expected.budget_usd_micros = 25'000'000;
  expected.budget_usd_period = KeyLimitPeriod::kMonth;
  expected.budget_tokens = 1'000'000;
  expected.budget_tokens_period = KeyLimitPeriod::kDay;
  auto limits_of = [&](const std::string& key_id) {
    auto key = OpenStore()->GetKey(key_id);
    EXPECT_TRUE(key.ok() && key.value());
    return key.ok() && key.value() ? key.value()->limits : KeyLimits{};
  };
  EXPECT_EQ(limits_of(id), expected);
  auto [plain_secret, plain] = CreateKey({"--name", "plain", "--rpm", "0"});  // 0: none
  EXPECT_TRUE(limits_of(plain).empty());

  CommandResult listed = Sluice({"keys", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(Lines(listed.out)[0].find("LIMITS"), std::string::npos) << listed.out;
  EXPECT_NE(RowOf(listed.out, id)
                .find("rpm=600,tpm=200000,concurrency=8,usd=25/month,tokens=1000000/day"),
            std::string::npos)
      << listed.out;
  EXPECT_TRUE(RowOf(listed.out, plain).ends_with(" -")) << listed.out;

  // Update: given flags change (0 removes), the rest stays; a budget's window alone moves.
  CommandResult updated =
      Sluice({"keys", "update", id, "--rpm", "0", "--budget-usd-per", "week", "--tpm", "5"});
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_EQ(updated.out, "updated key " + id + " (" + DisplayPrefix(secret) +
                             "); limits: tpm=5,concurrency=8,usd=25/week,tokens=1000000/day\n");
  expected.requests_per_minute = 0;
  expected.tokens_per_minute = 5;
  expected.budget_usd_period = KeyLimitPeriod::kWeek;
  EXPECT_EQ(limits_of(id), expected);

  ASSERT_EQ(Sluice({"keys", "update", id, "--budget-tokens", "0", "--budget-usd", "0.5"}).exit_code,
            0);
  expected.budget_tokens = 0;
  expected.budget_tokens_period = KeyLimitPeriod::kMonth;
  expected.budget_usd_micros = 500'000;
  EXPECT_EQ(limits_of(id), expected);

  // --clear-limits removes everything, then applies the flags given with it.
  CommandResult cleared = Sluice({"keys", "update", id, "--clear-limits", "--concurrency", "2"});
  ASSERT_EQ(cleared.exit_code, 0) << cleared.err;
  KeyLimits only_concurrency;
  only_concurrency.concurrency = 2;
  EXPECT_EQ(limits_of(id), only_concurrency);
  CommandResult json_out = Sluice({"keys", "update", id, "--clear-limits", "--json"});
  ASSERT_EQ(json_out.exit_code, 0) << json_out.err;
  EXPECT_TRUE(json::parse(json_out.out).at("limits").is_null()) << json_out.out;
  EXPECT_TRUE(limits_of(id).empty());
  ASSERT_EQ(Sluice({"keys", "update", id, "--name", "renamed"}).exit_code, 0);
  EXPECT_EQ(OpenStore()->GetKey(id).value()->name, "renamed");

  // Each change is audited with the limits before and after.
  AuditFilter filter;
  filter.action = "key.update";
  auto rows = OpenStore()->ListAudit(filter, {});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 5u);
  const AuditRecord& first = rows->back();  // newest first
  EXPECT_EQ(first.principal, "cli");
  EXPECT_EQ(first.target, "key:" + id);
  EXPECT_EQ(json::parse(first.details_json).at("limits").at("to"),
            json::parse(R"({"tokens_per_minute":5,"concurrency":8,)"
                        R"("budgets":[{"usd":25,"per":"week"},{"tokens":1000000,"per":"day"}]})"));
  EXPECT_FALSE(json::parse(rows->front().details_json).as_object().contains("limits"))
      << rows->front().details_json;  // the rename
}

TEST_F(CliTest, KeyLimitFlagErrorsNameTheFlag) {
  auto [secret, id] = CreateKey({"--name", "k"});
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"keys", "create", "--name", "x", "--rpm", "-1"},
           {"keys", "create", "--name", "x", "--rpm", "many"},
           {"keys", "create", "--name", "x", "--budget-usd", "5", "--budget-usd-per", "year"},
           {"keys", "create", "--name", "x", "--budget-tokens-per", "day"},
           {"keys", "update", id, "--budget-usd-per", "day"},  // the key has no usd budget
           {"keys", "update", id},                             // nothing to change
           {"keys", "update"},
       }) {
    CommandResult result = Sluice(args);
    EXPECT_EQ(result.exit_code, 2) << args.back() << "\n" << result.err;
    EXPECT_EQ(result.out, "");
  }
  CommandResult needs = Sluice({"keys", "update", id, "--budget-usd-per", "day"});
  EXPECT_EQ(needs.err,
            "sluice: --budget-usd-per needs --budget-usd (the key has no such budget)\n");
  CommandResult huge = Sluice({"keys", "create", "--name", "x", "--rpm", "2000000000000000"});
  EXPECT_EQ(huge.exit_code, 1);
  EXPECT_NE(huge.err.find("'limits.requests_per_minute' must be a whole number"), std::string::npos)
      << huge.err;
  EXPECT_TRUE(huge.err.ends_with("(--rpm)\n")) << huge.err;
  CommandResult tiny = Sluice({"keys", "create", "--name", "x", "--budget-usd", "0.0000001"});
  EXPECT_EQ(tiny.exit_code, 1);
  EXPECT_TRUE(tiny.err.ends_with("(--budget-usd)\n")) << tiny.err;
  CommandResult unknown = Sluice({"keys", "update", "key_x", "--rpm", "5"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "sluice: key 'key_x' does not exist\n");
  // Nothing was created or changed.
  auto keys = OpenStore()->ListKeys({}, Page{});
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_TRUE(keys->front().limits.empty());
}

TEST_F(CliTest, UsersCreateStoresAnArgon2idHashFromStdinNeverThePassword) {
  const std::string password = "correct horse battery staple";
  CommandResult created = Sluice(
      {"users", "create", "--username", "alice", "--email", "a@example.com", "--password-stdin"},
      password + "\n");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_NE(created.out.find("created user alice"), std::string::npos) << created.out;

  auto store = OpenStore();
  auto user = store->FindUserByName("alice");
  ASSERT_TRUE(user.ok() && user.value());
  const std::string& hash = user.value()->password_hash;
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_EQ(hash.find(password), std::string::npos);
  ASSERT_GE(sodium_init(), 0);
  EXPECT_TRUE(LoginService::VerifyPassword(hash, password));
  EXPECT_EQ(user.value()->email, "a@example.com");
  EXPECT_EQ(StoreBytes().find(password), std::string::npos);

  CommandResult listed = Sluice({"users", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(RowOf(listed.out, "alice").find("a@example.com"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find("argon2"), std::string::npos);
}

TEST_F(CliTest, UsersCreateTakesThePasswordFromANamedEnvironmentVariable) {
  CommandResult created =
      Sluice({"users", "create", "--username", "bob", "--password-env", "BOB_PASSWORD"}, "",
             {{"BOB_PASSWORD", "s3cret-enough"}});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto user = OpenStore()->FindUserByName("bob");
  ASSERT_TRUE(user.ok() && user.value());
  ASSERT_GE(sodium_init(), 0);
  EXPECT_TRUE(LoginService::VerifyPassword(user.value()->password_hash, "s3cret-enough"));

  // Unset, too short, or as a plain argument: usage errors, and no user is created.
  EXPECT_EQ(
      Sluice({"users", "create", "--username", "c1", "--password-env", "NOPE_UNSET"}).exit_code, 2);
  EXPECT_EQ(
      Sluice({"users", "create", "--username", "c2", "--password-stdin"}, "short\n").exit_code, 2);
  EXPECT_EQ(Sluice({"users", "create", "--username", "c3", "--password", "hunter22"}).exit_code, 2);
  EXPECT_EQ(Sluice({"users", "create", "--username", "c4", "hunter22"}).exit_code, 2);
  auto users = OpenStore()->ListUsers({}, {});
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(users.value().size(), 1u);
}

TEST_F(CliTest, UsersDisableAndEnableByUsernameOrId) {
  ASSERT_EQ(Sluice({"users", "create", "--username", "carol"}).exit_code, 0);
  auto store = OpenStore();
  std::string id = store->FindUserByName("carol").value()->id;

  CommandResult disabled = Sluice({"users", "disable", "carol"});
  ASSERT_EQ(disabled.exit_code, 0) << disabled.err;
  EXPECT_EQ(disabled.out, "disabled user carol (" + id + ")\n");
  EXPECT_TRUE(store->GetUser(id).value()->disabled);
  EXPECT_NE(RowOf(Sluice({"users", "list"}).out, id).find(" yes "), std::string::npos);

  ASSERT_EQ(Sluice({"users", "enable", id}).exit_code, 0);
  EXPECT_FALSE(store->GetUser(id).value()->disabled);

  CommandResult unknown = Sluice({"users", "disable", "nobody"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "sluice: user 'nobody' does not exist\n");
}

TEST_F(CliTest, TeamsAndOwnersResolveByIdAndUsername) {
  CommandResult team = Sluice({"teams", "create", "--name", "research", "--tier", "premium"});
  ASSERT_EQ(team.exit_code, 0) << team.err;
  auto store = OpenStore();
  auto teams = store->ListTeams({});
  ASSERT_TRUE(teams.ok());
  ASSERT_EQ(teams.value().size(), 1u);
  const TeamRecord research = teams.value()[0];
  EXPECT_EQ(research.tier, "premium");
  EXPECT_NE(RowOf(Sluice({"teams", "list"}).out, research.id).find("research"), std::string::npos);

  ASSERT_EQ(Sluice({"users", "create", "--username", "dave", "--team", research.id}).exit_code, 0);
  std::string dave = store->FindUserByName("dave").value()->id;
  EXPECT_EQ(store->ListUserTeams(dave).value(), std::vector<std::string>{research.id});

  auto [secret, id] = CreateKey({"--name", "owned", "--user", "dave", "--team", research.id});
  EXPECT_EQ(store->GetKey(id).value()->user_id, dave);
  EXPECT_EQ(store->GetKey(id).value()->team_id, research.id);
  std::string row = RowOf(Sluice({"keys", "list", "--user", "dave"}).out, id);
  EXPECT_NE(row.find("user:dave,team:research"), std::string::npos) << row;

  CommandResult no_team = Sluice({"keys", "create", "--name", "x", "--team", "team_nope"});
  EXPECT_EQ(no_team.exit_code, 1);
  EXPECT_EQ(no_team.err, "sluice: no team 'team_nope' (--team)\n");
}

TEST_F(CliTest, RoleAndTierNamesAreCheckedAgainstTheConfigButNotWithStore) {
  CommandResult bad_role = Sluice({"keys", "create", "--name", "x", "--role", "superuser"});
  EXPECT_EQ(bad_role.exit_code, 1);
  EXPECT_EQ(bad_role.err, "sluice: no role 'superuser' (--role)\n");
  CommandResult bad_tier = Sluice({"users", "create", "--username", "u", "--tier", "gold"});
  EXPECT_EQ(bad_tier.exit_code, 1);
  EXPECT_EQ(bad_tier.err, "sluice: no tier 'gold' (--tier)\n");
  EXPECT_EQ(Sluice({"teams", "create", "--name", "t", "--tier", "gold"}).exit_code, 1);

  CommandResult direct = RunCommand(
      {SLUICE_BINARY, "keys", "create", "--name", "x", "--role", "superuser", "--store", db_});
  EXPECT_EQ(direct.exit_code, 0) << direct.err;
}

TEST_F(CliTest, AdminBootstrapCreatesOneAdminKeyAndMarksTheStore) {
  CommandResult first = Sluice({"admin", "bootstrap"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(Lines(first.out).size(), 1u);
  std::string secret = Lines(first.out)[0];
  auto store = OpenStore();
  auto key = store->FindKeyByHash(Sha256Hex(secret));
  ASSERT_TRUE(key.ok() && key.value());
  EXPECT_EQ(key.value()->roles, std::vector<std::string>{"admin"});
  auto marker = store->GetSetting("bootstrap.admin_key");
  ASSERT_TRUE(marker.ok() && marker.value());

  CommandResult again = Sluice({"admin", "bootstrap"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.out, "");
  EXPECT_NE(again.err.find("already bootstrapped"), std::string::npos) << again.err;
  EXPECT_EQ(store->ListKeys({}, {}).value().size(), 1u);

  CommandResult forced = Sluice({"admin", "bootstrap", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(store->ListKeys({}, {}).value().size(), 2u);
}

TEST_F(CliTest, AMarkerWrittenByTheGatewayAlsoStopsBootstrap) {
  // AuthRuntime::Bootstrap writes this setting when it creates the first admin key.
  OpenStore()->PutSetting("bootstrap.admin_key", "1700000000");
  EXPECT_EQ(Sluice({"admin", "bootstrap"}).exit_code, 1);
}

TEST_F(CliTest, UsageErrorsExitTwoAndUnknownIdsExitOne) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"keys"},
           {"keys", "create"},  // --name is required
           {"keys", "create", "--name", "x", "--bogus"},
           {"keys", "list", "--revoked", "maybe"},
           {"keys", "list", "--limit", "ten"},
           {"keys", "revoke"},
           {"users", "create", "--password-stdin", "--password-env", "X", "--username", "u"},
           {"keys", "list", "--store", "/tmp/x.db"},  // with --config: one or the other
       }) {
    CommandResult result = Sluice(args);
    EXPECT_EQ(result.exit_code, 2) << args[0] << " " << (args.size() > 1 ? args[1] : "") << "\n"
                                   << result.err;
    EXPECT_EQ(result.out, "");
  }
  CommandResult revoke = Sluice({"keys", "revoke", "key_x"});
  EXPECT_EQ(revoke.exit_code, 1);
  EXPECT_EQ(revoke.err, "sluice: key 'key_x' does not exist\n");
  EXPECT_EQ(revoke.out, "");
  EXPECT_EQ(Sluice({"keys", "rotate", "key_x"}).exit_code, 1);
  CommandResult limit = Sluice({"keys", "list", "--limit", "5000"});
  EXPECT_EQ(limit.exit_code, 1);
  EXPECT_EQ(limit.err, "sluice: 'limit' must be a number from 1 to 1000 (--limit)\n");
  CommandResult no_config =
      RunCommand({SLUICE_BINARY, "keys", "list", "--config", (dir_ / "missing.yaml").string()});
  EXPECT_EQ(no_config.exit_code, 1);
  EXPECT_NE(no_config.err.find("missing.yaml"), std::string::npos) << no_config.err;
}

TEST_F(CliTest, HelpDescribesEachCommandAndExitsZero) {
  CommandResult create = Sluice({"keys", "create", "--help"});
  EXPECT_EQ(create.exit_code, 0);
  for (const char* flag : {"--name", "--user", "--team", "--role", "--tier", "--model",
                           "--expires-in", "--metadata", "--config", "--store", "--json"}) {
    EXPECT_NE(create.out.find(flag), std::string::npos) << flag;
  }
  for (const char* flag : {"--rpm", "--tpm", "--concurrency", "--budget-usd", "--budget-usd-per",
                           "--budget-tokens", "--budget-tokens-per", "Per-key overrides"}) {
    EXPECT_NE(create.out.find(flag), std::string::npos) << flag;
  }
  CommandResult update = Sluice({"keys", "update", "--help"});
  EXPECT_EQ(update.exit_code, 0);
  for (const char* flag : {"--name", "--rpm", "--max-parallel", "--clear-limits",
                           "0 removes the override", "--config", "--json"}) {
    EXPECT_NE(update.out.find(flag), std::string::npos) << flag << "\n" << update.out;
  }
  CommandResult users = Sluice({"users", "create", "--help"});
  EXPECT_EQ(users.exit_code, 0);
  EXPECT_NE(users.out.find("--password-stdin"), std::string::npos);
  EXPECT_NE(users.out.find("--password-env"), std::string::npos);
  EXPECT_EQ(users.out.find("--password "), std::string::npos);
}

TEST_F(CliTest, EveryChangeIsAuditedAsCliWithoutSecrets) {
  auto [secret, id] = CreateKey({"--name", "audited"});
  CommandResult rotated = Sluice({"keys", "rotate", id});
  ASSERT_EQ(rotated.exit_code, 0);
  std::string new_secret = Lines(rotated.out)[0];
  ASSERT_EQ(Sluice({"keys", "revoke", id}).exit_code, 0);
  ASSERT_EQ(Sluice({"users", "create", "--username", "erin"}).exit_code, 0);
  ASSERT_EQ(Sluice({"users", "disable", "erin"}).exit_code, 0);
  ASSERT_EQ(Sluice({"users", "enable", "erin"}).exit_code, 0);
  ASSERT_EQ(Sluice({"teams", "create", "--name", "ops"}).exit_code, 0);
  ASSERT_EQ(Sluice({"keys", "revoke", "key_nope"}).exit_code, 1);  // failures change nothing

  auto store = OpenStore();
  std::string erin = store->FindUserByName("erin").value()->id;
  std::string team = store->ListTeams({}).value()[0].id;
  AuditFilter filter;
  filter.principal = "cli";
  auto rows = store->ListAudit(filter, {});
  ASSERT_TRUE(rows.ok());
  std::vector<std::pair<std::string, std::string>> seen;
  for (auto it = rows.value().rbegin(); it != rows.value().rend(); ++it) {  // oldest first
    EXPECT_EQ(it->result, "ok");
    EXPECT_EQ(it->details_json.find(secret), std::string::npos);
    EXPECT_EQ(it->details_json.find(new_secret), std::string::npos);
    seen.emplace_back(it->action, it->target);
  }
  std::vector<std::pair<std::string, std::string>> expected = {
      {"key.create", "key:" + id},      {"key.rotate", "key:" + id},
      {"key.revoke", "key:" + id},      {"user.create", "user:" + erin},
      {"user.disable", "user:" + erin}, {"user.enable", "user:" + erin},
      {"team.create", "team:" + team}};
  EXPECT_EQ(seen, expected);
}

TEST_F(CliTest, NoPrintedSecretAppearsAnywhereInTheStoreFiles) {
  std::vector<std::string> secrets;
  secrets.push_back(CreateKey({"--name", "a"}).first);
  auto [second, id] = CreateKey({"--name", "b"});
  secrets.push_back(second);
  CommandResult rotated = Sluice({"keys", "rotate", id});
  ASSERT_EQ(rotated.exit_code, 0);
  secrets.push_back(Lines(rotated.out)[0]);
  CommandResult admin = Sluice({"admin", "bootstrap"});
  ASSERT_EQ(admin.exit_code, 0);
  secrets.push_back(Lines(admin.out)[0]);

  std::string bytes = StoreBytes();
  ASSERT_FALSE(bytes.empty());
  for (const std::string& secret : secrets) {
    ASSERT_EQ(CheckApiKeyFormat(secret), ApiKeyFormat::kValid) << secret;
    EXPECT_EQ(bytes.find(secret), std::string::npos) << secret;
    // Not even the random part without its "sk-sl-" prefix.
    EXPECT_EQ(bytes.find(secret.substr(kApiKeyPrefix.size())), std::string::npos);
  }
  // What is stored is the hash (the rotated-away secret's hash was replaced).
  for (size_t i : {0, 2, 3}) {
    EXPECT_NE(bytes.find(Sha256Hex(secrets[i])), std::string::npos) << i;
  }
}

UsageRecord CliUsage(const std::string& id, int64_t time_ms, const std::string& model,
                     int64_t cost_micros, int status) {
  UsageRecord r;
  r.request_id = id;
  r.time_ms = time_ms;
  r.key_id = "key_1";
  r.model_requested = model;
  r.prompt_tokens = 10;
  r.completion_tokens = 5;
  r.cost_micros = cost_micros;
  r.status = status;
  return r;
}

TEST_F(CliTest, UsagePrintsSumsByDayAndGroupWithATotalRow) {
  constexpr int64_t kJan1 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  ASSERT_TRUE(OpenStore()
                  ->PutUsage({CliUsage("r1", kJan1 + 1, "gpt-4o", 1'500'000, 200),
                              CliUsage("r2", kJan1 + 2, "gpt-4o", 250, 500),
                              CliUsage("r3", kJan1 + 86'400'000, "llama", 7, 200),
                              CliUsage("r4", kJan1 + 2 * 86'400'000, "llama", 7, 200)})
                  .ok());
  CommandResult by_model =
      Sluice({"usage", "--group-by", "model", "--from", "2026-01-01", "--to", "2026-01-03"});
  ASSERT_EQ(by_model.exit_code, 0) << by_model.err;
  std::vector<std::string> lines = Lines(by_model.out);
  ASSERT_EQ(lines.size(), 4u) << by_model.out;  // header, two groups, total (r4 is outside)
  EXPECT_NE(lines[0].find("MODEL"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("2026-01-01  gpt-4o"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("1.500250"), std::string::npos) << lines[1];  // dollars
  EXPECT_NE(lines[2].find("2026-01-02  llama"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[3].rfind("TOTAL", 0), 0u) << lines[3];
  EXPECT_NE(lines[3].find("1.500257"), std::string::npos) << lines[3];

  CommandResult json_out = Sluice({"usage", "--json", "--model", "llama"});
  ASSERT_EQ(json_out.exit_code, 0) << json_out.err;
  json::object report = json::parse(json_out.out).as_object();
  EXPECT_EQ(report.at("object").as_string(), "usage_report");
  EXPECT_EQ(report.at("rows").as_array().size(), 2u);
  EXPECT_EQ(report.at("totals").at("requests").as_int64(), 2);
  EXPECT_EQ(report.at("totals").at("errors").as_int64(), 0);

  CommandResult bad = Sluice({"usage", "--from", "yesterday"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--from"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace sluice::testing
