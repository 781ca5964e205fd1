// Micro-benchmarks of identity and access on the request path: checking a cached gateway
// API key the way the auth filter does (format + SHA-256 + key cache + constant-time compare
// + use count), the real Authenticator coroutine for a cached key and for a repeated JWT, and
// JWT verification per token (HS256, RS256, ES256) without and with the verified-token cache.
// Keys and tokens are generated once at start; nothing touches the network or a file store
// (the Authenticator gets an in-memory SQLite store it never needs on a cache hit).
// Single-threaded; run with sluice-micro --benchmark_filter='Key|Jwt|Authenticate'.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "auth/access_policy.h"
#include "auth/api_key.h"
#include "auth/audit_log.h"
#include "auth/authenticator.h"
#include "auth/issuers.h"
#include "auth/jwt/jwt.h"
#include "auth/key_cache.h"
#include "core/blocking_pool.h"
#include "store/sqlite/sqlite_store.h"

namespace sluice::bench {
namespace {

namespace asio = boost::asio;

constexpr std::string_view kExternalIssuer = "https://idp.example.com/";
constexpr std::string_view kAudience = "sluice";
// Long enough that no entry expires while a benchmark runs (the filter's default is 10 s).
constexpr auto kCacheTtl = std::chrono::hours(1);

[[noreturn]] void Fail(std::string_view what) {
  std::cerr << "auth_bench: " << what << '\n';
  std::abort();
}

int64_t UnixNow() { return NowSeconds(); }

// A PEM (private PKCS#8 or public SPKI) of a freshly generated key.
std::string Pem(EVP_PKEY* pkey, bool private_key) {
  BIO* bio = BIO_new(BIO_s_mem());
  int ok = private_key ? PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr)
                       : PEM_write_bio_PUBKEY(bio, pkey);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string out = ok == 1 ? std::string(data, static_cast<size_t>(size)) : std::string();
  BIO_free(bio);
  return out;
}

struct SigningPair {
  jwt::Key signer;
  jwt::Key verifier;
  std::string public_pem;
};

SigningPair Generate(jwt::Algorithm alg, const std::string& kid) {
  EVP_PKEY* pkey = alg == jwt::Algorithm::kRS256 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  if (pkey == nullptr) Fail("key generation failed");
  std::string private_pem = Pem(pkey, true);
  std::string public_pem = Pem(pkey, false);
  EVP_PKEY_free(pkey);
  std::string error;
  auto signer = jwt::Key::FromPem(private_pem, kid, &error);
  auto verifier = jwt::Key::FromPem(public_pem, kid, &error);
  if (!signer || !verifier) Fail("PEM not accepted: " + error);
  return {std::move(*signer), std::move(*verifier), std::move(public_pem)};
}

// Claims of a typical access token from an identity provider (~300 bytes of payload).
boost::json::object ExternalClaims(int64_t now) {
  return {{"iss", kExternalIssuer},
          {"sub", "user-1234"},
          {"aud", kAudience},
          {"exp", now + 3600},
          {"iat", now},
          {"jti", "5f0c2a8e-77c4-4f36-9d1c-0d5b2f0f6a11"},
          {"team", "research"},
          {"roles", boost::json::array{"user"}},
          {"tier", "standard"}};
}

// The pieces the benchmarks share, built once: keys and tokens of each algorithm, a key
// cache holding one valid API key, and a complete Authenticator (store, pools, policy,
// issuers: the gateway's HS256 login issuer and one RS256 issuer from a PEM file).
struct AuthWorld {
  AuthWorld() {
    int64_t now = UnixNow();
    // JWT keys and one token per algorithm, signed for the external issuer.
    jwt::Key hmac = *jwt::Key::FromSecret(std::string(32, 's'), "hs-1");
    SigningPair rsa = Generate(jwt::Algorithm::kRS256, "rsa-1");
    SigningPair ec = Generate(jwt::Algorithm::kES256, "ec-1");
    verify_keys.Add(hmac);
    verify_keys.Add(rsa.verifier);
    verify_keys.Add(ec.verifier);
    policy.issuer = std::string(kExternalIssuer);
    policy.audiences = {std::string(kAudience)};
    policy.algorithms = {jwt::Algorithm::kHS256, jwt::Algorithm::kRS256, jwt::Algorithm::kES256};
    boost::json::object claims = ExternalClaims(now);
    hs256_token = jwt::Sign(claims, hmac);
    rs256_token = jwt::Sign(claims, rsa.signer);
    es256_token = jwt::Sign(claims, ec.signer);

    // The Authenticator, as AuthRuntime::Open wires it.
    std::string error;
    store = SqliteStore::Open(":memory:", &error);
    if (!store) Fail("store: " + error);
    store_pool = std::make_unique<BlockingPool>(1);
    keys = std::make_unique<KeyCache>(kCacheTtl, std::chrono::seconds(2));
    access = std::make_unique<AccessPolicy>(auth_config);
    const std::string pem_path = WritePem(rsa.public_pem);
    AuthConfig issuers_config;
    JwtIssuerConfig external;
    external.issuer = std::string(kExternalIssuer);
    external.audiences = {std::string(kAudience)};
    external.algorithms = {"RS256"};
    external.keys.push_back(JwtKeySpec{.kid = "rsa-1", .pem_file = pem_path});
    issuers_config.issuers.push_back(external);
    std::vector<std::string> errors;
    issuers = Issuers::Build(issuers_config, "bench.yaml", errors);
    ::unlink(pem_path.c_str());  // read by Build
    if (!errors.empty()) Fail(errors.front());
    issuers->AddGatewayIssuer(std::string(48, 'g'), "sluice");
    authenticator =
        std::make_unique<Authenticator>(*keys, *store, *store_pool, *access, *issuers, control);
    // A gateway login token (HS256), as LoginService issues it.
    boost::json::object login = {{"iss", "sluice"},     {"aud", "sluice"},
                                 {"sub", "usr_0123"},   {"name", "alice"},
                                 {"iat", now},          {"exp", now + 900},
                                 {"jti", NewId("jti")}, {"roles", boost::json::array{"user"}}};
    login_token = jwt::Sign(login, *issuers->gateway_signing_key());

    // One API key of role "user", cached as the authenticator would have loaded it.
    NewApiKey generated = GenerateApiKey();
    api_key = generated.secret;
    keys->Put(KeyStateFor(generated));
  }

