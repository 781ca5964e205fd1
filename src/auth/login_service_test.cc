// Tests of LoginService (login_service.h) on a real SqliteStore in a temp file, with the
// store and hashing pools and the gateway issuer wired as AuthRuntime does: password
// login (right, wrong, unknown, disabled), the access JWT's claims and expiry, one-time
// refresh rotation, family revocation when a spent refresh token comes back, logout,
// expired refresh tokens, and self-registration.
#include "auth/login_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "auth/auth_test_util.h"

namespace sluice {
namespace {

using auth_test::AuthHarness;
using auth_test::Await;
using auth_test::JwtClaims;

constexpr char kPassword[] = "correct horse battery staple";

class LoginServiceTest : public testing::Test {
 protected:
  explicit LoginServiceTest(const AuthConfig& config = AuthConfig()) : h_("auth_login", config) {}

  UserRecord AddUser(const std::string& username, const std::string& password,
                     std::vector<std::string> roles = {"user"}, std::string tier = "",
                     bool disabled = false) {
    UserRecord user = auth_test::MakeUser(username, password, std::move(roles), std::move(tier));
    user.disabled = disabled;
    EXPECT_TRUE(h_.OnStore([&] { return h_.store.InsertUser(user); }).ok());
    return user;
  }

  LoginOutcome Login(const std::string& username, const std::string& password) {
    return Await(h_.login.Login(username, password));
  }
  LoginOutcome Refresh(const std::string& refresh_token) {
    return Await(h_.login.Refresh(refresh_token));
  }

  std::optional<RefreshTokenRecord> StoredRefresh(const std::string& token) {
    std::string hash = Sha256Hex(token);
    auto found = h_.OnStore([&] { return h_.store.FindRefreshToken(hash); });
    EXPECT_TRUE(found.ok());
    return found.ok() ? found.value() : std::nullopt;
  }

  // The access token verified as the gateway would (issuer, audience, HS256, signature).
  jwt::VerifyResult VerifyAccess(const std::string& token) {
    jwt::Policy policy;
    policy.issuer = "sluice";
    policy.audiences = {"sluice"};
    policy.algorithms = {jwt::Algorithm::kHS256};
    jwt::KeySet keys;
    keys.Add(*h_.issuers->gateway_signing_key());
    return jwt::Verify(token, policy, keys, NowSeconds());
  }

  AuthHarness h_;
};

TEST_F(LoginServiceTest, TheRightPasswordIssuesAnAccessAndARefreshToken) {
  UserRecord alice = AddUser("alice", kPassword, {"user", "readonly"}, "pro");
  int64_t before = NowSeconds();
  LoginOutcome outcome = Login("alice", kPassword);
  int64_t after = NowSeconds();
  ASSERT_EQ(outcome.status, LoginStatus::kOk);
  EXPECT_EQ(outcome.tokens.user_id, alice.id);
  EXPECT_EQ(outcome.tokens.expires_in, 15 * 60);  // the default access token lifetime

  ASSERT_EQ(VerifyAccess(outcome.tokens.access_token).error, jwt::VerifyError::kNone);
  boost::json::object claims = JwtClaims(outcome.tokens.access_token);
  EXPECT_EQ(claims["iss"], "sluice");
  EXPECT_EQ(claims["aud"], "sluice");
  EXPECT_EQ(claims["sub"], alice.id.c_str());
  EXPECT_EQ(claims["name"], "alice");
  EXPECT_EQ(claims["roles"], (boost::json::array{"user", "readonly"}));
  EXPECT_EQ(claims["tier"], "pro");
  ASSERT_TRUE(claims["iat"].is_int64());
  ASSERT_TRUE(claims["exp"].is_int64());
  EXPECT_GE(claims["iat"].as_int64(), before);
  EXPECT_LE(claims["iat"].as_int64(), after);
  EXPECT_EQ(claims["exp"].as_int64() - claims["iat"].as_int64(), 15 * 60);
  ASSERT_TRUE(claims["jti"].is_string());
  EXPECT_EQ(std::string(claims["jti"].as_string()).substr(0, 4), "jti_");
  EXPECT_FALSE(claims.contains("password"));
  EXPECT_EQ(outcome.tokens.access_token.find(kPassword), std::string::npos);

  // The refresh token is opaque, stored only as its hash, and lasts 30 days by default.
  const std::string& refresh = outcome.tokens.refresh_token;
  EXPECT_EQ(refresh.substr(0, 6), "rt-sl-");
  EXPECT_EQ(refresh.size(), 6u + 43u);
  std::optional<RefreshTokenRecord> stored = StoredRefresh(refresh);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->user_id, alice.id);
  EXPECT_EQ(stored->token_hash, Sha256Hex(refresh));
  EXPECT_EQ(stored->expires_at - stored->created_at, 30 * 24 * 3600);
  EXPECT_EQ(stored->used_at, 0);
  EXPECT_EQ(stored->revoked_at, 0);

