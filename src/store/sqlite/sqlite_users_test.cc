// Tests of the users, teams and team_members parts of SqliteStore: round trips, conflicts
// (without password hashes in messages), updates of absent rows, membership rules and
// paginated listing with team and disabled filters.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/store_test_util.h"

namespace sluice::sqlite {
namespace {

class SqliteStoreUsers : public testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(store_, nullptr); }

  UserRecord MustGet(const std::string& id) {
    StoreResult<std::optional<UserRecord>> user = store_->GetUser(id);
    EXPECT_TRUE(user.ok() && user->has_value()) << id;
    return user.ok() && user->has_value() ? **user : UserRecord{};
  }

  std::vector<std::string> AllUserIds(const UserFilter& filter, int limit) {
    std::vector<std::string> ids;
    Page page{limit, ""};
    for (int guard = 0; guard < 100; ++guard) {
      StoreResult<std::vector<UserRecord>> users = store_->ListUsers(filter, page);
      EXPECT_TRUE(users.ok());
      if (!users.ok() || users->empty()) break;
      for (const UserRecord& user : *users) ids.push_back(user.id);
      page.after = users->back().id;
    }
    return ids;
  }

  std::unique_ptr<SqliteStore> store_ = OpenOrDie(":memory:");
};

TEST_F(SqliteStoreUsers, UserRoundTripsAndIsFoundByExactName) {
  UserRecord user = MakeUser("usr_1", "Alice");
  user.disabled = true;
  user.roles = {"admin", "viewer"};
  ASSERT_TRUE(store_->InsertUser(user).ok());
  UserRecord got = MustGet("usr_1");
  EXPECT_EQ(got.id, user.id);
  EXPECT_EQ(got.username, user.username);
  EXPECT_EQ(got.email, user.email);
  EXPECT_EQ(got.password_hash, user.password_hash);
  EXPECT_TRUE(got.disabled);
  EXPECT_EQ(got.roles, user.roles);
  EXPECT_EQ(got.tier, user.tier);
  EXPECT_EQ(got.created_at, user.created_at);
  EXPECT_EQ(got.updated_at, user.updated_at);

  StoreResult<std::optional<UserRecord>> by_name = store_->FindUserByName("Alice");
  ASSERT_TRUE(by_name.ok() && by_name->has_value());
  EXPECT_EQ((*by_name)->id, "usr_1");
  by_name = store_->FindUserByName("alice");  // case-sensitive
  ASSERT_TRUE(by_name.ok());
  EXPECT_FALSE(by_name->has_value());
  StoreResult<std::optional<UserRecord>> missing = store_->GetUser("usr_2");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(SqliteStoreUsers, DuplicateUsernameOrIdIsAConflictWithoutThePasswordHash) {
  ASSERT_TRUE(store_->InsertUser(MakeUser("usr_1", "alice")).ok());
  UserRecord same_name = MakeUser("usr_2", "alice");
  StoreResult<void> result = store_->InsertUser(same_name);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kConflict);
  EXPECT_EQ(result.error().message.find(same_name.password_hash), std::string::npos);
  EXPECT_EQ(result.error().message.find("secret"), std::string::npos);
  result = store_->InsertUser(MakeUser("usr_1", "bob"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kConflict);

  for (const UserRecord& bad : {MakeUser("", "carol"), MakeUser("usr_3", "")}) {
    result = store_->InsertUser(bad);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, StoreErrorCode::kInvalid);
  }
}

TEST_F(SqliteStoreUsers, UpdateReplacesProfileButNotNameOrCreation) {
  ASSERT_TRUE(store_->InsertUser(MakeUser("usr_1", "alice")).ok());
  UserRecord changed = MakeUser("usr_1", "renamed");
  changed.email = "";
  changed.password_hash = "";
  changed.disabled = true;
  changed.roles = {"admin"};
  changed.tier = "gold";
  changed.created_at = 1;
  changed.updated_at = 200;
  ASSERT_TRUE(store_->UpdateUser(changed).ok());
  UserRecord got = MustGet("usr_1");
  EXPECT_EQ(got.username, "alice");
  EXPECT_EQ(got.email, "");
  EXPECT_EQ(got.password_hash, "");
  EXPECT_TRUE(got.disabled);
  EXPECT_EQ(got.roles, std::vector<std::string>{"admin"});
  EXPECT_EQ(got.tier, "gold");
  EXPECT_EQ(got.created_at, 100);
  EXPECT_EQ(got.updated_at, 200);

  StoreResult<void> absent = store_->UpdateUser(MakeUser("usr_9", "x"));
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().code, StoreErrorCode::kNotFound);
  EXPECT_EQ(absent.error().message.find("secret"), std::string::npos);
}

