// Integration: how fast a change to a key reaches the hot path. A key revoked through this
// instance (store write + key-cache invalidation) stops working on the next request; a key
// revoked, or an owner disabled, directly in the store by "another instance" stops working
// once the cached entry is older than key_cache_ttl (polled with a deadline, no fixed sleep).
#include <gtest/gtest.h>

#include "tests/integration/auth_test_fixture.h"

namespace sluice::testing::auth_test {
namespace {

// Polls until a request with `secret` is refused or the deadline passes; the last response.
Response WaitUntilRefused(AuthGateway& gw, const std::string& secret,
                          std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  Response r = gw.ChatWithKey("m", secret);
  while (r.status == 200 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    r = gw.ChatWithKey("m", secret);
  }
  return r;
}

TEST(AuthRevocation, InvalidatingTheCacheMakesARevokedKeyFailImmediately) {
  AuthGateway gw;  // key_cache_ttl 10s: only the invalidation can make the change visible
  TestKey key = gw.CreateKey();
  ASSERT_EQ(gw.ChatWithKey("m", key.secret).status, 200);
  ASSERT_TRUE(gw.OnStore([&] { return gw.auth().store().RevokeKey(key.id, NowSeconds()); }).ok());
  // The hot path answers from the cache, without reading the store.
  EXPECT_EQ(gw.ChatWithKey("m", key.secret).status, 200);
  gw.auth().keys().Invalidate(key.hash);
  Response r = gw.ChatWithKey("m", key.secret);
  ExpectOpenAiError(r, 401, "authentication_error", "revoked_credentials");
  ExpectNoSecrets("401 body", r.body, {key.secret});
  EXPECT_EQ(gw.upstream().requests(), 2);
}

TEST(AuthRevocation, RevokeOnAnotherInstanceTakesEffectWithinTheCacheTtl) {
  AuthGateway gw({.key_cache_ttl = "300ms"});
  TestKey key = gw.CreateKey();
  ASSERT_EQ(gw.ChatWithKey("m", key.secret).status, 200);
  // Written straight to the store: this instance's cache is not told.
  ASSERT_TRUE(gw.OnStore([&] { return gw.auth().store().RevokeKey(key.id, NowSeconds()); }).ok());
  // Well above 300ms, well below the 10s default a misread TTL would fall back to.
  Response r = WaitUntilRefused(gw, key.secret, std::chrono::seconds(3));
  ExpectOpenAiError(r, 401, "authentication_error", "revoked_credentials");
  EXPECT_EQ(r.Header("www-authenticate"), "Bearer realm=\"sluice\", error=\"invalid_token\"");
}

TEST(AuthRevocation, OwnerDisabledOnAnotherInstanceTakesEffectWithinTheCacheTtl) {
  AuthGateway gw({.key_cache_ttl = "300ms"});
  std::string owner = gw.CreateUser("soon-disabled", "correct horse battery");
  TestKey key = gw.CreateKey({.user_id = owner});
  ASSERT_EQ(gw.ChatWithKey("m", key.secret).status, 200);
  ASSERT_TRUE(gw.OnStore([&] {
                  auto user = gw.auth().store().GetUser(owner);
                  UserRecord updated = *user.value();
                  updated.disabled = true;
                  return gw.auth().store().UpdateUser(updated);
                }).ok());
  Response r = WaitUntilRefused(gw, key.secret, std::chrono::seconds(3));
  ExpectOpenAiError(r, 401, "authentication_error", "account_disabled");
}

}  // namespace
}  // namespace sluice::testing::auth_test
