// Tests of Authenticator (authenticator.h) on a real SqliteStore in a temp file, wrapped to
// count reads: every API key state (valid, unknown, malformed, bad checksum, expired,
// revoked, owner disabled or gone) and how a principal is built from a key and its owner;
// checksum failures never reach the store, known keys are served from the cache until
// invalidated or stale, store outages are not cached, successful uses are counted, a key's
// limit overrides reach its principal (and a change reaches it after invalidation); JWTs of
// the gateway (accepted, expired, forged, revoked jti) and of a configured issuer.
#include "auth/authenticator.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "auth/auth_test_util.h"

namespace sluice {
namespace {

using auth_test::AuthHarness;
using auth_test::Await;
using auth_test::TestKey;

constexpr char kIdpIssuer[] = "https://idp.example.com";
constexpr char kIdpSecret[] = "identity-provider-shared-secret-0123456789";

AuthConfig LongCacheConfig() {
  AuthConfig config;
  config.key_cache_ttl = std::chrono::hours(1);  // nothing goes stale during a test
  JwtIssuerConfig idp;
  idp.issuer = kIdpIssuer;
  idp.audiences = {"sluice-api"};
  idp.algorithms = {"HS256"};
  JwtKeySpec key;
  key.kid = "idp-1";
  key.secret = kIdpSecret;
  idp.keys.push_back(key);
  config.issuers.push_back(idp);
  return config;
}

class AuthenticatorTest : public testing::Test {
 protected:
  explicit AuthenticatorTest(const AuthConfig& config = LongCacheConfig(),
                             Duration negative_ttl = std::chrono::hours(1))
      : h_("auth_authenticator", config, negative_ttl) {}

  // Stores a fresh key, after `edit` has set its owner, roles, expiry...
  TestKey AddKey(const std::function<void(ApiKeyRecord&)>& edit = nullptr) {
    TestKey key = auth_test::MakeTestKey();
    if (edit) edit(key.record);
    EXPECT_TRUE(h_.OnStore([&] { return h_.store.InsertKey(key.record); }).ok());
    return key;
  }

  UserRecord AddUser(const std::string& username, std::vector<std::string> roles,
                     std::string tier = "", bool disabled = false) {
    UserRecord user = auth_test::MakeUser(username, "", std::move(roles), std::move(tier));
    user.disabled = disabled;
    EXPECT_TRUE(h_.OnStore([&] { return h_.store.InsertUser(user); }).ok());
    return user;
  }

  AuthResult Auth(const std::string& credentials) {
    return Await(h_.authenticator.Authenticate(credentials));
  }

  // A token for the gateway issuer (or, with `key`, signed by another key).
  std::string GatewayToken(boost::json::object claims, const jwt::Key* key = nullptr) {
    int64_t now = NowSeconds();
    if (!claims.contains("iss")) claims["iss"] = "sluice";
    if (!claims.contains("aud")) claims["aud"] = "sluice";
    if (!claims.contains("iat")) claims["iat"] = now;
    if (!claims.contains("exp")) claims["exp"] = now + 600;
    return jwt::Sign(claims, key != nullptr ? *key : *h_.issuers->gateway_signing_key());
  }