  // A second login is a second, independent session.
  LoginOutcome again = Login("alice", kPassword);
  ASSERT_EQ(again.status, LoginStatus::kOk);
  EXPECT_NE(again.tokens.refresh_token, refresh);
  EXPECT_NE(JwtClaims(again.tokens.access_token)["jti"], claims["jti"]);
  EXPECT_NE(StoredRefresh(again.tokens.refresh_token)->family_id, stored->family_id);
}

TEST_F(LoginServiceTest, WrongPasswordsAndUnknownUsersLookTheSame) {
  AddUser("alice", kPassword);
  AddUser("carol", "");  // no password: API keys only
  struct Case {
    const char* username;
    const char* password;
  };
  const std::vector<Case> cases = {
      {"alice", "correct horse battery stapl"},
      {"alice", ""},
      {"alice", "CORRECT HORSE BATTERY STAPLE"},
      {"Alice", kPassword},  // usernames are case-sensitive
      {"nobody", kPassword},
      {"", ""},
      {"carol", ""},
      {"carol", kPassword},
  };
  for (const Case& c : cases) {
    LoginOutcome outcome = Login(c.username, c.password);
    EXPECT_EQ(outcome.status, LoginStatus::kInvalidCredentials)
        << c.username << " / " << c.password;
    EXPECT_TRUE(outcome.tokens.access_token.empty());
    EXPECT_TRUE(outcome.tokens.refresh_token.empty());
  }
}

TEST_F(LoginServiceTest, ADisabledUserCannotSignIn) {
  AddUser("bob", kPassword, {"user"}, "", /*disabled=*/true);
  LoginOutcome outcome = Login("bob", kPassword);
  EXPECT_EQ(outcome.status, LoginStatus::kDisabled);
  EXPECT_TRUE(outcome.tokens.access_token.empty());
  EXPECT_TRUE(outcome.tokens.refresh_token.empty());
  // Without the right password, a disabled account is not revealed as such.
  EXPECT_EQ(Login("bob", "wrong").status, LoginStatus::kInvalidCredentials);
}

TEST_F(LoginServiceTest, AStoreOutageIsUnavailableNotInvalid) {
  AddUser("alice", kPassword);
  h_.store.fail_reads = true;
  EXPECT_EQ(Login("alice", kPassword).status, LoginStatus::kUnavailable);
  h_.store.fail_reads = false;
  EXPECT_EQ(Login("alice", kPassword).status, LoginStatus::kOk);
}

TEST_F(LoginServiceTest, RefreshRotatesAndSpendsTheOldToken) {
  UserRecord alice = AddUser("alice", kPassword);
  LoginOutcome first = Login("alice", kPassword);
  ASSERT_EQ(first.status, LoginStatus::kOk);

  LoginOutcome second = Refresh(first.tokens.refresh_token);
  ASSERT_EQ(second.status, LoginStatus::kOk);
  EXPECT_EQ(second.tokens.user_id, alice.id);
  EXPECT_NE(second.tokens.refresh_token, first.tokens.refresh_token);
  EXPECT_NE(second.tokens.access_token, first.tokens.access_token);
  EXPECT_EQ(VerifyAccess(second.tokens.access_token).error, jwt::VerifyError::kNone);
  EXPECT_EQ(JwtClaims(second.tokens.access_token)["sub"], alice.id.c_str());

  std::optional<RefreshTokenRecord> old_record = StoredRefresh(first.tokens.refresh_token);
  std::optional<RefreshTokenRecord> new_record = StoredRefresh(second.tokens.refresh_token);
  ASSERT_TRUE(old_record && new_record);
  EXPECT_NE(old_record->used_at, 0);  // spent
  EXPECT_EQ(new_record->used_at, 0);
  EXPECT_EQ(new_record->family_id, old_record->family_id);

  // The chain goes on with the newest token.
  LoginOutcome third = Refresh(second.tokens.refresh_token);
  ASSERT_EQ(third.status, LoginStatus::kOk);
  EXPECT_NE(third.tokens.refresh_token, second.tokens.refresh_token);
}

TEST_F(LoginServiceTest, ReusingASpentTokenRevokesTheWholeFamily) {
  UserRecord alice = AddUser("alice", kPassword);
  LoginOutcome stolen_session = Login("alice", kPassword);
  LoginOutcome other_session = Login("alice", kPassword);
  ASSERT_EQ(stolen_session.status, LoginStatus::kOk);
  ASSERT_EQ(other_session.status, LoginStatus::kOk);
  const std::string spent = stolen_session.tokens.refresh_token;
  LoginOutcome rotated = Refresh(spent);
  ASSERT_EQ(rotated.status, LoginStatus::kOk);

  // The spent token comes back (a copy was stolen): the family dies...
  LoginOutcome reuse = Refresh(spent);
  EXPECT_EQ(reuse.status, LoginStatus::kRefreshTokenReused);
  EXPECT_TRUE(reuse.tokens.access_token.empty());
  EXPECT_TRUE(reuse.tokens.refresh_token.empty());
  // ...including the newer token the legitimate holder got.
  EXPECT_EQ(Refresh(rotated.tokens.refresh_token).status, LoginStatus::kInvalidRefreshToken);
  EXPECT_NE(StoredRefresh(rotated.tokens.refresh_token)->revoked_at, 0);
  // Another login of the same user is another family and keeps working.
  EXPECT_EQ(Refresh(other_session.tokens.refresh_token).status, LoginStatus::kOk);

  // The event is audited, without the token or its hash.
  std::vector<AuditRecord> rows = h_.AuditRows();
  auto reused = std::find_if(rows.begin(), rows.end(), [](const AuditRecord& row) {
    return row.action == "auth.refresh_reused";
  });
  ASSERT_NE(reused, rows.end());
  EXPECT_EQ(reused->principal, "user:" + alice.id);
  EXPECT_EQ(reused->target, "family:" + StoredRefresh(spent)->family_id);
  EXPECT_EQ(reused->result, "revoked");
  for (const AuditRecord& row : rows) {
    for (const std::string* field :
         {&row.principal, &row.key_prefix, &row.target, &row.result, &row.details_json}) {
      for (const std::string& secret : {spent, Sha256Hex(spent), rotated.tokens.refresh_token}) {
        EXPECT_EQ(field->find(secret), std::string::npos) << row.action;
      }
    }
  }
}

TEST_F(LoginServiceTest, LogoutRevokesTheRefreshFamilyAndTheAccessToken) {
  AddUser("alice", kPassword);
  LoginOutcome session = Login("alice", kPassword);
  ASSERT_EQ(session.status, LoginStatus::kOk);
  std::string access = session.tokens.access_token;
  std::string jti(JwtClaims(access)["jti"].as_string());
  int64_t exp = JwtClaims(access)["exp"].as_int64();
  ASSERT_EQ(Await(h_.authenticator.Authenticate(access)).error, ErrorClass::kNone);

  EXPECT_EQ(Await(h_.login.Logout(session.tokens.refresh_token, jti, exp)), LoginStatus::kOk);
  EXPECT_NE(Refresh(session.tokens.refresh_token).status, LoginStatus::kOk);
  EXPECT_NE(StoredRefresh(session.tokens.refresh_token)->revoked_at, 0);
  EXPECT_TRUE(h_.issuers->IsRevoked(jti));
  auto revoked = h_.OnStore([&] { return h_.store.ListRevokedTokenIds(NowSeconds()); });
  ASSERT_TRUE(revoked.ok());
  EXPECT_NE(std::find(revoked->begin(), revoked->end(), jti), revoked->end());
  EXPECT_EQ(Await(h_.authenticator.Authenticate(access)).error, ErrorClass::kAuthRevoked);

  const std::string unknown = "rt-sl-" + RandomToken(32);
  const std::string none;
  EXPECT_EQ(Await(h_.login.Logout(unknown, none, 0)), LoginStatus::kInvalidRefreshToken);
  EXPECT_EQ(Await(h_.login.Logout(none, none, 0)), LoginStatus::kOk);
}

TEST_F(LoginServiceTest, ExpiredAndUnknownRefreshTokensAreInvalid) {
  UserRecord alice = AddUser("alice", kPassword);
  const std::string expired = "rt-sl-" + RandomToken(32);
  RefreshTokenRecord record;
  record.id = NewId("rt");
  record.family_id = NewId("fam");
  record.user_id = alice.id;
  record.token_hash = Sha256Hex(expired);
  record.created_at = NowSeconds() - 100;
  record.expires_at = NowSeconds() - 1;
  ASSERT_TRUE(h_.OnStore([&] { return h_.store.InsertRefreshToken(record); }).ok());
  LoginOutcome outcome = Refresh(expired);
  EXPECT_EQ(outcome.status, LoginStatus::kInvalidRefreshToken);
  EXPECT_TRUE(outcome.tokens.refresh_token.empty());

  LoginOutcome session = Login("alice", kPassword);
  ASSERT_EQ(session.status, LoginStatus::kOk);
  for (const std::string& token :
       {std::string(), std::string("garbage"), "rt-sl-" + RandomToken(32),
        session.tokens.access_token, session.tokens.refresh_token.substr(6),
        session.tokens.refresh_token + "x"}) {
    EXPECT_EQ(Refresh(token).status, LoginStatus::kInvalidRefreshToken) << token;
  }
  // None of those attempts spent the real token.
  EXPECT_EQ(Refresh(session.tokens.refresh_token).status, LoginStatus::kOk);
}

TEST_F(LoginServiceTest, RefreshStopsWhenTheUserIsDisabled) {
  UserRecord alice = AddUser("alice", kPassword);
  LoginOutcome session = Login("alice", kPassword);
  ASSERT_EQ(session.status, LoginStatus::kOk);
  alice.disabled = true;
  ASSERT_TRUE(h_.OnStore([&] { return h_.store.UpdateUser(alice); }).ok());
  EXPECT_EQ(Refresh(session.tokens.refresh_token).status, LoginStatus::kDisabled);
  EXPECT_NE(StoredRefresh(session.tokens.refresh_token)->revoked_at, 0);
}

TEST_F(LoginServiceTest, PasswordHashesAreSaltedArgon2id) {
  std::string first = LoginService::HashPassword(kPassword);
  std::string second = LoginService::HashPassword(kPassword);
  EXPECT_EQ(first.substr(0, 10), "$argon2id$");
  EXPECT_NE(first, second);
  EXPECT_EQ(first.find(kPassword), std::string::npos);
  EXPECT_TRUE(LoginService::VerifyPassword(first, kPassword));
  EXPECT_TRUE(LoginService::VerifyPassword(second, kPassword));
  EXPECT_FALSE(LoginService::VerifyPassword(first, "correct horse battery staplE"));
  EXPECT_FALSE(LoginService::VerifyPassword("", kPassword));
  EXPECT_FALSE(LoginService::VerifyPassword("not-a-hash", kPassword));
}

AuthConfig ShortAccessTokens() {
  AuthConfig config;
  config.access_token_ttl = std::chrono::seconds(60);
  config.refresh_token_ttl = std::chrono::hours(1);
  return config;
}

class LoginServiceShortTtl : public LoginServiceTest {
 protected:
  LoginServiceShortTtl() : LoginServiceTest(ShortAccessTokens()) {}
};

TEST_F(LoginServiceShortTtl, LifetimesComeFromTheConfig) {
  AddUser("alice", kPassword);
  LoginOutcome outcome = Login("alice", kPassword);
  ASSERT_EQ(outcome.status, LoginStatus::kOk);
  EXPECT_EQ(outcome.tokens.expires_in, 60);
  boost::json::object claims = JwtClaims(outcome.tokens.access_token);
  EXPECT_EQ(claims["exp"].as_int64() - claims["iat"].as_int64(), 60);
  std::optional<RefreshTokenRecord> stored = StoredRefresh(outcome.tokens.refresh_token);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->expires_at - stored->created_at, 3600);
}

