// End to end: Sluice trusting a real OpenID Provider (the `oidc-provider` npm package, run
// in this process on loopback). The provider issues RS256 JWT access tokens (client
// credentials grant, resource indicator as the audience, a "roles" claim per client);
// Sluice fetches its JWKS, validates the tokens the official `openai` SDK sends as its
// apiKey and maps the roles claim to permissions. Also: wrong audience, expiry, a foreign
// signature, signing-key rotation at the provider, and no token in the gateway's output or
// its store.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI from "openai";
import { assertNoSecrets, startAuthStack } from "./lib/auth_stack.mjs";
import { decodeJwt, newSigningJwk, signJwt, startOidcProvider } from "./lib/oidc_provider.mjs";

const TIMEOUT = { timeout: 20000 };
const RESOURCE = "https://api.sluice.test";
const OTHER_RESOURCE = "https://other-api.example";
const messages = [{ role: "user", content: "Say something deterministic." }];
const CLIENTS = [
  { client_id: "sluice-app", client_secret: "e2e-client-secret-app-0c8e1f7a9b2d4c6e", roles: ["user"] },
  { client_id: "sluice-viewer", client_secret: "e2e-client-secret-viewer-5d3a9e1c7b0f", roles: ["readonly"] },
  {
    client_id: "sluice-short", client_secret: "e2e-client-secret-short-8b6f2a4d1e9c", roles: ["user"], ttl: 2,
  },
];
// Every secret and token of the run, by label; none may appear in the gateway's output or
// store.
const secrets = Object.fromEntries(CLIENTS.map((c) => [`client secret ${c.client_id}`, c.client_secret]));
let provider;
let stack;

async function tokenFor(clientId, resource = RESOURCE) {
  const token = await provider.token(clientId, resource);
  secrets[`token ${Object.keys(secrets).length}`] = token;
  return token;
}

function clientWith(apiKey) {
  return new OpenAI({ baseURL: stack.baseURL, apiKey, maxRetries: 0 });
}

function chat(token) {
  return clientWith(token).chat.completions.create({ model: "gpt-4o-mini", messages });
}

async function rejectsWith(promise, type, status, code) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${error?.constructor?.name}: ${error}`);
    assert.equal(error.status, status);
    if (code) assert.equal(error.code, code);
    return true;
  });
}

// The principal the admin API sees for `token` (GET /admin/whoami needs no permission).
async function whoami(token) {
  const response = await fetch(`${stack.adminURL}/admin/whoami`,
    { headers: { authorization: `Bearer ${token}` } });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body;
}

before(async () => {
  provider = await startOidcProvider({ clients: CLIENTS });
  // leeway 0s so that the short-lived token expires within the test; jwks_min_refresh 1s
  // so that an unknown kid after the rotation is fetched soon.
  stack = await startAuthStack({
    authExtra: `  issuers:
    - issuer: "${provider.issuer}"
      audiences: ["${RESOURCE}"]
      jwks_url: "${provider.jwksUri}"
      jwks_min_refresh: 1s
      leeway: 0s
      roles_claim: roles`,
  });
  secrets["bootstrap admin key"] = stack.adminKey;
}, { timeout: 30000 });

after(async () => {
  await stack?.dispose();
  await provider?.stop();
});

test("a provider token is accepted and its roles claim maps to a user", TIMEOUT, async () => {
  const token = await tokenFor("sluice-app");
  const { header, payload } = decodeJwt(token);
  assert.equal(header.alg, "RS256");
  assert.equal(header.kid, provider.currentKid());
  assert.equal(payload.iss, provider.issuer);
  assert.equal(payload.aud, RESOURCE);
  assert.deepEqual(payload.roles, ["user"]);

  const completion = await chat(token);
  assert.equal(completion.object, "chat.completion");
  const stream = await clientWith(token).chat.completions.create(
    { model: "gpt-4o-mini", messages, stream: true });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  assert.equal(text, completion.choices[0].message.content);

  const me = await whoami(token);
  assert.equal(me.id, `jwt:${provider.issuer}#sluice-app`);
  assert.deepEqual(me.roles, ["user"]);
  assert.ok(me.permissions.includes("models:invoke"), JSON.stringify(me));
  assert.ok(provider.jwksFetches() >= 1, "the gateway fetched the provider's JWKS");
});