  AuthHarness h_;
};

TEST_F(AuthenticatorTest, AValidKeyYieldsItsPrincipal) {
  UserRecord owner = AddUser("owner", {"user"}, "silver");
  int64_t expires = NowSeconds() + 3600;
  TestKey key = AddKey([&](ApiKeyRecord& r) {
    r.user_id = owner.id;
    r.roles = {"operator"};
    r.tier = "gold";
    r.allowed_models = {"gpt-4o*", "llama-3"};
    r.expires_at = expires;
  });
  AuthResult result = Auth(key.secret);
  ASSERT_EQ(result.error, ErrorClass::kNone) << result.message;
  ASSERT_NE(result.principal, nullptr);
  const Principal& p = *result.principal;
  EXPECT_EQ(p.kind, Principal::Kind::kApiKey);
  EXPECT_EQ(p.id, "key:" + key.record.id);
  EXPECT_EQ(p.key_id, key.record.id);
  EXPECT_EQ(p.key_prefix, key.record.prefix);
  EXPECT_EQ(p.user_id, owner.id);
  EXPECT_EQ(p.roles, std::vector<std::string>{"operator"});  // the key's own roles win
  EXPECT_EQ(p.permissions, h_.policy.PermissionsOf({"operator"}));
  EXPECT_TRUE(p.Can(kPermKeysManage));
  EXPECT_FALSE(p.Can(kPermUsersManage));
  EXPECT_EQ(p.tier, "gold");
  EXPECT_EQ(p.allowed_models, (std::vector<std::string>{"gpt-4o*", "llama-3"}));
  EXPECT_EQ(p.expires_at, expires);
  EXPECT_FALSE(result.was_token);
  // The principal never holds the secret.
  for (const std::string* field : {&p.id, &p.key_id, &p.key_prefix, &p.user_id}) {
    EXPECT_EQ(field->find(key.secret.substr(6)), std::string::npos);
  }
}

TEST_F(AuthenticatorTest, AKeysLimitOverridesAreOnItsPrincipalAndAbsentOtherwise) {
  KeyLimits limits;
  limits.requests_per_minute = 600;
  limits.tokens_per_minute = 200000;
  limits.concurrency = 8;
  limits.budget_usd_micros = 25'000'000;
  limits.budget_usd_period = KeyLimitPeriod::kMonth;
  limits.budget_tokens = 1'000'000;
  limits.budget_tokens_period = KeyLimitPeriod::kDay;
  TestKey limited = AddKey([&](ApiKeyRecord& r) { r.limits = limits; });
  TestKey plain = AddKey();

  AuthResult result = Auth(limited.secret);
  ASSERT_EQ(result.error, ErrorClass::kNone) << result.message;
  ASSERT_NE(result.principal->key_limits, nullptr);
  EXPECT_EQ(*result.principal->key_limits, limits);
  // The cached answer (the synchronous hot path) carries the same object: built once per
  // cache fill, not per request.
  std::optional<AuthResult> cached =
      h_.authenticator.TryCached(limited.secret, std::chrono::steady_clock::now(), NowSeconds());
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ(cached->principal->key_limits, result.principal->key_limits);

  AuthResult none = Auth(plain.secret);
  ASSERT_EQ(none.error, ErrorClass::kNone);
  EXPECT_EQ(none.principal->key_limits, nullptr);
}

TEST_F(AuthenticatorTest, ChangedLimitsReachThePrincipalOnceTheEntryIsInvalidated) {
  TestKey key = AddKey();
  ASSERT_EQ(Auth(key.secret).principal->key_limits, nullptr);
  ApiKeyRecord changed = key.record;
  changed.limits.concurrency = 2;
  ASSERT_TRUE(h_.OnStore([&] { return h_.store.UpdateKey(changed); }).ok());
  h_.keys.Invalidate(key.record.hash);  // what the admin API does after an update
  AuthResult after = Auth(key.secret);
  ASSERT_EQ(after.error, ErrorClass::kNone);
  ASSERT_NE(after.principal->key_limits, nullptr);
  EXPECT_EQ(after.principal->key_limits->concurrency, 2);
  EXPECT_EQ(after.principal->key_limits->requests_per_minute, 0);

  changed.limits = KeyLimits{};  // cleared
  ASSERT_TRUE(h_.OnStore([&] { return h_.store.UpdateKey(changed); }).ok());
  h_.keys.Invalidate(key.record.hash);
  EXPECT_EQ(Auth(key.secret).principal->key_limits, nullptr);
}

TEST_F(AuthenticatorTest, RolesAndTierFallBackToTheOwner) {
  UserRecord reader = AddUser("reader", {"readonly"}, "silver");
  UserRecord plain = AddUser("plain", {}, "");
  TeamRecord team;
  team.id = NewId("team");
  team.name = "research";
  team.tier = "team-tier";
  ASSERT_TRUE(h_.OnStore([&] { return h_.store.InsertTeam(team); }).ok());

  struct Case {
    const char* what;
    std::string user_id;
    std::string team_id;
    std::vector<std::string> roles;
    std::string tier;
  };
  const std::vector<Case> cases = {
      {"user's roles and tier", reader.id, "", {"readonly"}, "silver"},
      {"team's tier, default role", "", team.id, {"user"}, "team-tier"},
      {"user's tier before team's", reader.id, team.id, {"readonly"}, "silver"},
      {"user without roles or tier, team tier", plain.id, team.id, {"user"}, "team-tier"},
      {"no owner", "", "", {"user"}, ""},
  };
  for (const Case& c : cases) {
    TestKey key = AddKey([&](ApiKeyRecord& r) {
      r.user_id = c.user_id;
      r.team_id = c.team_id;
    });
    AuthResult result = Auth(key.secret);
    ASSERT_EQ(result.error, ErrorClass::kNone) << c.what << ": " << result.message;
    EXPECT_EQ(result.principal->roles, c.roles) << c.what;
    EXPECT_EQ(result.principal->permissions, h_.policy.PermissionsOf(c.roles)) << c.what;
    EXPECT_EQ(result.principal->tier, c.tier) << c.what;
    EXPECT_EQ(result.principal->team_id, c.team_id) << c.what;
  }
}

TEST_F(AuthenticatorTest, EveryKeyState) {
  UserRecord enabled = AddUser("enabled", {"user"});
  UserRecord disabled = AddUser("disabled", {"user"}, "", /*disabled=*/true);
  int64_t now = NowSeconds();
  TestKey valid = AddKey([&](ApiKeyRecord& r) { r.user_id = enabled.id; });
  TestKey not_yet_expired = AddKey([&](ApiKeyRecord& r) { r.expires_at = now + 3600; });
  TestKey expired = AddKey([&](ApiKeyRecord& r) { r.expires_at = now - 1; });
  TestKey revoked = AddKey();
  ASSERT_TRUE(h_.OnStore([&] { return h_.store.RevokeKey(revoked.record.id, now); }).ok());
  TestKey disabled_owner = AddKey([&](ApiKeyRecord& r) { r.user_id = disabled.id; });
  TestKey deleted_owner = AddKey([&](ApiKeyRecord& r) { r.user_id = NewId("usr"); });
  TestKey revoked_and_expired = AddKey([&](ApiKeyRecord& r) { r.expires_at = now - 1; });
  ASSERT_TRUE(
      h_.OnStore([&] { return h_.store.RevokeKey(revoked_and_expired.record.id, now); }).ok());
  const std::string unknown = GenerateApiKey().secret;  // well-formed, never stored
  std::string typo = valid.secret;
  typo[20] = typo[20] == 'a' ? 'b' : 'a';

  struct Case {
    const char* what;
    std::string credentials;
    ErrorClass expected;
  };
  const std::vector<Case> cases = {
      {"valid", valid.secret, ErrorClass::kNone},
      {"expires later", not_yet_expired.secret, ErrorClass::kNone},
      {"missing", "", ErrorClass::kAuthMissing},
      {"unknown", unknown, ErrorClass::kAuthInvalid},
      {"bad checksum", typo, ErrorClass::kAuthInvalid},
      {"truncated", valid.secret.substr(0, 54), ErrorClass::kAuthInvalid},
      {"malformed key", "sk-sl-not-a-real-key", ErrorClass::kAuthInvalid},
      {"not a key at all", "hello", ErrorClass::kAuthInvalid},
      {"another vendor's key", "sk-proj-" + valid.secret.substr(6), ErrorClass::kAuthInvalid},
      {"expired", expired.secret, ErrorClass::kAuthExpired},
      {"revoked", revoked.secret, ErrorClass::kAuthRevoked},
      {"revoked wins over expired", revoked_and_expired.secret, ErrorClass::kAuthRevoked},
      {"owner disabled", disabled_owner.secret, ErrorClass::kAccountDisabled},
      {"owner deleted", deleted_owner.secret, ErrorClass::kAccountDisabled},
  };
  // Twice: the second round is answered from the cache and must agree.
  for (int round = 0; round < 2; ++round) {
    for (const Case& c : cases) {
      AuthResult result = Auth(c.credentials);
      EXPECT_EQ(result.error, c.expected) << c.what << " (round " << round << ")";
      EXPECT_EQ(result.principal != nullptr, c.expected == ErrorClass::kNone) << c.what;
      EXPECT_FALSE(result.was_token) << c.what;
      if (c.expected != ErrorClass::kNone) {
        EXPECT_FALSE(result.message.empty()) << c.what;
      }
      if (c.credentials.size() > 8) {
        EXPECT_EQ(result.message.find(c.credentials), std::string::npos) << c.what;
        EXPECT_EQ(result.message.find(c.credentials.substr(6)), std::string::npos) << c.what;
      }
    }
  }
}

TEST_F(AuthenticatorTest, ChecksumFailuresNeverReachTheStore) {
  TestKey key = AddKey();
  std::vector<std::string> rejected = {
      "sk-sl-", "sk-sl-tooshort", key.secret + "0", key.secret.substr(0, 54), "not-a-key", "a.b"};
  for (size_t pos = 6; pos < key.secret.size(); pos += 7) {
    std::string typo = key.secret;
    typo[pos] = typo[pos] == 'Z' ? 'Y' : 'Z';
    rejected.push_back(typo);
    std::string swapped = key.secret;
    std::swap(swapped[pos], swapped[pos - 1]);
    if (swapped != key.secret && pos > 6) rejected.push_back(swapped);
  }
  for (const std::string& text : rejected) {
    EXPECT_EQ(Auth(text).error, ErrorClass::kAuthInvalid) << text;
  }
  EXPECT_EQ(h_.store.key_reads.load(), 0);
  EXPECT_EQ(h_.keys.size(), 0u);  // nothing cached for them either

  // A well-formed unknown key costs one read, then is remembered as absent.
  const std::string unknown = GenerateApiKey().secret;
  EXPECT_EQ(Auth(unknown).error, ErrorClass::kAuthInvalid);
  EXPECT_EQ(Auth(unknown).error, ErrorClass::kAuthInvalid);
  EXPECT_EQ(h_.store.key_reads.load(), 1);
}

TEST_F(AuthenticatorTest, CachedKeysAreNotReadAgainUntilInvalidated) {
  UserRecord owner = AddUser("owner", {"user"});
  TestKey key = AddKey([&](ApiKeyRecord& r) { r.user_id = owner.id; });
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Auth(key.secret).error, ErrorClass::kNone);
  EXPECT_EQ(h_.store.key_reads.load(), 1);
  EXPECT_EQ(h_.store.user_reads.load(), 1);

