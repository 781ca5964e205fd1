// End to end: traffic control and durable usage records with real clients. The official
// `openai` npm SDK against sluice (auth, SQLite store, limits: section, rate_limit filter)
// in front of sluice-mock: a spent per-key limit raises RateLimitError with Retry-After,
// retry-after-ms and x-ratelimit-* headers; the SDK's own retry honours retry-after-ms and
// gets through a one-per-second limit; two keys have independent counters; limits stored
// with a key (admin API) override its per-key policy or stand as policy 'key'. Then usage
// records survive kill -9: every response a client received completely (JSON fully read,
// SSE up to `data: [DONE]`) is in usage_records after a restart, exactly once.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import OpenAI from "openai";
import { startLimitsStack } from "./lib/limits_stack.mjs";

const messages = [{ role: "user", content: "Say something deterministic." }];

// Asserts that `promise` rejects with the SDK's RateLimitError for a request-rate limit;
// resolves with the error.
async function rejectsWithRateLimit(promise) {
  let caught;
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof OpenAI.RateLimitError, `expected RateLimitError, got ${error?.constructor?.name}: ${error}`);
    assert.equal(error.status, 429);
    assert.equal(error.code, "rate_limit_exceeded");
    caught = error;
    return true;
  });
  return caught;
}

describe("rate limits seen by the OpenAI SDK", () => {
  let stack;

  before(async () => {
    // gpt-4o-mini: 3 requests a minute per key (burst 3); gpt-4o: one a second per key.
    stack = await startLimitsStack({
      auth: true,
      mockArgs: ["--tokens", "8"],
      limits: `  policies:
    - name: per-key-mini
      per: [key]
      models: [gpt-4o-mini]
      requests: 3/minute
    - name: per-key-paced
      per: [key]
      models: [gpt-4o]
      requests: {limit: 60, per: minute, burst: 1}`,
    });
  }, { timeout: 30000 });

  after(async () => {
    await stack?.dispose();
  });

  const clientWith = (apiKey, options = {}) =>
    new OpenAI({ baseURL: stack.baseURL, apiKey, maxRetries: 0, timeout: 10000, ...options });

  test("a spent per-key limit raises RateLimitError with Retry-After and x-ratelimit-*", { timeout: 20000 }, async () => {
    const key = await stack.createKey({ name: "app-limited" });
    const client = clientWith(key.secret);
    for (const remaining of ["2", "1", "0"]) {
      const { data, response } = await client.chat.completions.create({ model: "gpt-4o-mini", messages })
        .withResponse();
      assert.equal(data.object, "chat.completion");
      assert.equal(response.headers.get("x-ratelimit-limit-requests"), "3");
      assert.equal(response.headers.get("x-ratelimit-remaining-requests"), remaining);
      assert.match(response.headers.get("x-ratelimit-reset-requests") ?? "", /^[0-9.]+m?s$/);
    }
    const error = await rejectsWithRateLimit(client.chat.completions.create({ model: "gpt-4o-mini", messages }));
    assert.match(error.message, /per-key-mini/);
    const retryAfter = Number(error.headers.get("retry-after"));
    const retryAfterMs = Number(error.headers.get("retry-after-ms"));
    // 3 a minute: the next request is admitted 20 s after the first.
    assert.ok(retryAfterMs > 15000 && retryAfterMs <= 20000, `retry-after-ms ${retryAfterMs}`);
    assert.equal(retryAfter, Math.ceil(retryAfterMs / 1000));
    assert.equal(error.headers.get("x-ratelimit-limit-requests"), "3");
    assert.equal(error.headers.get("x-ratelimit-remaining-requests"), "0");
    assert.match(error.headers.get("x-request-id") ?? "", /^req_[0-9a-f]{32}$/);
    // A streamed request is refused before any event, as the same SDK error.
    await rejectsWithRateLimit(client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true }));
    // The limit is per model: gpt-4o has its own policy and is still open for this key.
    const other = await client.chat.completions.create({ model: "gpt-4o", messages });
    assert.equal(other.object, "chat.completion");
  });

  test("the SDK's built-in retry honours retry-after-ms and gets through a 1/s limit", { timeout: 20000 }, async () => {
    const key = await stack.createKey({ name: "app-paced" });
    // Every attempt the SDK makes, with when it was sent and how it was answered.
    const attempts = [];
    const recordingFetch = async (url, init) => {
      const sentAt = performance.now();
      const response = await fetch(url, init);
      attempts.push({ sentAt, answeredAt: performance.now(), status: response.status,
        retryAfterMs: Number(response.headers.get("retry-after-ms") ?? NaN) });
      return response;
    };
    const noRetry = clientWith(key.secret);
    const retrying = clientWith(key.secret, { maxRetries: 2, fetch: recordingFetch });

    // The burst of one is spent by the first request; the next is refused (and not charged).
    await noRetry.chat.completions.create({ model: "gpt-4o", messages });
    const refused = await rejectsWithRateLimit(noRetry.chat.completions.create({ model: "gpt-4o", messages }));
    const refusedMs = Number(refused.headers.get("retry-after-ms"));
    assert.ok(refusedMs > 0 && refusedMs <= 1000, `retry-after-ms ${refusedMs}`);

    const started = performance.now();
    const completion = await retrying.chat.completions.create({ model: "gpt-4o", messages });
    const elapsed = performance.now() - started;
    assert.equal(completion.object, "chat.completion");
    assert.deepEqual(attempts.map((a) => a.status), [429, 200],
      "one refusal, then the SDK's retry succeeds (a retry that came too early would be refused again)");
    const [first, second] = attempts;
    assert.ok(first.retryAfterMs > 0 && first.retryAfterMs <= 1000, `retry-after-ms ${first.retryAfterMs}`);
    const waited = second.sentAt - first.answeredAt;
    assert.ok(waited >= first.retryAfterMs - 20, `the SDK waited ${waited} ms, told ${first.retryAfterMs} ms`);
    assert.ok(elapsed >= 500, `the call took ${elapsed} ms`);
    assert.ok(elapsed < 5000, `the call took ${elapsed} ms`);
    console.log(`# SDK retry: told to wait ${first.retryAfterMs} ms, waited ${waited.toFixed(0)} ms, ` +
      `call took ${elapsed.toFixed(0)} ms`);
  });

  test("per-key limits: two keys have independent counters", { timeout: 20000 }, async () => {
    const one = clientWith((await stack.createKey({ name: "app-one" })).secret);
    const two = clientWith((await stack.createKey({ name: "app-two" })).secret);
    for (let i = 0; i < 3; i++) await one.chat.completions.create({ model: "gpt-4o-mini", messages });
    await rejectsWithRateLimit(one.chat.completions.create({ model: "gpt-4o-mini", messages }));
    // The second key starts with its whole burst although the first one is refused.
    for (const remaining of ["2", "1", "0"]) {
      const { response } = await two.chat.completions.create({ model: "gpt-4o-mini", messages }).withResponse();
      assert.equal(response.headers.get("x-ratelimit-remaining-requests"), remaining);
    }
    await rejectsWithRateLimit(two.chat.completions.create({ model: "gpt-4o-mini", messages }));
    // And the first is still refused: the second key's requests did not refill it.
    await rejectsWithRateLimit(one.chat.completions.create({ model: "gpt-4o-mini", messages }));
  });

  test("limits stored with a key override its per-key policy, else form the implicit 'key' policy", { timeout: 20000 }, async () => {
    const key = await stack.createKey({ name: "app-capped", limits: { requests_per_minute: 2 } });
    assert.deepEqual(key.limits, { requests_per_minute: 2 });
    const capped = clientWith(key.secret);
    // gpt-4o-mini: the per-key policy allows 3 a minute; this key's own limit is 2.
    for (const remaining of ["1", "0"]) {
      const { response } = await capped.chat.completions.create({ model: "gpt-4o-mini", messages }).withResponse();
      assert.equal(response.headers.get("x-ratelimit-limit-requests"), "2");
      assert.equal(response.headers.get("x-ratelimit-remaining-requests"), remaining);
    }
    const refused = await rejectsWithRateLimit(capped.chat.completions.create({ model: "gpt-4o-mini", messages }));
    assert.match(refused.message, /policy 'per-key-mini', limit 2\)/);
    // No policy covers embeddings: the key's limit is enforced on its own, as policy 'key'.
    for (let i = 0; i < 2; i++) await capped.embeddings.create({ model: "text-embedding-3-small", input: "x" });
    const own = await rejectsWithRateLimit(capped.embeddings.create({ model: "text-embedding-3-small", input: "x" }));
    assert.match(own.message, /policy 'key', limit 2\)/);
    // A key without limits of its own is not limited on embeddings at all.
    const plain = clientWith((await stack.createKey({ name: "app-plain" })).secret);
    for (let i = 0; i < 3; i++) await plain.embeddings.create({ model: "text-embedding-3-small", input: "x" });
  });
});

