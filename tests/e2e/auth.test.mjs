// End to end: API keys and gateway sign-in with the official `openai` npm SDK as the
// client, against sluice (auth on, SQLite store, admin API) in front of sluice-mock. Keys
// and users are created through the admin API with the key printed by `sluice admin
// bootstrap`; the SDK must map revoked and malformed keys to AuthenticationError and a
// model outside a key's allowed list to PermissionDeniedError; a login token works as the
// SDK's apiKey; and no secret created here ever reaches the gateway's output or its store.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { assertNoSecrets, startAuthStack } from "./lib/auth_stack.mjs";

const TIMEOUT = { timeout: 20000 };
const messages = [{ role: "user", content: "Say something deterministic." }];
// Every secret created or sent here, by label; none may appear in the gateway's output.
const secrets = {};
let stack;

function clientWith(apiKey) {
  return new OpenAI({ baseURL: stack.baseURL, apiKey, maxRetries: 0 });
}

async function newKey(name, fields = {}) {
  const key = await stack.createKey({ name, ...fields });
  secrets[`key ${name}`] = key.secret;
  return key;
}

// Asserts that `promise` rejects with the SDK's `type` error, `status` and error `code`.
async function rejectsWith(promise, type, status, code) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${error?.constructor?.name}: ${error}`);
    assert.equal(error.status, status);
    if (code) assert.equal(error.code, code);
    return true;
  });
}

async function login(username, password) {
  const response = await fetch(`${stack.gatewayURL}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  return { status: response.status, body: await response.json() };
}

before(async () => {
  stack = await startAuthStack();
  secrets["bootstrap admin key"] = stack.adminKey;
}, TIMEOUT);

after(async () => {
  await stack?.dispose();
});

test("a valid key: chat completion, plain and streamed", TIMEOUT, async () => {
  const key = await newKey("app-valid");
  const client = clientWith(key.secret);
  const completion = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
  assert.equal(completion.object, "chat.completion");
  assert.ok(completion.choices[0].message.content.length > 0);

  const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
  let text = "";
  let finish = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, completion.choices[0].message.content);
  assert.equal(finish, "stop");
});

test("no key at all raises AuthenticationError", TIMEOUT, async () => {
  // The SDK insists on an apiKey; a null default header drops the Authorization it adds.
  const client = new OpenAI({
    baseURL: stack.baseURL, apiKey: "unused", maxRetries: 0, defaultHeaders: { authorization: null },
  });
  await rejectsWith(client.chat.completions.create({ model: "gpt-4o-mini", messages }),
    OpenAI.AuthenticationError, 401, "missing_api_key");
});

test("a key revoked through the admin API raises AuthenticationError", TIMEOUT, async () => {
  const key = await newKey("app-revoked");
  const client = clientWith(key.secret);
  // Used once first, so the key is in the gateway's cache when it is revoked.
  await client.chat.completions.create({ model: "gpt-4o-mini", messages });
  const revoked = await stack.admin("POST", `/admin/keys/${key.id}/revoke`);
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  assert.ok(revoked.body.revoked_at > 0, JSON.stringify(revoked.body));
  assert.ok(!("secret" in revoked.body), "a revoke does not show the secret again");
  await assert.rejects(client.chat.completions.create({ model: "gpt-4o-mini", messages }), (error) => {
    assert.ok(error instanceof OpenAI.AuthenticationError, `got ${error?.constructor?.name}: ${error}`);
    assert.equal(error.status, 401);
    assert.equal(error.code, "revoked_credentials");
    assert.match(error.headers?.get("www-authenticate") ?? "", /^Bearer/i);
    return true;
  });
  await rejectsWith(client.models.list(), OpenAI.AuthenticationError, 401);
});

test("a key limited to gpt-4o-mini gets PermissionDeniedError for another model", TIMEOUT, async () => {
  const key = await newKey("app-mini-only", { allowed_models: ["gpt-4o-mini"] });
  const client = clientWith(key.secret);
  await assert.rejects(client.chat.completions.create({ model: "gpt-4o", messages }), (error) => {
    assert.ok(error instanceof OpenAI.PermissionDeniedError, `got ${error?.constructor?.name}: ${error}`);
    assert.equal(error.status, 403);
    assert.equal(error.code, "model_not_allowed");
    assert.match(error.message, /gpt-4o\b/);
    return true;
  });
  await rejectsWith(client.embeddings.create({ model: "text-embedding-3-small", input: "a" }),
    OpenAI.PermissionDeniedError, 403, "model_not_allowed");
  // The allowed model works, by its name and by its alias.
  const byName = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
  assert.equal(byName.object, "chat.completion");
  const byAlias = await client.chat.completions.create({ model: "default", messages });
  assert.equal(byAlias.object, "chat.completion");
});