  // Revoked in the store behind the cache's back: the cached state still answers...
  ASSERT_TRUE(h_.OnStore([&] { return h_.store.RevokeKey(key.record.id, NowSeconds()); }).ok());
  EXPECT_EQ(Auth(key.secret).error, ErrorClass::kNone);
  EXPECT_EQ(h_.store.key_reads.load(), 1);
  // ...until this instance invalidates the entry (as the admin API does on revoke).
  h_.keys.Invalidate(key.record.hash);
  EXPECT_EQ(Auth(key.secret).error, ErrorClass::kAuthRevoked);
  EXPECT_EQ(h_.store.key_reads.load(), 2);
  EXPECT_EQ(Auth(key.secret).error, ErrorClass::kAuthRevoked);
  EXPECT_EQ(h_.store.key_reads.load(), 2);
}

TEST_F(AuthenticatorTest, AStoreOutageIsUnavailableAndNotCached) {
  TestKey key = AddKey();
  h_.store.fail_reads = true;
  AuthResult result = Auth(key.secret);
  EXPECT_EQ(result.error, ErrorClass::kUnavailable);
  EXPECT_EQ(result.principal, nullptr);
  EXPECT_EQ(h_.keys.size(), 0u);
  h_.store.fail_reads = false;
  EXPECT_EQ(Auth(key.secret).error, ErrorClass::kNone);
}

TEST_F(AuthenticatorTest, SuccessfulUsesAreCounted) {
  TestKey used = AddKey();
  TestKey revoked = AddKey();
  ASSERT_TRUE(h_.OnStore([&] { return h_.store.RevokeKey(revoked.record.id, 1); }).ok());
  int64_t before = NowSeconds();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Auth(used.secret).error, ErrorClass::kNone);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(Auth(revoked.secret).error, ErrorClass::kAuthRevoked);
  std::vector<KeyUsageDelta> usage = h_.keys.TakeUsage();
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].key_id, used.record.id);
  EXPECT_EQ(usage[0].requests, 3);
  EXPECT_GE(usage[0].last_used_at, before);
}