TEST_F(SqliteStoreUsers, TeamsRoundTripConflictAndUpdate) {
  ASSERT_TRUE(store_->InsertTeam({"team_1", "platform", "gold", 10}).ok());
  StoreResult<std::optional<TeamRecord>> team = store_->GetTeam("team_1");
  ASSERT_TRUE(team.ok() && team->has_value());
  EXPECT_EQ((*team)->name, "platform");
  EXPECT_EQ((*team)->tier, "gold");
  EXPECT_EQ((*team)->created_at, 10);

  StoreResult<void> result = store_->InsertTeam({"team_2", "platform", "", 11});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kConflict);
  result = store_->InsertTeam({"team_1", "other", "", 11});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kConflict);
  result = store_->InsertTeam({"team_3", "", "", 11});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kInvalid);

  ASSERT_TRUE(store_->InsertTeam({"team_2", "research", "", 11}).ok());
  ASSERT_TRUE(store_->UpdateTeam({"team_1", "platform-eng", "silver", 999}).ok());
  team = store_->GetTeam("team_1");
  ASSERT_TRUE(team.ok() && team->has_value());
  EXPECT_EQ((*team)->name, "platform-eng");
  EXPECT_EQ((*team)->tier, "silver");
  EXPECT_EQ((*team)->created_at, 10);
  result = store_->UpdateTeam({"team_2", "platform-eng", "", 0});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kConflict);
  result = store_->UpdateTeam({"team_9", "new", "", 0});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kNotFound);
  team = store_->GetTeam("team_9");
  ASSERT_TRUE(team.ok());
  EXPECT_FALSE(team->has_value());
}

TEST_F(SqliteStoreUsers, TeamsArePaginatedById) {
  for (int i = 9; i >= 0; --i) {
    std::string id = "team_" + std::to_string(i);
    ASSERT_TRUE(store_->InsertTeam({id, "name " + id, "", 0}).ok());
  }
  std::vector<std::string> ids;
  Page page{3, ""};
  int pages = 0;
  for (; pages < 20; ++pages) {
    StoreResult<std::vector<TeamRecord>> teams = store_->ListTeams(page);
    ASSERT_TRUE(teams.ok());
    if (teams->empty()) break;
    for (const TeamRecord& team : *teams) ids.push_back(team.id);
    page.after = teams->back().id;
  }
  EXPECT_EQ(pages, 4);
  ASSERT_EQ(ids.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(ids[i], "team_" + std::to_string(i));
  StoreResult<std::vector<TeamRecord>> bad = store_->ListTeams(Page{0, ""});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, StoreErrorCode::kInvalid);
}

TEST_F(SqliteStoreUsers, MembershipNeedsBothRowsAndIsUnique) {
  ASSERT_TRUE(store_->InsertUser(MakeUser("usr_1", "alice")).ok());
  ASSERT_TRUE(store_->InsertTeam({"team_b", "b", "", 0}).ok());
  ASSERT_TRUE(store_->InsertTeam({"team_a", "a", "", 0}).ok());
  ASSERT_TRUE(store_->AddTeamMember("team_b", "usr_1").ok());
  ASSERT_TRUE(store_->AddTeamMember("team_a", "usr_1").ok());
  StoreResult<std::vector<std::string>> teams = store_->ListUserTeams("usr_1");
  ASSERT_TRUE(teams.ok());
  EXPECT_EQ(*teams, (std::vector<std::string>{"team_a", "team_b"}));

  StoreResult<void> result = store_->AddTeamMember("team_a", "usr_1");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kConflict);
  result = store_->AddTeamMember("team_zz", "usr_1");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kNotFound);
  result = store_->AddTeamMember("team_a", "usr_zz");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kNotFound);

  ASSERT_TRUE(store_->RemoveTeamMember("team_b", "usr_1").ok());
  result = store_->RemoveTeamMember("team_b", "usr_1");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, StoreErrorCode::kNotFound);
  teams = store_->ListUserTeams("usr_1");
  ASSERT_TRUE(teams.ok());
  EXPECT_EQ(*teams, std::vector<std::string>{"team_a"});
  teams = store_->ListUserTeams("usr_nobody");
  ASSERT_TRUE(teams.ok());
  EXPECT_TRUE(teams->empty());
}

TEST_F(SqliteStoreUsers, UsersArePaginatedWithTeamAndDisabledFilters) {
  ASSERT_TRUE(store_->InsertTeam({"team_x", "x", "", 0}).ok());
  ASSERT_TRUE(store_->InsertTeam({"team_y", "y", "", 0}).ok());
  std::vector<std::string> all, in_x, in_x_enabled, disabled;
  for (int i = 0; i < 12; ++i) {
    std::string id = "usr_" + std::string(1, static_cast<char>('a' + i));
    UserRecord user = MakeUser(id, "name_" + id);
    user.disabled = i % 4 == 0;
    ASSERT_TRUE(store_->InsertUser(user).ok());
    all.push_back(id);
    if (user.disabled) disabled.push_back(id);
    if (i % 3 == 0) {
      ASSERT_TRUE(store_->AddTeamMember("team_x", id).ok());
      in_x.push_back(id);
      if (!user.disabled) in_x_enabled.push_back(id);
    } else {
      ASSERT_TRUE(store_->AddTeamMember("team_y", id).ok());
    }
  }
  EXPECT_EQ(AllUserIds({}, 5), all);
  UserFilter filter;
  filter.team_id = "team_x";
  EXPECT_EQ(AllUserIds(filter, 1), in_x);
  filter.disabled = false;
  EXPECT_EQ(AllUserIds(filter, 2), in_x_enabled);
  filter = {};
  filter.disabled = true;
  EXPECT_EQ(AllUserIds(filter, 2), disabled);
  filter = {};
  filter.team_id = "team_none";
  EXPECT_TRUE(AllUserIds(filter, 10).empty());
  StoreResult<std::vector<UserRecord>> bad = store_->ListUsers({}, Page{1001, ""});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, StoreErrorCode::kInvalid);
}

}  // namespace
}  // namespace sluice::sqlite
