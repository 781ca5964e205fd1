// End to end: limits are exact across instances. Three `sluice serve` processes share one
// REAL redis-server (started here on a free loopback port) in front of one sluice-mock; the
// official `openai` SDK (maxRetries: 0) fires requests at them concurrently, round-robin.
// A 100/minute request limit admits exactly 100 of 300, a token-per-minute limit and a money
// budget admit exactly the number of requests their size allows, and the rest get the SDK's
// RateLimitError (429 rate_limit_exceeded or insufficient_quota). With Redis paused
// (SIGSTOP), each gateway enforces its local share ceil(limit / 3) and the budget refuses
// with 503; once Redis answers again, the shared counters decide again. Each test starts from
// an empty Redis (FLUSHALL).
import { describe, test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import OpenAI from "openai";
import { noonTimezone, startDistributedStack } from "./lib/distributed_stack.mjs";

const GATEWAYS = 3;

// How every request's tokens are known exactly (see src/limits/token_estimator.h and
// tools/sluice-mock/mock_text.cc). The message below is estimated at 3 (message) + 1
// (text("user")) + 5 (text of 17 bytes) + 3 (reply priming) = 12 prompt tokens. No request
// sets max_tokens, so the completion reservation is limits.default_max_tokens = 88: each
// request reserves 100 tokens. sluice-mock counts the prompt as ceil(17 / 4) = 5 tokens and
// replies with --tokens 95 completion tokens (it would cap them at max_tokens, which is why
// none is sent), so the upstream's usage is 5 + 95 = 100 as well: settlement adjusts every
// token and money counter by actual - reserved = 0, and the outcome does not depend on
// whether a request is settled before or after another is admitted.
const messages = [{ role: "user", content: "Count me exactly." }];
const DEFAULT_MAX_TOKENS = 88;
const MOCK_COMPLETION_TOKENS = 95;
const TOKENS_PER_REQUEST = 100;

// The priced model costs 1 USD per 1M tokens in and out alike, so a request costs 100 µ$
// whether its tokens are counted as prompt or completion (the estimate and the mock split
// the same 100 differently, 12 + 88 against 5 + 95).
const PRICE_USD_PER_MTOK = 1;
const COST_MICRO_USD = TOKENS_PER_REQUEST * PRICE_USD_PER_MTOK;

const REQUEST_LIMIT = 100;               // requests: 100/minute
const TOKEN_LIMIT = 1000;                // tokens: 1000/minute → 10 requests of 100
const BUDGET_MICRO_USD = 550;            // 0.00055 USD → 5 requests of 100 µ$, 50 µ$ left
const BUDGET_ADMITS = Math.floor(BUDGET_MICRO_USD / COST_MICRO_USD);
const HOURLY_LIMIT = 9;                  // requests: 9/hour, for the Redis outage

// Opens `perGateway` keep-alive connections to every gateway (concurrent GET /v1/models,
// which no limit counts), so that a burst that follows is not slowed by TCP handshakes.
async function warmConnections(clients, perGateway) {
  await Promise.all(clients.flatMap((client) =>
    Array.from({ length: perGateway }, () => client.models.list())));
}

// Fires `total` chat completions for `model` at once, request i to gateway i % GATEWAYS;
// resolves with {admitted: [{gateway, completion}], refused: [{gateway, error}], ms}.
async function fireConcurrently(clients, model, total) {
  const started = performance.now();
  const outcomes = await Promise.all(Array.from({ length: total }, (_, i) => {
    const gateway = i % clients.length;
    return clients[gateway].chat.completions.create({ model, messages })
      .then((completion) => ({ gateway, completion }), (error) => ({ gateway, error }));
  }));
  return {
    admitted: outcomes.filter((o) => o.completion),
    refused: outcomes.filter((o) => o.error),
    ms: performance.now() - started,
  };
}

// Requests admitted per gateway, e.g. "34+33+33".
function perGateway(admitted) {
  const counts = Array(GATEWAYS).fill(0);
  for (const { gateway } of admitted) counts[gateway]++;
  return counts.join("+");
}

// Asserts that every refusal is the SDK's RateLimitError (429) with error.code `code`
// (and error.type `type` when given).
function assertRefusedWith(refused, code, type) {
  for (const { error } of refused) {
    assert.ok(error instanceof OpenAI.RateLimitError,
      `expected RateLimitError, got ${error?.constructor?.name}: ${error}`);
    assert.equal(error.status, 429);
    assert.equal(error.code, code, error.message);
    if (type) assert.equal(error.type, type, error.message);
  }
}

// Checks a GCRA counter shared through Redis against what the algorithm allows
// (docs/limits.md), from the gateways' own records: the counter's TAT in Redis and the
// access log (each request's wall-clock start and latency). Requests cost `unitUs` each
// (T × amount) against a burst of `burst` requests.
// - Starting from an empty counter, the first admission at now0 and every later one (the
//   counter stays ahead of `now` within the test) leave TAT = now0 + admitted × unitUs, so
//   now0 is read back from the stored TAT. It must fall between the first request's start and
//   the end of the first admitted one: a lost update (two gateways charging from the same
//   TAT) would put it unitUs earlier.
// - GCRA admits exactly `burst` at once, plus one per unitUs elapsed since now0. When every
//   request was decided within unitUs of the first admission (the usual case: the decisions
//   of 300 requests span well under 600 ms even on a loaded 2-core box) that is exactly
//   `burst`; otherwise at most burst + floor((last decision − now0) / unitUs).
// Returns that number of refills (0: the count asserted is exact).
async function assertGcraExact(stack, model, key, { unitUs, burst, run }) {
  const total = run.admitted.length + run.refused.length;
  const log = await stack.accessLog(model, total);
  assert.equal(log.length, total, `the gateways logged every request for ${model}`);
  assert.equal(log.filter((e) => e.status === 200).length, run.admitted.length);
  assert.equal(log.filter((e) => e.status === 429).length, run.refused.length);
  const startMs = (e) => Date.parse(e.time);              // truncated to the ms
  const endMs = (e) => Date.parse(e.time) + 1 + e.latency_ms;
  const firstStart = Math.min(...log.map(startMs));
  const firstAdmittedEnd = Math.min(...log.filter((e) => e.status === 200).map(endMs));
  const lastEnd = Math.max(...log.map(endMs));

  const tat = Number(await stack.redis.command("GET", key));
  assert.ok(tat > 0, `${key} holds a TAT in Redis`);
  const now0 = (tat - run.admitted.length * unitUs) / 1000;
  assert.ok(now0 >= firstStart && now0 <= firstAdmittedEnd,
    `first admission at ${now0.toFixed(1)} ms (from the stored TAT), first request started at ` +
    `${firstStart}, first admitted one ended at ${firstAdmittedEnd.toFixed(1)}: the TAT is not ` +
    `advanced once per admission`);
  const refills = Math.max(0, Math.floor((lastEnd - now0) * 1000 / unitUs));
  assert.ok(run.admitted.length >= burst, `${run.admitted.length} admitted: the whole burst of ${burst} at least`);
  assert.ok(run.admitted.length <= burst + refills,
    `${run.admitted.length} admitted, at most ${burst} + ${refills} (refill) allowed`);
  console.log(`# ${model}: decided within ${(lastEnd - now0).toFixed(0)} ms of the first admission`);
  return refills;
}

describe("limits shared by three gateways through one Redis are exact", () => {
  let stack;
  let clients;

  before(async () => {
    stack = await startDistributedStack({
      gateways: GATEWAYS,
      mockArgs: ["--tokens", String(MOCK_COMPLETION_TOKENS)],
      models: [
        { name: "rpm-model" },
        { name: "tpm-model" },
        { name: "hourly-model" },
        { name: "budget-model", price: { input: PRICE_USD_PER_MTOK, output: PRICE_USD_PER_MTOK } },
      ],
      limits: `  default_max_tokens: ${DEFAULT_MAX_TOKENS}
  timezone: "${noonTimezone()}"
  policies:
    - name: shared-requests
      per: [model]
      models: [rpm-model]
      requests: ${REQUEST_LIMIT}/minute
    - name: shared-tokens
      per: [model]
      models: [tpm-model]
      tokens: ${TOKEN_LIMIT}/minute
    - name: shared-hourly
      models: [hourly-model]
      requests: ${HOURLY_LIMIT}/hour
    - name: shared-budget
      models: [budget-model]
      budget: {usd: ${BUDGET_MICRO_USD / 1e6}, per: day}`,
    });
    // One SDK client per gateway; no retries: a refusal must surface as it is.
    clients = stack.baseURLs.map((baseURL) =>
      new OpenAI({ baseURL, apiKey: "sk-unused", maxRetries: 0, timeout: 20000 }));
  }, { timeout: 30000 });

  after(async () => {
    await stack?.dispose();
  });

  beforeEach(async () => {
    await stack.redis.flushAll();
  });

  test("requests: 100/minute, 300 requests over 3 gateways → exactly 100 admitted", { timeout: 30000 }, async () => {
    const total = 3 * REQUEST_LIMIT;
    await warmConnections(clients, total / GATEWAYS);
    const mockBefore = await stack.mockRequests();
    const run = await fireConcurrently(clients, "rpm-model", total);
    const mockAfter = await stack.mockRequests();
    const { admitted, refused } = run;
    console.log(`# requests: ${admitted.length} admitted (${perGateway(admitted)} per gateway), ` +
      `${refused.length} refused, ${total} requests in ${run.ms.toFixed(0)} ms`);
    const refills = await assertGcraExact(stack, "rpm-model", "sl:{model=rpm-model}:shared-requests:req",
      { unitUs: 60e6 / REQUEST_LIMIT, burst: REQUEST_LIMIT, run });
    // When every request was decided within 600 ms of the first admission (a box that is not
    // overloaded), exactly the limit; otherwise assertGcraExact bounded GCRA's refill.
    if (refills === 0) assert.equal(admitted.length, REQUEST_LIMIT, "exactly the limit across all gateways");
    assert.equal(refused.length, total - admitted.length);
    assertRefusedWith(refused, "rate_limit_exceeded");
    for (const { error } of refused) {
      assert.match(error.message, /requests \(policy 'shared-requests', limit 100\)/);
      assert.equal(error.headers.get("x-ratelimit-limit-requests"), String(REQUEST_LIMIT),
        "decided by the shared counter, not a local share");
    }
    for (const { completion } of admitted) assert.equal(completion.object, "chat.completion");
    // The mock saw the admitted requests only (+1: the second GET /mock/stats counts itself).
    assert.equal(mockAfter - mockBefore, admitted.length + 1, "the upstream saw exactly the admitted requests");
    assert.deepEqual(await stack.redis.command("KEYS", "sl:*"), ["sl:{model=rpm-model}:shared-requests:req"]);
  });

  test("tokens: 1000/minute, requests of 100 tokens over 3 gateways → exactly 10 admitted", { timeout: 30000 }, async () => {
    const fit = TOKEN_LIMIT / TOKENS_PER_REQUEST;
    const total = 3 * fit;
    const mockBefore = await stack.mockRequests();
    const run = await fireConcurrently(clients, "tpm-model", total);
    const mockAfter = await stack.mockRequests();
    const { admitted, refused } = run;
    console.log(`# tokens: ${admitted.length} admitted (${perGateway(admitted)} per gateway), ` +
      `${refused.length} refused, ${total} requests in ${run.ms.toFixed(0)} ms`);
    // The design's premise: the upstream's usage equals the reservation, so no settlement
    // moves the counter.
    for (const { completion } of admitted) {
      assert.equal(completion.usage.total_tokens, TOKENS_PER_REQUEST, JSON.stringify(completion.usage));
    }
    // 1000/minute: 60 ms a token, 6 s for one more request of 100.
    const refills = await assertGcraExact(stack, "tpm-model", "sl:{model=tpm-model}:shared-tokens:tok",
      { unitUs: TOKENS_PER_REQUEST * 60e6 / TOKEN_LIMIT, burst: fit, run });
    assert.equal(refills, 0, `the ${total} requests were decided within 6 s`);
    assert.equal(admitted.length, fit, "exactly the token limit across all gateways");
    assert.equal(refused.length, total - fit);
    assertRefusedWith(refused, "rate_limit_exceeded");
    for (const { error } of refused) {
      assert.match(error.message, /tokens \(policy 'shared-tokens', limit 1000\)/);
      assert.equal(error.headers.get("x-ratelimit-limit-tokens"), String(TOKEN_LIMIT));
      // Less than one request's worth is left (the counter refills 1 token every 60 ms).
      assert.ok(Number(error.headers.get("x-ratelimit-remaining-tokens")) < TOKENS_PER_REQUEST);
    }
    assert.equal(mockAfter - mockBefore, admitted.length + 1, "the upstream saw exactly the admitted requests");
    assert.deepEqual(await stack.redis.command("KEYS", "sl:*"), ["sl:{model=tpm-model}:shared-tokens:tok"]);
  });

  test("budget: 0.00055 USD a day, requests of 100 µ$ over 3 gateways → exactly 5 admitted", { timeout: 30000 }, async () => {
    const total = 3 * GATEWAYS * BUDGET_ADMITS;
    const mockBefore = await stack.mockRequests();
    const { admitted, refused, ms } = await fireConcurrently(clients, "budget-model", total);
    const mockAfter = await stack.mockRequests();
    console.log(`# budget: ${admitted.length} admitted (${perGateway(admitted)} per gateway), ` +
      `${refused.length} refused, ${total} requests in ${ms.toFixed(0)} ms`);
    for (const { completion } of admitted) {
      assert.equal(completion.usage.total_tokens, TOKENS_PER_REQUEST, JSON.stringify(completion.usage));
    }
    // A budget does not refill within its window: exact whatever the timing.
    assert.equal(admitted.length, BUDGET_ADMITS, "exactly what the budget pays for, across all gateways");
    assert.equal(refused.length, total - BUDGET_ADMITS);
    assertRefusedWith(refused, "insufficient_quota", "insufficient_quota");
    for (const { error } of refused) {
      assert.match(error.message, /Spending budget exhausted \(policy 'shared-budget', limit 550 micro-USD\)/);
      // Until the end of the (local) day, which is about 12 h away under noonTimezone().
      const retryAfter = Number(error.headers.get("retry-after"));
      assert.ok(retryAfter > 3600 && retryAfter <= 13 * 3600, `retry-after ${retryAfter}`);
    }
    assert.equal(mockAfter - mockBefore, admitted.length + 1, "the upstream saw exactly the admitted requests");
    // Redis holds what was spent: 5 × 100 µ$, the reservations left untouched by settlement.
    const keys = await stack.redis.command("KEYS", "sl:*");
    assert.equal(keys.length, 1, JSON.stringify(keys));
    assert.match(keys[0], /^sl:\{all\}:shared-budget:usd:\d{4}-\d{2}-\d{2}$/);
    assert.equal(await stack.redis.command("GET", keys[0]), String(BUDGET_ADMITS * COST_MICRO_USD));
  });

  test("Redis paused: each gateway enforces its local share, budgets refuse with 503, then Redis decides again", { timeout: 30000 }, async () => {
    const share = Math.ceil(HOURLY_LIMIT / GATEWAYS);
    const perGatewayRequests = share + 2;
    const mockBefore = await stack.mockRequests();
    stack.redis.pause();
    let during;
    let budgetErrors;
    try {
      // Every decision waits redis.timeout (500 ms), then follows its policy: local_fallback
      // for the rate, fail_closed for the budget. One request after the other on each
      // gateway (the gateways in parallel): a decision uses the time its request arrived,
      // and concurrent fallback decisions applied out of that order can refuse the last
      // free slot of the share (a spurious refusal, never an over-admission).
      const started = performance.now();
      const sequences = await Promise.all(clients.map(async (client, gateway) => {
        const outcomes = [];
        for (let i = 0; i < perGatewayRequests; i++) {
          outcomes.push(await client.chat.completions.create({ model: "hourly-model", messages })
            .then((completion) => ({ gateway, completion }), (error) => ({ gateway, error })));
        }
        return outcomes;
      }));
      const outcomes = sequences.flat();
      during = {
        admitted: outcomes.filter((o) => o.completion),
        refused: outcomes.filter((o) => o.error),
        ms: performance.now() - started,
      };
      budgetErrors = await Promise.all(clients.map((client) =>
        client.chat.completions.create({ model: "budget-model", messages }).then(() => null, (error) => error)));
    } finally {
      stack.redis.resume();
    }
    const mockDuring = await stack.mockRequests();
    console.log(`# Redis paused: ${during.admitted.length} admitted (${perGateway(during.admitted)} per gateway), ` +
      `${during.refused.length} refused, in ${during.ms.toFixed(0)} ms`);
    // ceil(9 / 3) = 3 per gateway: together exactly the limit, as redis.instances = 3 promises.
    assert.equal(perGateway(during.admitted), Array(GATEWAYS).fill(share).join("+"));
    assertRefusedWith(during.refused, "rate_limit_exceeded");
    for (const { error } of during.refused) {
      assert.equal(error.headers.get("x-ratelimit-limit-requests"), String(share), "the local share is the limit");
    }
    assert.equal(mockDuring - mockBefore, GATEWAYS * share + 1, "the upstream saw exactly the admitted requests");
    for (const error of budgetErrors) {
      assert.ok(error instanceof OpenAI.InternalServerError, `expected a 503, got ${error}`);
      assert.equal(error.status, 503);
      assert.equal(error.code, "service_unavailable");
      assert.equal(error.headers.get("retry-after"), "1");
    }

    // Redis answers again. Each gateway worker thread has its own connection, which
    // reconnects with backoff (up to 2 s), so every gateway is polled until its answers come
    // from the shared counters again: the rate limit header shows the shared 100 (the local
    // share of 100/minute would be 34), and the budget is decided instead of refused with
    // 503 (decisions that timed out during the pause may have reached Redis on resume and
    // over-counted it, so a decided budget is a 200 or a 429 insufficient_quota).
    const decidedByRedis = {
      "rpm-model": (answer) => answer.headers?.get("x-ratelimit-limit-requests") === String(REQUEST_LIMIT),
      "budget-model": (answer) => answer.status === 200 ||
        (answer.status === 429 && answer.code === "insufficient_quota"),
    };
    await Promise.all(clients.map(async (client, gateway) => {
      for (const [model, decided] of Object.entries(decidedByRedis)) {
        const deadline = Date.now() + 10000;
        for (;;) {
          const answer = await client.chat.completions.create({ model, messages }).withResponse()
            .then(({ response }) => ({ status: response.status, headers: response.headers }),
              (error) => ({ status: error.status, code: error.code, headers: error.headers }));
          if (decided(answer)) break;
          assert.ok(Date.now() < deadline,
            `gateway ${gateway} decides ${model} through Redis again within 10 s (last: ${answer.status})`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }));
  });
});