  std::shared_ptr<KeyState> KeyStateFor(const NewApiKey& generated) const {
    ApiKeyRecord record;
    record.id = NewId("key");
    record.hash = generated.hash;
    record.prefix = generated.prefix;
    record.roles = {"user"};
    auto state = std::make_shared<KeyState>();
    state->hash = generated.hash;
    state->principal = authenticator->KeyPrincipal(record, nullptr, nullptr);
    state->fetched_at = std::chrono::steady_clock::now();
    return state;
  }

  static std::string WritePem(const std::string& pem) {
    char path[] = "/tmp/sluice-auth-bench-XXXXXX";
    int fd = ::mkstemp(path);
    if (fd < 0) Fail("mkstemp failed");
    ::close(fd);
    std::ofstream(path) << pem;
    return path;
  }

  jwt::KeySet verify_keys;
  jwt::Policy policy;
  std::string hs256_token, rs256_token, es256_token, login_token;

  AuthConfig auth_config;
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<BlockingPool> store_pool;
  std::unique_ptr<KeyCache> keys;
  std::unique_ptr<AccessPolicy> access;
  std::unique_ptr<Issuers> issuers;
  asio::io_context control;
  std::unique_ptr<Authenticator> authenticator;
  std::string api_key;
};

AuthWorld& World() {
  // Never destroyed: nothing needs tearing down at exit, and no benchmark can outlive it.
  static AuthWorld* world = new AuthWorld();
  return *world;
}

// --- API keys ---------------------------------------------------------------------------

// One cached key checked as Authenticator::TryCached does (the auth filter's hot path),
// spelled out so the pieces can be timed apart: shape check, SHA-256, shard lookup,
// constant-time compare, expiry/revocation, use count. state.range(0) keys are in the cache
// (1: one hot entry; 10,000: a busy gateway's working set, so the shard maps are not
// trivially small). The checksum is not recomputed on a hit: only keys whose checksum was
// valid are ever cached.
void BM_ApiKeyCheckCached(benchmark::State& state) {
  AuthWorld& world = World();
  KeyCache cache(kCacheTtl, std::chrono::seconds(2));
  for (int64_t i = 1; i < state.range(0); ++i) cache.Put(world.KeyStateFor(GenerateApiKey()));
  NewApiKey generated = GenerateApiKey();
  cache.Put(world.KeyStateFor(generated));
  const std::string key = generated.secret;
  const auto now = std::chrono::steady_clock::now();
  const int64_t unix_now = UnixNow();
  for (auto _ : state) {
    bool ok = key.size() == kApiKeyLength && key.starts_with(kApiKeyPrefix);
    Sha256HexBuffer digits;
    Sha256HexTo(key, digits);
    const std::string_view hash(digits.data(), digits.size());
    std::shared_ptr<const KeyState> found = cache.Find(hash, now);
    ok = ok && found && found->principal && ConstantTimeEquals(found->hash, hash);
    ok = ok && found->revoked_at == 0 && (found->expires_at == 0 || unix_now < found->expires_at) &&
         !found->owner_disabled;
    if (!ok) {
      state.SkipWithError("the cached key was not accepted");
      break;
    }
    cache.CountUse(*found, unix_now);
    benchmark::DoNotOptimize(found->principal.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ApiKeyCheckCached)->Arg(1)->Arg(10'000);

// The two pieces of the above that are not a map lookup.
void BM_CheckApiKeyFormat(benchmark::State& state) {
  const std::string key = GenerateApiKey().secret;
  for (auto _ : state) {
    ApiKeyFormat format = CheckApiKeyFormat(key);
    benchmark::DoNotOptimize(format);
  }
}
BENCHMARK(BM_CheckApiKeyFormat);

void BM_Sha256Hex(benchmark::State& state) {
  const std::string key = GenerateApiKey().secret;
  for (auto _ : state) {
    std::string hash = Sha256Hex(key);
    benchmark::DoNotOptimize(hash);
  }
}
BENCHMARK(BM_Sha256Hex);

// --- The Authenticator coroutine ---------------------------------------------------------

// Runs the benchmark loop inside one coroutine on `io`, awaiting Authenticate() per
// iteration (a cache hit never suspends, so this measures the coroutine path itself).
asio::awaitable<void> AuthenticateLoop(Authenticator* authenticator, std::string_view credentials,
                                       benchmark::State* state) {
  for (auto _ : *state) {
    AuthResult result = co_await authenticator->Authenticate(credentials);
    if (!result.principal) {
      state->SkipWithError(("not authenticated: " + result.message).c_str());
      break;
    }
    benchmark::DoNotOptimize(result.principal.get());
  }
}

asio::awaitable<void> AuthenticateOnce(Authenticator* authenticator, std::string_view credentials) {
  co_await authenticator->Authenticate(credentials);
}

void RunAuthenticate(benchmark::State& state, std::string_view credentials) {
  AuthWorld& world = World();
  asio::io_context io;
  asio::co_spawn(io, AuthenticateLoop(world.authenticator.get(), credentials, &state),
                 asio::detached);
  io.run();
  state.SetItemsProcessed(state.iterations());
}

// Authenticator::Authenticate with a cached API key: what the auth filter awaits.
void BM_AuthenticateApiKey(benchmark::State& state) { RunAuthenticate(state, World().api_key); }
BENCHMARK(BM_AuthenticateApiKey);

// Authenticator::TryCached with a cached API key: what the auth filter calls first, and all
// it calls for a key seen within the cache TTL (no coroutine).
void BM_AuthenticatorTryCached(benchmark::State& state) {
  AuthWorld& world = World();
  {  // one Authenticate puts the key in the cache
    asio::io_context io;
    asio::co_spawn(io, AuthenticateOnce(world.authenticator.get(), world.api_key), asio::detached);
    io.run();
  }
  const auto now = std::chrono::steady_clock::now();
  const int64_t unix_now = UnixNow();
  for (auto _ : state) {
    std::optional<AuthResult> result = world.authenticator->TryCached(world.api_key, now, unix_now);
    if (!result || !result->principal) {
      state.SkipWithError("the cached key was not accepted");
      break;
    }
    benchmark::DoNotOptimize(result->principal.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AuthenticatorTryCached);

// Authenticator::Authenticate with a token seen before: issuer lookup from the unverified
// payload, verified-token cache hit, revocation check, principal from the claims.
void BM_AuthenticateJwtCached(benchmark::State& state, int which) {
  AuthWorld& world = World();
  RunAuthenticate(state, which == 0 ? world.login_token : world.rs256_token);
}
BENCHMARK_CAPTURE(BM_AuthenticateJwtCached, hs256_login, 0);
BENCHMARK_CAPTURE(BM_AuthenticateJwtCached, rs256_external, 1);

// --- JWT verification --------------------------------------------------------------------

const std::string& TokenFor(jwt::Algorithm alg) {
  AuthWorld& world = World();
  switch (alg) {
    case jwt::Algorithm::kHS256:
      return world.hs256_token;
    case jwt::Algorithm::kRS256:
      return world.rs256_token;
    case jwt::Algorithm::kES256:
      break;
  }
  return world.es256_token;
}

// jwt::Verify per token: parse, signature, claims. What every request with a bearer token
// would cost without the verified-token cache (and what a cache miss costs).
void BM_JwtVerify(benchmark::State& state, jwt::Algorithm alg) {
  AuthWorld& world = World();
  const std::string& token = TokenFor(alg);
  const int64_t now = UnixNow();
  for (auto _ : state) {
    jwt::VerifyResult result = jwt::Verify(token, world.policy, world.verify_keys, now);
    if (result.error != jwt::VerifyError::kNone) {
      state.SkipWithError(std::string(jwt::Describe(result.error)).c_str());
      break;
    }
    benchmark::DoNotOptimize(result.token->expires_at);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(token.size()));
}
BENCHMARK_CAPTURE(BM_JwtVerify, hs256, jwt::Algorithm::kHS256);
BENCHMARK_CAPTURE(BM_JwtVerify, rs256, jwt::Algorithm::kRS256);
BENCHMARK_CAPTURE(BM_JwtVerify, es256, jwt::Algorithm::kES256);

// The same token through the verified-token cache as Issuers::Verify uses it: a lookup by
// the token's SHA-256, verifying and inserting only on a miss (the first iteration).
void BM_JwtVerifyCached(benchmark::State& state, jwt::Algorithm alg) {
  AuthWorld& world = World();
  const std::string& token = TokenFor(alg);
  jwt::VerifiedTokenCache cache;
  const int64_t now = UnixNow();
  for (auto _ : state) {
    std::shared_ptr<const jwt::VerifiedToken> verified = cache.Find(token, now);
    if (!verified) {
      jwt::VerifyResult result = jwt::Verify(token, world.policy, world.verify_keys, now);
      if (result.error != jwt::VerifyError::kNone) {
        state.SkipWithError(std::string(jwt::Describe(result.error)).c_str());
        break;
      }
      verified = std::make_shared<const jwt::VerifiedToken>(std::move(*result.token));
      cache.Insert(token, verified);
    }
    benchmark::DoNotOptimize(verified.get());
  }
}
BENCHMARK_CAPTURE(BM_JwtVerifyCached, hs256, jwt::Algorithm::kHS256);
BENCHMARK_CAPTURE(BM_JwtVerifyCached, rs256, jwt::Algorithm::kRS256);

}  // namespace
}  // namespace sluice::bench
