// End to end: hot reload (issue 5, "Hot reload under load"). The official `openai` SDK against
// a store-backed Sluice (auth, admin API, two workers) in front of two sluice-mocks, while the
// configuration is reloaded 20 times by SIGHUP, by the file watch and by POST
// /admin/config/reload, one of them with an invalid file: no request fails, every response
// comes from a configuration that was in service while it ran, the reload counters and the
// version in /admin/status are exactly what the test did, and the last configuration is the
// one served. Then: a restart-only change is refused (400 naming the section); a stream whose
// model and backend a reload removes still finishes, while new requests get 404; the watch
// also sees a regular file replaced by rename or rewritten in place.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import OpenAI from "openai";
import { startReloadStack } from "./lib/reload_stack.mjs";

const messages = [{ role: "user", content: "Say something deterministic." }];
const TOKENS = 16;
const STREAM_ITL_MS = 15;  // a stream lasts ~250 ms, about one reload interval
const LATENCY_MS = 40;     // non-streaming answers
const CLIENTS = 4;
const RELOADS = 20;
const INVALID_STEP = 11;   // an admin-API step
// Step s uses TRIGGERS[(s - 1) % 3]: 7 SIGHUP, 7 admin API (the last step), 6 file watch.
const TRIGGERS = ["SIGHUP", "admin API", "file watch"];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The reloadable part of the configuration whose version (in /admin/status) will be `v`. The
// deployments of `chat` carry v in their upstream model name ("chat-v7-a": version 7, backend
// a); sluice-mock echoes it as the response's `model`, so every response names the
// configuration and backend that served it. By v % 3, chat is on a, on b, or weighted over
// both; its aliases alternate; `stable` never changes. The final configuration drops the
// aliases `retired` and `parity-*` and adds `final-only`. `invalid` names an unknown backend.
function routing(mocks, v, { final = false, invalid = false } = {}) {
  const tag = (backend) => `chat-v${v}-${backend}`;
  let chat;
  if (invalid) {
    chat = `    backend: nowhere\n    upstream_model: ${tag("x")}\n`;
  } else if (v % 3 === 0) {
    chat = `    backend: a\n    upstream_model: ${tag("a")}\n`;
  } else if (v % 3 === 1) {
    chat = `    backend: b\n    upstream_model: ${tag("b")}\n`;
  } else {
    chat = `    balancer: weighted_round_robin
    deployments:
      - {backend: a, upstream_model: ${tag("a")}, weight: ${1 + (v % 4)}}
      - {backend: b, upstream_model: ${tag("b")}, weight: 1}
`;
  }
  const aliases = final ? "[default, final-only]" : `[default, retired, parity-${v % 2 ? "odd" : "even"}]`;
  return `backends:
  - name: a
    url: ${mocks.a}
  - name: b
    url: ${mocks.b}
models:
  - name: chat
    aliases: ${aliases}
${chat}  - name: stable
    backend: a
`;
}

// The configuration version a `chat` response names, checked against the backends that
// version routes chat to; null for other models.
function servedVersion(model, upstreamModel) {
  if (model === "stable") {
    assert.equal(upstreamModel, "stable");
    return null;
  }
  const match = /^chat-v(\d+)-([ab])$/.exec(upstreamModel);
  assert.ok(match, `unexpected upstream model ${upstreamModel}`);
  const v = Number(match[1]);
  const allowed = v % 3 === 0 ? ["a"] : v % 3 === 1 ? ["b"] : ["a", "b"];
  assert.ok(allowed.includes(match[2]), `version ${v} does not route chat to backend ${match[2]}`);
  return v;
}

// One non-streaming request; resolves with the upstream model that answered.
async function complete(client, model) {
  const data = await client.chat.completions.create({
    model, messages, mock: { tokens: TOKENS, latency_ms: LATENCY_MS },
  });
  assert.equal(data.object, "chat.completion");
  assert.ok(data.choices[0].message.content.length > 0, "a completion");
  assert.equal(data.choices[0].finish_reason, "stop");
  assert.equal(data.usage.completion_tokens, TOKENS);
  return data.model;
}