TEST_F(AuthenticatorTest, CredentialsComeFromTheUsualHeaders) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> headers;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{{"authorization", "Bearer sk-sl-abc"}}, "sk-sl-abc"},
      {{{"Authorization", "bearer   tok.en.x"}}, "tok.en.x"},
      {{{"authorization", "BEARER k"}}, "k"},
      {{{"authorization", "Basic dXNlcjpwdw=="}}, ""},
      // An Authorization header that is not Bearer does not fall back to X-API-Key.
      {{{"authorization", "Basic dXNlcjpwdw=="}, {"x-api-key", "k2"}}, ""},
      {{{"authorization", "Bearer "}}, ""},
      {{{"x-api-key", "k2"}}, "k2"},
      {{{"X-Api-Key", "k2"}, {"api-key", "k3"}}, "k2"},
      {{{"api-key", "k3"}}, "k3"},
      {{{"authorization", "Bearer k1"}, {"x-api-key", "k2"}}, "k1"},
      {{}, ""},
  };
  for (const Case& c : cases) {
    HttpRequest request;
    for (const auto& [name, value] : c.headers) request.headers.Add(name, value);
    EXPECT_EQ(Authenticator::Credentials(request), c.expected)
        << (c.headers.empty() ? "(none)" : c.headers[0].second);
  }
}