test("models.list returns only the models a key may use", TIMEOUT, async () => {
  const limited = await newKey("app-list-limited", { allowed_models: ["gpt-4o-mini"] });
  const ids = [];
  for await (const model of clientWith(limited.secret).models.list()) ids.push(model.id);
  assert.deepEqual(ids, ["gpt-4o-mini"]);
  await rejectsWith(clientWith(limited.secret).models.retrieve("gpt-4o"), OpenAI.PermissionDeniedError, 403);

  const open = await newKey("app-list-open");
  const all = [];
  for await (const model of clientWith(open.secret).models.list()) all.push(model.id);
  assert.deepEqual(all.sort(), ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"]);
});

test("malformed keys raise AuthenticationError", TIMEOUT, async () => {
  const real = await newKey("app-template");
  // One character changed: the checksum no longer matches.
  const last = real.secret.at(-1);
  const typo = real.secret.slice(0, -1) + (last === "A" ? "B" : "A");
  const malformed = { "key with a typo": typo, "truncated key": real.secret.slice(0, -4),
    "short sk-sl key": "sk-sl-notakeyatall", "foreign key": "sk-proj-0123456789abcdef" };
  Object.assign(secrets, malformed);
  for (const [label, apiKey] of Object.entries(malformed)) {
    await assert.rejects(clientWith(apiKey).chat.completions.create({ model: "gpt-4o-mini", messages }),
      (error) => {
        assert.ok(error instanceof OpenAI.AuthenticationError, `${label}: got ${error?.constructor?.name}`);
        assert.equal(error.status, 401, label);
        assert.equal(error.code, "invalid_api_key", label);
        return true;
      });
  }
  // The real key still works: the failures above were about the typos only.
  await clientWith(real.secret).chat.completions.create({ model: "gpt-4o-mini", messages });
});

test("POST /auth/login returns an access token that works as the SDK's apiKey", TIMEOUT, async () => {
  const password = "e2e-pass-7f3b91c2d";
  secrets["user password"] = password;
  const created = await stack.admin("POST", "/admin/users",
    { username: "e2e-alice", password, roles: ["user"] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.ok(!JSON.stringify(created.body).includes(password), "the password is not echoed");

  const wrongPassword = "e2e-wrong-pass-55aa";
  secrets["wrong password"] = wrongPassword;
  const denied = await login("e2e-alice", wrongPassword);
  assert.equal(denied.status, 401, JSON.stringify(denied.body));
  assert.equal(denied.body.error.type, "authentication_error");

  const signedIn = await login("e2e-alice", password);
  assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  const { access_token: accessToken, refresh_token: refreshToken, token_type: tokenType } = signedIn.body;
  secrets["access token"] = accessToken;
  secrets["refresh token"] = refreshToken;
  assert.equal(tokenType, "bearer");
  assert.ok(signedIn.body.expires_in > 0);

  const client = clientWith(accessToken);
  const completion = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
  assert.equal(completion.object, "chat.completion");
  const ids = [];
  for await (const model of client.models.list()) ids.push(model.id);
  assert.ok(ids.includes("gpt-4o-mini"));

  // The refresh token buys a new access token, which works too.
  const refreshed = await fetch(`${stack.gatewayURL}/auth/refresh`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refresh_token: refreshToken }),
  });
  const tokens = await refreshed.json();
  assert.equal(refreshed.status, 200, JSON.stringify(tokens));
  secrets["refreshed access token"] = tokens.access_token;
  secrets["rotated refresh token"] = tokens.refresh_token;
  assert.notEqual(tokens.refresh_token, refreshToken);
  await clientWith(tokens.access_token).chat.completions.create({ model: "gpt-4o-mini", messages });

  // A tampered token is refused.
  const tampered = accessToken.slice(0, -3) + (accessToken.endsWith("AAA") ? "BBB" : "AAA");
  secrets["tampered access token"] = tampered;
  await rejectsWith(clientWith(tampered).chat.completions.create({ model: "gpt-4o-mini", messages }),
    OpenAI.AuthenticationError, 401);
});

test("no key, password or token reached the gateway's output or its store", TIMEOUT, async () => {
  // Stopped first, so that every line it printed (up to its exit) is checked.
  await stack.stop();
  const output = stack.gatewayOutput();
  assert.ok(output.includes('"path":"/v1/chat/completions"'), "access log lines are present");
  assert.ok(output.includes('"path":"/auth/login"'), "the sign-in requests were logged");
  assertNoSecrets(output, secrets);
  // Keys and refresh tokens are stored as hashes, passwords as argon2id, audit rows without
  // credentials.
  const store = stack.storeContents();
  assert.ok(store.includes("app-valid") && store.includes("e2e-alice"), "the store holds the keys and users");
  assertNoSecrets(store, secrets, "the store");
});