// One stream, read to its end with the SDK; asserts every token, the finish chunk and the
// usage chunk arrived; resolves with the upstream model that answered.
async function streamToEnd(client, model) {
  const stream = await client.chat.completions.create({
    model, messages, stream: true, stream_options: { include_usage: true },
    mock: { tokens: TOKENS, itl_ms: STREAM_ITL_MS },
  });
  const models = new Set();
  let tokens = 0;
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    models.add(chunk.model);
    if (chunk.choices[0]?.delta?.content) tokens += 1;
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(tokens, TOKENS, "every content chunk");
  assert.equal(finish, "stop", "the final chunk");
  assert.equal(usage?.completion_tokens, TOKENS, "the usage chunk");
  assert.equal(models.size, 1, `one upstream model per stream: ${[...models]}`);
  return [...models][0];
}

// Sends requests in a loop until state.stop, alternating streams and plain requests over the
// models every configuration has; records each outcome with the configuration versions in
// service (confirmed) and announced (issued) when it started and ended.
async function loadClient(client, id, state, records) {
  for (let j = 0; !state.stop; ++j) {
    const model = ["chat", "default", "stable"][(id + j) % 3];
    const stream = (id + j) % 2 === 0;
    const record = { client: id, model, stream, confirmedAtStart: state.confirmed };
    try {
      record.upstreamModel = stream ? await streamToEnd(client, model) : await complete(client, model);
      record.version = servedVersion(model, record.upstreamModel);
    } catch (error) {
      record.error = `${error?.constructor?.name}: ${error?.message}`;
    }
    record.confirmedAtEnd = state.confirmed;
    record.issuedAtEnd = state.issued;
    records.push(record);
  }
}

const countMatches = (text, pattern) => (text.match(pattern) ?? []).length;