TEST_F(AuthenticatorTest, AGatewayLoginTokenIsAcceptedUntilItsIdIsRevoked) {
  UserRecord alice = auth_test::MakeUser("alice", "pw-of-alice", {"operator"}, "gold");
  ASSERT_TRUE(h_.OnStore([&] { return h_.store.InsertUser(alice); }).ok());
  const std::string username = "alice";
  const std::string password = "pw-of-alice";
  LoginOutcome login = Await(h_.login.Login(username, password));
  ASSERT_EQ(login.status, LoginStatus::kOk);

  AuthResult result = Auth(login.tokens.access_token);
  ASSERT_EQ(result.error, ErrorClass::kNone) << result.message;
  EXPECT_TRUE(result.was_token);
  const Principal& p = *result.principal;
  EXPECT_EQ(p.kind, Principal::Kind::kUser);
  EXPECT_EQ(p.id, "user:" + alice.id);
  EXPECT_EQ(p.user_id, alice.id);
  EXPECT_EQ(p.subject, alice.id);
  EXPECT_EQ(p.issuer, "sluice");
  EXPECT_EQ(p.roles, std::vector<std::string>{"operator"});
  EXPECT_EQ(p.permissions, h_.policy.PermissionsOf({"operator"}));
  EXPECT_EQ(p.tier, "gold");
  EXPECT_GT(p.expires_at, NowSeconds());
  EXPECT_EQ(h_.store.key_reads.load(), 0);  // tokens never touch the key store

  std::string jti(auth_test::JwtClaims(login.tokens.access_token)["jti"].as_string());
  h_.issuers->Revoke(jti);
  AuthResult revoked = Auth(login.tokens.access_token);
  EXPECT_EQ(revoked.error, ErrorClass::kAuthRevoked);
  EXPECT_TRUE(revoked.was_token);
  EXPECT_EQ(revoked.principal, nullptr);
}

TEST_F(AuthenticatorTest, GatewayTokensThatMustBeRefused) {
  int64_t now = NowSeconds();
  auto other_key = jwt::Key::FromSecret("some-other-secret-that-is-32-bytes-long!!", "x");
  ASSERT_TRUE(other_key.has_value());
  struct Case {
    const char* what;
    std::string token;
    ErrorClass expected;
  };
  const std::vector<Case> cases = {
      {"valid", GatewayToken({{"sub", "usr_1"}, {"jti", "jti_1"}}), ErrorClass::kNone},
      {"expired", GatewayToken({{"sub", "usr_1"}, {"jti", "jti_2"}, {"exp", now - 3600}}),
       ErrorClass::kAuthExpired},
      {"forged signature", GatewayToken({{"sub", "usr_1"}, {"jti", "jti_3"}}, &*other_key),
       ErrorClass::kAuthInvalid},
      {"no jti", GatewayToken({{"sub", "usr_1"}}), ErrorClass::kAuthInvalid},
      {"no sub", GatewayToken({{"jti", "jti_4"}}), ErrorClass::kAuthInvalid},
      {"wrong audience", GatewayToken({{"sub", "usr_1"}, {"jti", "jti_5"}, {"aud", "other"}}),
       ErrorClass::kAuthInvalid},
      {"unknown issuer",
       GatewayToken({{"sub", "usr_1"}, {"jti", "jti_6"}, {"iss", "https://evil.example"}}),
       ErrorClass::kAuthInvalid},
      {"garbage with dots", "not.a.jwt", ErrorClass::kAuthInvalid},
  };
  for (const Case& c : cases) {
    AuthResult result = Auth(c.token);
    EXPECT_EQ(result.error, c.expected) << c.what << ": " << result.message;
    EXPECT_TRUE(result.was_token) << c.what;
    EXPECT_EQ(result.message.find(c.token), std::string::npos) << c.what;
  }
}

