// End to end: a model group over three real sluice-mock processes (one failing every request
// with 500, one slow, one healthy) behind a real sluice, driven by the official OpenAI SDK.
// Round robin keeps offering the failing deployment until it is ejected, so the ejection
// shows at that mock: every request succeeds through retries, and the failing one sees
// about the configured number of consecutive errors, then nothing. (P2C-EWMA's steering is
// shown by tests/integration/routing_balance_test.cc and the ROUTING benchmark.)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { requireEnv, startProcess } from "./lib/stack.mjs";

const processes = [];
let client;
let mocks;

async function mockStats(mock) {
  const response = await fetch(`http://127.0.0.1:${mock.port}/mock/stats`);
  return response.json();
}

before(async () => {
  const start = (args) =>
    startProcess(requireEnv("SLUICE_MOCK_BIN"), ["--listen", "127.0.0.1:0", "--workers", "1", ...args]);
  mocks = {
    failing: await start(["--error-rate", "1", "--error-status", "500"]),
    slow: await start(["--latency-ms", "150"]),
    healthy: await start([]),
  };
  processes.push(...Object.values(mocks));
  const dir = mkdtempSync(join(tmpdir(), "sluice-e2e-routing-"));
  const config = join(dir, "sluice.yaml");
  writeFileSync(config, `
server:
  listen: 127.0.0.1:0
  workers: 2
backends:
  - {name: failing, url: "http://127.0.0.1:${mocks.failing.port}/v1"}
  - {name: slow, url: "http://127.0.0.1:${mocks.slow.port}/v1"}
  - {name: healthy, url: "http://127.0.0.1:${mocks.healthy.port}/v1"}
models:
  - name: gpt-4o-mini
    balancer: round_robin
    retries: {attempts: 2, backoff: {base: 1ms, max: 5ms}}
    outlier_detection: {consecutive_errors: 3, base_ejection_time: 60s, max_ejection_percent: 34}
    deployments:
      - {backend: failing, upstream_model: gpt-4o-mini}
      - {backend: slow, upstream_model: gpt-4o-mini}
      - {backend: healthy, upstream_model: gpt-4o-mini}
filters:
  - request_id: {}
`);
  const gateway = await startProcess(requireEnv("SLUICE_BIN"), ["serve", "--config", config]);
  processes.push(gateway);
  client = new OpenAI({ baseURL: `http://127.0.0.1:${gateway.port}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  for (const p of processes.reverse()) {
    if (p.child.exitCode === null) {
      const exited = new Promise((r) => p.child.once("exit", r));
      p.child.kill("SIGTERM");
      await exited;
    }
  }
});

test("every request succeeds through retries and the failing deployment is ejected", async () => {
  const total = 60;
  for (let wave = 0; wave < total / 6; ++wave) {
    const replies = await Promise.all(
      Array.from({ length: 6 }, () =>
        client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] })),
    );
    for (const reply of replies) {
      assert.equal(reply.object, "chat.completion");
      assert.ok(reply.choices[0].message.content.length > 0);
    }
  }
  const failing = await mockStats(mocks.failing);
  const slow = await mockStats(mocks.slow);
  const healthy = await mockStats(mocks.healthy);
  // Ejected after 3 consecutive errors; concurrent attempts already on their way when the
  // third error landed may add a few (at most one per concurrent request).
  assert.ok(failing.errors_injected >= 3, `failing saw ${failing.errors_injected}`);
  assert.ok(failing.errors_injected <= 3 + 6, `failing saw ${failing.errors_injected} after ejection`);
  const slowRequests = slow.requests - 1;  // minus this /mock/stats call
  const healthyRequests = healthy.requests - 1;
  assert.equal(slowRequests + healthyRequests, total, "each request was served exactly once");
  assert.ok(slowRequests > 0 && healthyRequests > 0, "the other two share the traffic");
});

test("a stream whose first attempt fails is retried before its first event", async () => {
  const stream = await client.chat.completions.create({
    model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "hi" }],
  });
  let text = "";
  let finished = false;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    if (chunk.choices[0]?.finish_reason) finished = true;
  }
  assert.ok(text.length > 0);
  assert.ok(finished);
});