describe("hot reload", () => {
  let stack;
  let client;
  let apiKey;

  before(async () => {
    stack = await startReloadStack({ initialRouting: (mocks) => routing(mocks, 1) });
    apiKey = (await stack.createKey({ name: "reload-load" })).secret;
    client = new OpenAI({ baseURL: stack.baseURL, apiKey, maxRetries: 0, timeout: 10000 });
  }, { timeout: 30000 });

  let stoppedOnPurpose = false;
  after(async () => {
    if (stack && !stoppedOnPurpose) {
      const ended = stack.gatewayEnded();
      const { code, signal } = await stack.stopGateway();
      if (ended || code !== 0) {
        // It crashed: show why (a sanitizer report, say) beside the failed tests.
        const output = stack.gatewayOutput();
        const report = output.search(/==\d+==ERROR|runtime error:/);
        console.error(`the gateway ended with ${code ?? signal}; its output:\n` +
          (report >= 0 ? output.slice(report, report + 8000) : output.slice(-8000)));
      }
    }
    await stack?.dispose();
  });

  const mockStats = async (url) => (await fetch(url.replace(/\/v1$/, "/mock/stats"))).json();

  test("20 reloads (SIGHUP, file watch, admin API; one invalid) under load: zero failed requests",
    { timeout: 60000 }, async (t) => {
      const initial = await stack.status();
      assert.equal(initial.config.version, 1);
      assert.deepEqual([initial.config.reloads.accepted, initial.config.reloads.rejected], [0, 0]);
      assert.equal(initial.config.watching_file, true);

      const state = { stop: false, confirmed: 1, issued: 1 };
      const records = [];
      const clients = Array.from({ length: CLIENTS }, (_, i) => loadClient(client, i, state, records));
      const expected = { accepted: 0, rejected: 0 };
      let version = 1;
      let invalidAnswer = null;
      try {
        await sleep(300);  // the load is running before the first reload
        for (let step = 1; step <= RELOADS; ++step) {
          const began = Date.now();
          const trigger = TRIGGERS[(step - 1) % 3];
          const invalid = step === INVALID_STEP;
          const next = invalid ? version : version + 1;
          const text = stack.configText(routing(stack.mocks, next, { final: step === RELOADS, invalid }));
          state.issued = next;
          if (trigger === "file watch") stack.swapLink(text);
          else stack.replaceTarget(text);
          if (trigger === "SIGHUP") stack.sighup();
          if (trigger === "admin API") {
            const { status, body } = await stack.admin("POST", "/admin/config/reload");
            if (invalid) {
              assert.equal(status, 400, `invalid file: ${JSON.stringify(body)}`);
              invalidAnswer = body;
            } else {
              assert.equal(status, 200, `step ${step}: ${JSON.stringify(body)}`);
              assert.equal(body.version, next);
              assert.equal(body.unchanged, false);
            }
          }
          if (invalid) ++expected.rejected;
          else ++expected.accepted;
          const seen = await stack.waitForReloads(expected);
          assert.equal(seen.config.version, next, `step ${step} (${trigger})`);
          assert.equal(seen.config.reloads.last.trigger, trigger);
          assert.equal(seen.config.reloads.last.ok, !invalid);
          version = next;
          state.confirmed = next;
          await sleep(Math.max(0, began + 150 + Math.random() * 100 - Date.now()));
        }
        await sleep(300);  // and keeps running on the last configuration
      } finally {
        state.stop = true;
        await Promise.all(clients);
      }

      // Zero failed requests, and enough of them, streams among them, crossing reloads.
      const failed = records.filter((r) => r.error);
      assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of ${records.length} requests failed`);
      const streams = records.filter((r) => r.stream);
      const crossing = streams.filter((r) => r.confirmedAtEnd > r.confirmedAtStart);
      assert.ok(records.length >= 60, `only ${records.length} requests`);
      assert.ok(crossing.length >= 10, `only ${crossing.length} of ${streams.length} streams spanned a reload`);
      // Each chat response came from a version in service while the request ran: not older
      // than the one confirmed before it was sent, not newer than the last one announced.
      const misrouted = records.filter((r) => r.version !== null &&
        (r.version < r.confirmedAtStart || r.version > r.issuedAtEnd));
      assert.deepEqual(misrouted.slice(0, 5), [], `${misrouted.length} responses from a version not in service`);
      const versionsServed = new Set(records.map((r) => r.version).filter((v) => v !== null));
      assert.ok(versionsServed.size >= 10, `chat was served by only ${versionsServed.size} versions`);
      t.diagnostic(`${records.length} requests (${streams.length} streams, ${crossing.length} spanning a ` +
        `reload), chat served by ${versionsServed.size} versions, 0 failed`);

      // The counters and version are exactly what the test did.
      const final = await stack.status();
      assert.equal(final.config.version, 20);
      assert.deepEqual([final.config.reloads.accepted, final.config.reloads.rejected], [19, 1]);
      assert.deepEqual(final.config.reloads.last.errors, []);
      assert.deepEqual(final.models.map((m) => m.name).sort(), ["chat", "stable"]);
      assert.deepEqual(final.models.find((m) => m.name === "chat").aliases.sort(), ["default", "final-only"]);
      // Live state carried over: `stable` never changed, so its deployment kept counting
      // through the last nine reloads (rebuilt state would count only since the last one).
      const stableLate = records.filter((r) => r.model === "stable" && r.confirmedAtStart >= 11).length;
      const [stableDeployment] = final.models.find((m) => m.name === "stable").deployments;
      assert.ok(stableLate >= 10, `only ${stableLate} late requests for stable`);
      assert.ok(stableDeployment.recent_requests >= stableLate,
        `stable's statistics restarted: ${stableDeployment.recent_requests} recent requests, ${stableLate} sent`);
      t.diagnostic(`stable: ${stableDeployment.recent_requests} recent requests counted, ${stableLate} sent after version 11`);

      // The invalid file: 400 naming the problem, a log line, and the old config stayed.
      assert.match(invalidAnswer.error.message, /version 11 stays in service/);
      assert.match(invalidAnswer.error.message, /nowhere/);
      const output = stack.gatewayOutput();
      assert.equal(countMatches(output, /configuration reloaded \(/g), 19);
      assert.equal(countMatches(output, /configuration reload \([^)]*\) rejected/g), 1);
      assert.match(output, /configuration reload \(admin API\) rejected; still serving version 11 \(sha256:/);
      assert.match(output, /configuration reloaded \(admin API\): version 20 \(sha256:/);
      for (const trigger of TRIGGERS) {
        assert.match(output, new RegExp(`configuration reloaded \\(${trigger}\\): version \\d+`));
      }

      // After the last reload, requests see the last configuration.
      assert.match(await complete(client, "final-only"), /^chat-v20-[ab]$/);
      assert.match(await streamToEnd(client, "default"), /^chat-v20-[ab]$/);
      for (const gone of ["retired", "parity-even", "parity-odd"]) {
        await assert.rejects(client.chat.completions.create({ model: gone, messages }), (error) => {
          assert.ok(error instanceof OpenAI.NotFoundError, `${gone}: got ${error?.constructor?.name}`);
          assert.equal(error.code, "model_not_found");
          return true;
        });
      }
      const listed = [];
      for await (const model of client.models.list()) listed.push(model.id);
      assert.ok(listed.includes("chat") && listed.includes("stable"), `models: ${listed}`);

      // The upstreams saw no stream abandoned by the gateway.
      for (const url of [stack.mocks.a, stack.mocks.b]) {
        const stats = await mockStats(url);
        assert.equal(stats.streams_client_aborted, 0, `${url}: ${JSON.stringify(stats)}`);
        assert.equal(stats.streams_started, stats.streams_completed, `${url}: ${JSON.stringify(stats)}`);
      }
    });

  test("a change to a restart-only section is refused with 400 naming it; the version stays",
    { timeout: 20000 }, async () => {
      const before = await stack.status();
      const { version } = before.config;
      const { accepted, rejected } = before.config.reloads;
      stack.replaceTarget(stack.configText(routing(stack.mocks, version + 1),
        { serverExtra: "  max_body_bytes: 1MiB\n" }));
      const { status, body } = await stack.admin("POST", "/admin/config/reload");
      assert.equal(status, 400, JSON.stringify(body));
      assert.match(body.error.message, /section 'server' changed; it only takes effect at a restart/);
      assert.match(body.error.message, new RegExp(`version ${version} stays in service`));
      const after = await stack.waitForReloads({ accepted, rejected: rejected + 1 });
      assert.equal(after.config.version, version);
      assert.equal(after.config.content_id, before.config.content_id);
      assert.equal(after.config.reloads.last.ok, false);
      assert.match(after.config.reloads.last.errors.join("\n"), /'server'/);
      // Still the previous configuration (its alias final-only) and its body limit.
      assert.match(await complete(client, "final-only"), new RegExp(`^chat-v${version}-[ab]$`));
    });

  test("a stream whose model and backend a reload removes finishes; new requests get 404",
    { timeout: 20000 }, async () => {
      const { version, reloads } = (await stack.status()).config;
      // Version+1: chat on a only, and `ephemeral` on b. Version+2: neither ephemeral nor b.
      const withEphemeral = `${routing(stack.mocks, version + 1).replace(/  - name: chat[\s\S]*$/, "")}  - name: chat
    backend: a
    upstream_model: chat-v${version + 1}-a
  - name: stable
    backend: a
  - name: ephemeral
    backend: b
    upstream_model: ephemeral-up
`;
      stack.replaceTarget(stack.configText(withEphemeral));
      let answer = await stack.admin("POST", "/admin/config/reload");
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.version, version + 1);

      // A slow stream on ephemeral (40 tokens, 25 ms apart: ~1 s), read raw to see [DONE].
      const response = await client.chat.completions.create({
        model: "ephemeral", messages, stream: true, stream_options: { include_usage: true },
        mock: { tokens: 40, itl_ms: 25 },
      }).asResponse();
      assert.equal(response.status, 200);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let text = "";
      const contentChunks = () => countMatches(text, /"delta":\{"content":"[^"]+"\}/g);
      while (contentChunks() < 3) {
        const { value, done } = await reader.read();
        assert.ok(!done, `stream ended early: ${text}`);
        text += decoder.decode(value, { stream: true });
      }

      const without = `backends:
  - name: a
    url: ${stack.mocks.a}
models:
  - name: chat
    aliases: [default]
    backend: a
    upstream_model: chat-v${version + 2}-a
  - name: stable
    backend: a
`;
      stack.replaceTarget(stack.configText(without));
      answer = await stack.admin("POST", "/admin/config/reload");
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.version, version + 2);
      const beforeReloadDone = contentChunks();
      await assert.rejects(client.chat.completions.create({ model: "ephemeral", messages }), (error) => {
        assert.ok(error instanceof OpenAI.NotFoundError, `got ${error?.constructor?.name}`);
        assert.equal(error.status, 404);
        assert.equal(error.code, "model_not_found");
        return true;
      });
      assert.ok(contentChunks() < 40, "the stream was still running when its model went");

      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      const events = text.split("\n\n").filter((e) => e.length > 0);
      assert.equal(events.at(-1), "data: [DONE]", `the stream ends with [DONE]: ${events.at(-1)}`);
      const chunks = events.slice(0, -1).map((e) => {
        assert.ok(e.startsWith("data: "), `an SSE data event: ${e}`);
        return JSON.parse(e.slice("data: ".length));
      });
      assert.ok(chunks.every((c) => c.model === "ephemeral-up" && !c.error), "chunks of the old deployment");
      assert.equal(contentChunks(), 40, `all 40 content chunks (${beforeReloadDone} before the reload)`);
      assert.equal(chunks.filter((c) => c.choices[0]?.finish_reason === "stop").length, 1);
      assert.equal(chunks.at(-1).usage.completion_tokens, 40);
      const status = await stack.status();
      assert.equal(status.config.version, version + 2);
      assert.deepEqual([status.config.reloads.accepted, status.config.reloads.rejected],
        [reloads.accepted + 2, reloads.rejected]);
      const stats = await mockStats(stack.mocks.b);
      assert.equal(stats.streams_client_aborted, 0, JSON.stringify(stats));
    });

  test("the watch also sees a regular file replaced by rename and one rewritten in place",
    { timeout: 20000 }, async () => {
      const { version, reloads } = (await stack.status()).config;
      stack.replaceWithRegularFile(stack.configText(routing(stack.mocks, version + 1)));
      let seen = await stack.waitForReloads({ accepted: reloads.accepted + 1, rejected: reloads.rejected });
      assert.equal(seen.config.version, version + 1);
      assert.equal(seen.config.reloads.last.trigger, "file watch");
      stack.rewriteInPlace(stack.configText(routing(stack.mocks, version + 2)));
      seen = await stack.waitForReloads({ accepted: reloads.accepted + 2, rejected: reloads.rejected });
      assert.equal(seen.config.version, version + 2);
      assert.match(await complete(client, "retired"), new RegExp(`^chat-v${version + 2}-[ab]$`));
      // The watch skips what did not change: the same text again reloads nothing.
      stack.rewriteInPlace(stack.configText(routing(stack.mocks, version + 2)));
      await sleep(600);
      seen = await stack.waitForReloads({ accepted: reloads.accepted + 2, rejected: reloads.rejected });
      assert.equal(seen.config.version, version + 2);
    });

  test("a keep-alive connection idle across two reloads serves its next request", { timeout: 20000 }, async () => {
    // One connection (node:http, one socket) so the requests share it. The first request
    // pins version V; a reload during it makes V+1 the worker's version when the connection
    // starts waiting for its next request; a second reload retires V+1 while it waits.
    // (Found with an ASan build: the wait kept a reference into V+1's snapshot, which the
    // second reload freed: heap-use-after-free in Session::ReadRequest.)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (body, onHead = () => {}) => new Promise((resolve, reject) => {
      const request = http.request(`${stack.baseURL}/chat/completions`, {
        method: "POST", agent,
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      }, (response) => {
        onHead();
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (piece) => { text += piece; });
        response.on("end", () => resolve({ status: response.statusCode, text, socket: request.socket }));
        response.on("error", reject);
      });
      request.setTimeout(10000, () => request.destroy(new Error("request timed out")));
      request.on("error", reject);
      request.end(JSON.stringify({ model: "chat", messages, ...body }));
    });
    const reloadTo = async (v) => {
      stack.replaceTarget(stack.configText(routing(stack.mocks, v)));
      const { status, body } = await stack.admin("POST", "/admin/config/reload");
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.version, v);
    };
    try {
      const { version } = (await stack.status()).config;
      let headSeen;
      const head = new Promise((resolve) => { headSeen = resolve; });
      const streaming = send({ stream: true, mock: { tokens: 20, itl_ms: 25 } }, () => headSeen());
      await head;
      await reloadTo(version + 1);
      const first = await streaming;
      assert.equal(first.status, 200);
      assert.ok(first.text.endsWith("data: [DONE]\n\n"), "the stream is complete");
      assert.match(first.text, new RegExp(`"model":"chat-v${version}-[ab]"`), "served by version V");
      // By SIGHUP, seen in the log: no admin API connection may pin V+1 meanwhile.
      stack.replaceTarget(stack.configText(routing(stack.mocks, version + 2)));
      stack.sighup();
      await stack.waitForOutput(new RegExp(`configuration reloaded \\(SIGHUP\\): version ${version + 2} `));
      const second = await send({});
      assert.equal(second.status, 200, second.text);
      assert.match(second.text, new RegExp(`"model":"chat-v${version + 2}-[ab]"`));
      assert.equal(second.socket, first.socket, "both requests used one connection");
    } finally {
      agent.destroy();
    }
  });

  test("the gateway drains and exits 0 after all the reloads", { timeout: 30000 }, async () => {
    stoppedOnPurpose = true;
    const { code, signal } = await stack.stopGateway();
    const output = stack.gatewayOutput();
    assert.doesNotMatch(output, /AddressSanitizer|LeakSanitizer|runtime error:/, "no sanitizer report");
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, output.slice(-2000));
    assert.match(output, /drained; exiting/);
  });
});