TEST_F(AuthenticatorTest, GatewayTokenRolesAreFilteredToKnownRoles) {
  AuthResult result = Auth(GatewayToken({{"sub", "usr_9"},
                                         {"jti", "jti_9"},
                                         {"roles", boost::json::array{"superuser", "readonly"}}}));
  ASSERT_EQ(result.error, ErrorClass::kNone) << result.message;
  EXPECT_EQ(result.principal->roles, std::vector<std::string>{"readonly"});
  EXPECT_EQ(result.principal->permissions, h_.policy.PermissionsOf({"readonly"}));

  // A gateway token without roles has none (no default roles for our own tokens).
  AuthResult bare = Auth(GatewayToken({{"sub", "usr_9"}, {"jti", "jti_10"}}));
  ASSERT_EQ(bare.error, ErrorClass::kNone) << bare.message;
  EXPECT_TRUE(bare.principal->roles.empty());
  EXPECT_EQ(bare.principal->permissions, 0u);
}

TEST_F(AuthenticatorTest, ATokenOfAConfiguredIssuerIsAnExternalPrincipal) {
  auto idp_key = jwt::Key::FromSecret(kIdpSecret, "idp-1");
  ASSERT_TRUE(idp_key.has_value());
  int64_t now = NowSeconds();
  auto token = [&](boost::json::object extra) {
    boost::json::object claims = {
        {"iss", kIdpIssuer}, {"aud", "sluice-api"}, {"sub", "sub-1"}, {"exp", now + 600}};
    for (auto& [name, value] : extra) claims[name] = value;
    return jwt::Sign(claims, *idp_key);
  };

  AuthResult plain = Auth(token({}));
  ASSERT_EQ(plain.error, ErrorClass::kNone) << plain.message;
  EXPECT_EQ(plain.principal->kind, Principal::Kind::kExternal);
  EXPECT_EQ(plain.principal->id, std::string("jwt:") + kIdpIssuer + "#sub-1");
  EXPECT_EQ(plain.principal->subject, "sub-1");
  EXPECT_EQ(plain.principal->issuer, kIdpIssuer);
  EXPECT_TRUE(plain.principal->user_id.empty());
  EXPECT_EQ(plain.principal->roles, std::vector<std::string>{"user"});  // default_roles

  AuthResult admin = Auth(token({{"roles", "admin"}, {"tier", "gold"}}));
  ASSERT_EQ(admin.error, ErrorClass::kNone) << admin.message;
  EXPECT_EQ(admin.principal->roles, std::vector<std::string>{"admin"});
  EXPECT_EQ(admin.principal->permissions, AllPermissions());
  EXPECT_EQ(admin.principal->tier, "gold");

  AuthResult unknown_roles = Auth(token({{"roles", boost::json::array{"root"}}}));
  ASSERT_EQ(unknown_roles.error, ErrorClass::kNone);
  EXPECT_EQ(unknown_roles.principal->roles, std::vector<std::string>{"user"});

  EXPECT_EQ(Auth(token({{"aud", "someone-else"}})).error, ErrorClass::kAuthInvalid);
  EXPECT_EQ(Auth(token({{"exp", now - 3600}})).error, ErrorClass::kAuthExpired);
}

AuthConfig NoCacheConfig() {
  AuthConfig config;
  config.key_cache_ttl = std::chrono::milliseconds(0);
  return config;
}

class AuthenticatorNoCache : public AuthenticatorTest {
 protected:
  AuthenticatorNoCache() : AuthenticatorTest(NoCacheConfig(), Duration::zero()) {}
};

TEST_F(AuthenticatorNoCache, AStaleEntryIsReadAgainAndSeesChanges) {
  TestKey key = AddKey();
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(Auth(key.secret).error, ErrorClass::kNone);
    EXPECT_EQ(h_.store.key_reads.load(), i);
  }
  ASSERT_TRUE(h_.OnStore([&] { return h_.store.RevokeKey(key.record.id, NowSeconds()); }).ok());
  EXPECT_EQ(Auth(key.secret).error, ErrorClass::kAuthRevoked);
  // Negative entries go stale too: a key created after a miss is found at once.
  TestKey later = auth_test::MakeTestKey();
  EXPECT_EQ(Auth(later.secret).error, ErrorClass::kAuthInvalid);
  ASSERT_TRUE(h_.OnStore([&] { return h_.store.InsertKey(later.record); }).ok());
  EXPECT_EQ(Auth(later.secret).error, ErrorClass::kNone);
}

}  // namespace
}  // namespace sluice