// One request with our own X-Request-Id; resolves with "completed" once the response was
// received completely (a 200 JSON chat completion fully read and parsed, or an SSE stream up
// to `data: [DONE]`), "failed" otherwise (refused connection, reset, cut body, timeout).
async function oneRequest(baseURL, id, stream) {
  try {
    const response = await fetch(`${baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": id },
      body: JSON.stringify({ model: "gpt-4o-mini", messages, stream }),
      signal: AbortSignal.timeout(10000),
    });
    if (response.status !== 200 || response.headers.get("x-request-id") !== id) {
      await response.body?.cancel().catch(() => {});
      return `failed: status ${response.status}, id ${response.headers.get("x-request-id")}`;
    }
    if (!stream) {
      const body = JSON.parse(await response.text());
      return body.object === "chat.completion" ? "completed" : "failed: not a completion";
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (value) text += decoder.decode(value, { stream: true });
      if (text.includes("\ndata: [DONE]") || text.startsWith("data: [DONE]")) {
        // Completed for the client; drain the rest so the connection is reused.
        await (async () => { while (!(await reader.read()).done); })().catch(() => {});
        return "completed";
      }
      if (done) return "failed: stream ended without [DONE]";
    }
  } catch (error) {
    return `failed: ${error.cause?.code ?? error.name}`;
  }
}

describe("usage records survive kill -9", () => {
  let stack;

  before(async () => {
    // Streams of 16 tokens 2 ms apart, so some are mid-flight when the gateway dies.
    stack = await startLimitsStack({ mockArgs: ["--tokens", "16", "--itl-ms", "2"] });
  }, { timeout: 30000 });

  after(async () => {
    await stack?.dispose();
  });

  test("every completely received response is recorded exactly once after a restart", { timeout: 60000 }, async () => {
    const TOTAL = 300;
    const CONNECTIONS = 6;
    const KILL_AFTER = 150;  // completed responses before the SIGKILL
    const run = `kill9-${process.pid}-${Date.now()}`;
    const sent = [];
    const completed = new Map();  // id → stream
    const failures = new Map();   // reason → count
    let next = 0;
    let killing = null;
    const baseURL = stack.baseURL;
    const started = performance.now();

    const worker = async () => {
      while (killing === null && next < TOTAL) {
        const index = next++;
        const id = `${run}-${index}`;
        const stream = index % 2 === 1;
        sent.push(id);
        const outcome = await oneRequest(baseURL, id, stream);
        if (outcome === "completed") {
          completed.set(id, stream);
          if (completed.size === KILL_AFTER && killing === null) killing = stack.kill();
        } else {
          failures.set(outcome, (failures.get(outcome) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
    assert.ok(killing !== null, `the gateway was killed mid-load (completed ${completed.size} of ${TOTAL})`);
    await killing;
    const loadMs = performance.now() - started;
    const failed = [...failures.values()].reduce((a, b) => a + b, 0);
    // Only requests cut by the kill may fail: nothing was refused or broken before it.
    for (const reason of failures.keys()) assert.doesNotMatch(reason, /status|id |not a completion/, reason);
    assert.ok(failed >= 1, "some requests were in flight when the gateway was killed");
    assert.ok(sent.length < TOTAL, "the kill came before the load ended");
    const segmentsAfterKill = stack.journalSegments().length;
    // What the killed gateway had exported (every 200 ms): the rest is only in the journal.
    const exportedBeforeKill = new Set(
      await stack.query(`SELECT request_id FROM usage_records WHERE request_id LIKE '${run}-%'`));
    const onlyJournaled = [...completed.keys()].filter((id) => !exportedBeforeKill.has(id)).length;
    assert.ok(onlyJournaled >= 1, "some completed records were still only in the journal at the kill");

    // The restarted gateway replays the journal into the store.
    const restartedAt = performance.now();
    await stack.restart();
    const want = [...completed.keys()];
    let stored = new Set();
    const deadline = Date.now() + 20000;
    for (;;) {
      stored = new Set(await stack.query(`SELECT request_id FROM usage_records WHERE request_id LIKE '${run}-%'`));
      if (want.every((id) => stored.has(id)) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const replayMs = performance.now() - restartedAt;

    // The restarted gateway still records new requests (its journal numbers new segments).
    const after = Array.from({ length: 10 }, (_, i) => `${run}-after-${i}`);
    for (const [i, id] of after.entries()) {
      assert.equal(await oneRequest(stack.baseURL, id, i % 2 === 1), "completed", id);
    }
    await stack.stopGateway();  // graceful: exports everything durable

    const rows = await stack.query(
      `SELECT request_id, status, stream FROM usage_records WHERE request_id LIKE '${run}-%' ORDER BY request_id`);
    const [counts] = await stack.query(
      `SELECT count(*) || ' ' || count(DISTINCT request_id) FROM usage_records WHERE request_id LIKE '${run}-%'`);
    const [rowCount, distinctCount] = counts.split(" ").map(Number);
    const byId = new Map(rows.map((row) => {
      const [id, status, stream] = row.split("|");
      return [id, { status: Number(status), stream: stream === "1" }];
    }));

    const missing = want.filter((id) => !byId.has(id));
    console.log(`# kill -9: sent ${sent.length}, completed ${completed.size}, failed ${failed} ` +
      `(${JSON.stringify(Object.fromEntries(failures))}), journal segments at kill ${segmentsAfterKill}, ` +
      `exported before the kill ${exportedBeforeKill.size} (${onlyJournaled} completed only journaled), ` +
      `stored after restart ${stored.size} (all completed present after ${replayMs.toFixed(0)} ms), ` +
      `stored at the end ${rowCount} rows / ${distinctCount} ids (incl. ${after.length} after restart), ` +
      `load ${loadMs.toFixed(0)} ms`);
    assert.deepEqual(missing, [], `completed requests missing from usage_records (${missing.length} of ${want.length})`);
    assert.equal(rowCount, distinctCount, "no request id is stored twice");
    for (const id of after) assert.ok(byId.has(id), `${id} (after the restart) is stored`);
    const sentSet = new Set([...sent, ...after]);
    for (const id of byId.keys()) assert.ok(sentSet.has(id), `${id} is a request this test sent`);
    for (const [id, stream] of completed) {
      const row = byId.get(id);
      assert.equal(row.status, 200, `${id} is recorded as a 200`);
      assert.equal(row.stream, stream, `${id} is recorded as ${stream ? "streamed" : "not streamed"}`);
    }
    assert.ok(rowCount <= sent.length + after.length);
  });
});
