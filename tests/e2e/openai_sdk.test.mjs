// End to end: the official `openai` npm SDK against sluice in front of sluice-mock —
// chat (plain and streamed), embeddings (base64, the SDK default, and float), models, the
// errors the SDK maps to exception classes, request ids, client aborts, and secrets that
// must never reach the gateway's output.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startStack } from "./lib/stack.mjs";

const PROVIDER_KEY = "sk-e2e-provider-secret-4c1d9";
let stack;
let client;

before(async () => {
  stack = await startStack({
    mockArgs: ["--tokens", "12", "--itl-ms", "2", "--api-key", PROVIDER_KEY],
    gatewayEnv: { E2E_PROVIDER_KEY: PROVIDER_KEY },
    backendExtra: "    api_key_env: E2E_PROVIDER_KEY",
  });
  client = new OpenAI({ baseURL: stack.baseURL, apiKey: "client-key-not-forwarded", maxRetries: 0 });
});

after(async () => {
  await stack?.stop();
});

const messages = [{ role: "user", content: "Say something deterministic." }];

test("chat completion", async () => {
  const { data, response, request_id } = await client.chat.completions
    .create({ model: "gpt-4o-mini", messages })
    .withResponse();
  assert.equal(response.status, 200);
  assert.match(request_id, /^req_[0-9a-f]{32}$/);
  assert.equal(data.object, "chat.completion");
  assert.equal(data.choices[0].message.role, "assistant");
  assert.ok(data.choices[0].message.content.length > 0);
  assert.equal(data.usage.completion_tokens, 12);
  assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + 12);
});

test("streamed chat completion assembles the same text", async () => {
  const whole = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
  const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
  let text = "";
  let chunks = 0;
  let finish = null;
  for await (const chunk of stream) {
    chunks += 1;
    assert.ok(!("usage" in chunk), "usage is hidden when the client did not ask");
    const choice = chunk.choices[0];
    text += choice?.delta?.content ?? "";
    finish = choice?.finish_reason ?? finish;
  }
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, "stop");
  assert.ok(chunks >= 12);
});

test("streamed chat completion with include_usage ends with usage", async () => {
  const stream = await client.chat.completions.create({
    model: "default", messages, stream: true, stream_options: { include_usage: true },
  });
  let usage = null;
  for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
  assert.ok(usage);
  assert.equal(usage.completion_tokens, 12);
});

test("embeddings, base64 (the SDK default) and float", async () => {
  const viaBase64 = await client.embeddings.create({ model: "text-embedding-3-small", input: ["a", "b"] });
  assert.equal(viaBase64.data.length, 2);
  const vector = viaBase64.data[0].embedding;
  assert.ok(Array.isArray(vector) && vector.length > 0);
  const norm = Math.sqrt(vector.reduce((s, x) => s + x * x, 0));
  assert.ok(Math.abs(norm - 1) < 1e-3, `vectors are normalised (norm ${norm})`);
  const viaFloat = await client.embeddings.create({
    model: "text-embedding-3-small", input: ["a", "b"], encoding_format: "float",
  });
  assert.deepEqual(viaFloat.data[0].embedding.map((x) => x.toFixed(5)), vector.map((x) => x.toFixed(5)));
});

test("models.list and models.retrieve", async () => {
  const ids = [];
  for await (const model of client.models.list()) ids.push(model.id);
  assert.deepEqual(ids.sort(), ["gpt-4o-mini", "text-embedding-3-small"]);
  const model = await client.models.retrieve("gpt-4o-mini");
  assert.equal(model.id, "gpt-4o-mini");
});

test("unknown model raises NotFoundError with the request id", async () => {
  await assert.rejects(
    client.chat.completions.create({ model: "no-such-model", messages }),
    (error) => {
      assert.ok(error instanceof OpenAI.NotFoundError, `got ${error?.constructor?.name}`);
      assert.equal(error.status, 404);
      assert.equal(error.code, "model_not_found");
      assert.match(error.request_id ?? error.requestID ?? "", /^req_/);
      return true;
    },
  );
});

test("invalid request raises BadRequestError", async () => {
  await assert.rejects(
    client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: "yes" }),
    (error) => error instanceof OpenAI.BadRequestError && error.status === 400,
  );
});

test("aborting a stream aborts the upstream request", async () => {
  const controller = new AbortController();
  const slow = new OpenAI({ baseURL: stack.baseURL, apiKey: "x", maxRetries: 0 });
  const stream = await slow.chat.completions.create(
    { model: "gpt-4o-mini", messages, stream: true, mock: { tokens: 500, itl_ms: 20 } },
    { signal: controller.signal },
  );
  let seen = 0;
  // The SDK ends the iteration quietly when its request is aborted.
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content && ++seen === 3) controller.abort();
  }
  assert.ok(seen >= 3 && seen < 100, `saw ${seen} content chunks`);
  const deadline = Date.now() + 3000;
  let stats;
  do {
    stats = await (await fetch(`${stack.mockURL}/mock/stats`)).json();
    if (stats.streams_client_aborted >= 1) break;
    await new Promise((r) => setTimeout(r, 20));
  } while (Date.now() < deadline);
  assert.ok(stats.streams_client_aborted >= 1, `upstream stream not aborted: ${JSON.stringify(stats)}`);
});

test("the provider key reached the upstream but never the gateway's output", async () => {
  // The mock rejects requests without the provider key, so the successes above prove it
  // was injected; the client's own key must not have been forwarded instead.
  const output = stack.gatewayOutput();
  assert.ok(output.includes('"path":"/v1/chat/completions"'), "access log lines are present");
  assert.ok(!output.includes(PROVIDER_KEY), "provider key leaked into the gateway output");
  assert.ok(!output.includes("client-key-not-forwarded"), "client key leaked into the gateway output");
});