TEST(LoginServiceConfig, SelfRegistrationIsOffByDefault) {
  EXPECT_FALSE(AuthConfig().self_registration);
  EXPECT_TRUE(AuthConfig().login_enabled);
  EXPECT_EQ(AuthConfig().access_token_ttl, std::chrono::minutes(15));
}

AuthConfig OpenRegistration() {
  AuthConfig config;
  config.self_registration = true;
  config.default_tier = "free";
  config.tiers.push_back({1, "free", {"gpt-4o-mini"}});
  return config;
}

class LoginServiceRegistration : public LoginServiceTest {
 protected:
  LoginServiceRegistration() : LoginServiceTest(OpenRegistration()) {}
};

TEST_F(LoginServiceRegistration, RegisteringCreatesAUserWhoCanSignIn) {
  const std::string username = "dave";
  const std::string password = "a long enough password";
  const std::string email = "dave@example.com";
  LoginOutcome outcome = Await(h_.login.Register(username, password, email));
  ASSERT_EQ(outcome.status, LoginStatus::kOk);
  EXPECT_FALSE(outcome.tokens.access_token.empty());
  EXPECT_FALSE(outcome.tokens.refresh_token.empty());

  auto stored = h_.OnStore([&] { return h_.store.FindUserByName(username); });
  ASSERT_TRUE(stored.ok() && stored->has_value());
  const UserRecord& user = **stored;
  EXPECT_EQ(user.id, outcome.tokens.user_id);
  EXPECT_EQ(user.email, email);
  EXPECT_EQ(user.roles, std::vector<std::string>{"user"});  // never more than "user"
  EXPECT_EQ(user.tier, "free");
  EXPECT_FALSE(user.disabled);
  EXPECT_NE(user.password_hash, password);
  EXPECT_TRUE(LoginService::VerifyPassword(user.password_hash, password));
  EXPECT_EQ(JwtClaims(outcome.tokens.access_token)["roles"], (boost::json::array{"user"}));

  EXPECT_EQ(Login(username, password).status, LoginStatus::kOk);
  EXPECT_EQ(Refresh(outcome.tokens.refresh_token).status, LoginStatus::kOk);

  const std::string other_password = "someone else's password";
  LoginOutcome taken = Await(h_.login.Register(username, other_password, email));
  EXPECT_EQ(taken.status, LoginStatus::kUsernameTaken);
  EXPECT_TRUE(taken.tokens.access_token.empty());
  EXPECT_EQ(Login(username, other_password).status, LoginStatus::kInvalidCredentials);
}

}  // namespace
}  // namespace sluice