test("a token whose roles lack models:invoke gets PermissionDeniedError", TIMEOUT, async () => {
  const token = await tokenFor("sluice-viewer");
  assert.deepEqual(decodeJwt(token).payload.roles, ["readonly"]);
  const me = await whoami(token);
  assert.deepEqual(me.roles, ["readonly"]);
  assert.ok(!me.permissions.includes("models:invoke"), JSON.stringify(me));
  assert.ok(me.permissions.includes("usage:read"), JSON.stringify(me));
  await rejectsWith(chat(token), OpenAI.PermissionDeniedError, 403, "permission_denied");
  await rejectsWith(clientWith(token).models.list(), OpenAI.PermissionDeniedError, 403);
});

test("a token for another audience raises AuthenticationError", TIMEOUT, async () => {
  const token = await tokenFor("sluice-app", OTHER_RESOURCE);
  assert.equal(decodeJwt(token).payload.aud, OTHER_RESOURCE);
  await assert.rejects(chat(token), (error) => {
    assert.ok(error instanceof OpenAI.AuthenticationError, `got ${error?.constructor?.name}: ${error}`);
    assert.equal(error.status, 401);
    assert.equal(error.code, "invalid_api_key");
    assert.match(error.headers?.get("www-authenticate") ?? "", /^Bearer/i);
    return true;
  });
});

test("an expired token raises AuthenticationError", TIMEOUT, async () => {
  const token = await tokenFor("sluice-short");
  const { exp } = decodeJwt(token).payload;
  assert.ok(exp * 1000 > Date.now(), "the token is still valid when first used");
  await chat(token);
  // The gateway's leeway is 0: the token is refused once the clock is past exp.
  await sleep(Math.max(0, (exp + 1) * 1000 + 100 - Date.now()));
  await rejectsWith(chat(token), OpenAI.AuthenticationError, 401, "expired_credentials");
});

test("a token signed by a key the provider never published raises AuthenticationError", TIMEOUT, async () => {
  const real = await tokenFor("sluice-app");
  const { header, payload } = decodeJwt(real);
  const claims = { ...payload, jti: `${payload.jti}-forged` };
  // Control: the same claims signed with the provider's key are accepted.
  const genuine = signJwt(header, claims, provider.currentJwk());
  secrets["re-signed token"] = genuine;
  await chat(genuine);
  // Same header (kid) and claims, another key: the signature does not verify.
  const forged = signJwt(header, { ...claims, jti: `${payload.jti}-forged-2` }, newSigningJwk());
  secrets["forged token"] = forged;
  await rejectsWith(chat(forged), OpenAI.AuthenticationError, 401, "invalid_api_key");
});

test("after the provider rotates its signing key, new-kid tokens are accepted", TIMEOUT, async () => {
  const oldToken = await tokenFor("sluice-app");
  await chat(oldToken);
  const fetchesBefore = provider.jwksFetches();
  const oldKid = provider.currentKid();
  const newKid = provider.rotate();
  assert.notEqual(newKid, oldKid);
  const newToken = await tokenFor("sluice-app");
  assert.equal(decodeJwt(newToken).header.kid, newKid);

  // The gateway refetches the JWKS on an unknown kid at most once per jwks_min_refresh
  // (1 s), so the first attempt may come too soon after the previous fetch.
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      await chat(newToken);
      break;
    } catch (error) {
      if (!(error instanceof OpenAI.AuthenticationError) || Date.now() > deadline) throw error;
      await sleep(200);
    }
  }
  assert.ok(provider.jwksFetches() > fetchesBefore, "the gateway refetched the JWKS");
  // Rotation without downtime: tokens signed with the old key (still published) still work.
  await chat(oldToken);
  await chat(await tokenFor("sluice-app"));
});

test("no token or secret reached the gateway's output or its store", TIMEOUT, async () => {
  // Stopped first, so that every line it printed (up to its exit) is checked.
  await stack.stop();
  const output = stack.gatewayOutput();
  assert.ok(output.includes('"path":"/v1/chat/completions"'), "access log lines are present");
  assertNoSecrets(output, secrets);
  assertNoSecrets(stack.storeContents(), secrets, "the store");
});
