// End to end: a real Prometheus scrapes sluice's /metrics on the admin listener every second
// while the official `openai` SDK sends a bounded load (plain and streamed chat
// completions). PromQL over Prometheus's HTTP API must then count exactly the requests and
// the tokens the SDK received, the target must be up, /metrics must pass `promtool check
// metrics`, and every expression of the Grafana dashboard must evaluate (the main panels
// with data). A fixed exposition served by a small Node server, scraped by the same
// Prometheus, proves the harness itself.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { executable, mockGatewayYaml, startProcess } from "./lib/stack.mjs";
import { promtoolCheckMetrics, startPrometheus } from "./lib/prometheus.mjs";

const ADMIN_READY = /admin API on http:\/\/[^\s:]+:(\d+)/;
const LISTENING = /listening on http:\/\/[^\s:]+:(\d+)/;
const REQUESTS = 60;
const STREAMED = 20;  // every third request
const CONCURRENCY = 6;

// A valid exposition with known values: the harness must read them back exactly.
const FIXTURE = `# HELP fixture_requests_total Requests finished.
# TYPE fixture_requests_total counter
fixture_requests_total{route="chat_completions",status_class="2xx"} 41
fixture_requests_total{route="chat_completions",status_class="5xx"} 1
# HELP fixture_latency_seconds Request latency.
# TYPE fixture_latency_seconds histogram
fixture_latency_seconds_bucket{le="0.1"} 5
fixture_latency_seconds_bucket{le="1"} 9
fixture_latency_seconds_bucket{le="+Inf"} 10
fixture_latency_seconds_sum 4.5
fixture_latency_seconds_count 10
`;

let fixture;        // the Node server serving FIXTURE
let fixturePort;
let mock;           // sluice-mock
let gateway;        // sluice
let gatewayClosed;
let mockClosed;
let adminPort;
let dir;
let prometheus;

function gatewayYaml(mockPort) {
  return `${mockGatewayYaml(mockPort)}auth:
  bootstrap: {admin_key: false}
store:
  sqlite: ${join(dir, "sluice.db")}
admin:
  listen: 127.0.0.1:0
filters:
  - request_id: {}
  - access_log: {output: stdout}
`;
}

before(async () => {
  const sluice = executable("SLUICE_BIN");
  const mockBin = executable("SLUICE_MOCK_BIN");
  fixture = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(FIXTURE);
  });
  await new Promise((r) => fixture.listen(0, "127.0.0.1", r));
  fixturePort = fixture.address().port;

  mock = await startProcess(mockBin, ["--listen", "127.0.0.1:0", "--workers", "1", "--tokens", "9",
    "--itl-ms", "1"]);
  mockClosed = new Promise((r) => mock.child.once("close", r));
  dir = mkdtempSync(join(tmpdir(), "sluice-e2e-prometheus-gw-"));
  const config = join(dir, "sluice.yaml");
  writeFileSync(config, gatewayYaml(mock.port));
  gateway = await startProcess(sluice, ["serve", "--config", config], {}, ADMIN_READY);
  gatewayClosed = new Promise((r) => gateway.child.once("close", r));
  adminPort = gateway.port;

  prometheus = await startPrometheus({
    jobs: [
      { name: "fixture", targets: [`127.0.0.1:${fixturePort}`] },
      { name: "sluice", targets: [`127.0.0.1:${adminPort}`] },
    ],
    scrapeInterval: "1s",
  });
});

after(async () => {
  await prometheus?.stop();
  for (const [p, closed] of [[gateway, gatewayClosed], [mock, mockClosed]]) {
    if (p && p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
    if (closed) await closed;
  }
  await new Promise((r) => (fixture ? fixture.close(r) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `promql` until it returns `expected` (bounded); resolves with the last value read.
async function valueEventually(promql, expected, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let value = null;
  while (Date.now() < deadline) {
    value = await prometheus.queryValue(promql);
    if (value === expected) return value;
    await sleep(250);
  }
  return value;
}

test("the harness reads a fixed exposition back exactly", async () => {
  await prometheus.waitForScrapeAfter("fixture", Date.now());
  assert.equal(await prometheus.queryValue('sum(fixture_requests_total{job="fixture"})'), 42);
  assert.equal(await prometheus.queryValue(
    'fixture_requests_total{job="fixture",status_class="5xx"}'), 1);
  assert.equal(await prometheus.queryValue('fixture_latency_seconds_count{job="fixture"}'), 10);
  // Rank 7 of 10 lies in (0.1, 1] holding 4 observations above 5: 0.1 + 0.9 * 2/4.
  const q70 = await prometheus.queryValue(
    'histogram_quantile(0.7, fixture_latency_seconds_bucket{job="fixture"})');
  assert.ok(Math.abs(q70 - 0.55) < 1e-9, `p70 ${q70}`);
  assert.equal(await prometheus.queryValue('up{job="fixture"}'), 1);
  await assert.rejects(prometheus.query("sum(("), /bad_data/, "a PromQL error rejects");
  // promtool accepts the fixture and rejects a counter without _total.
  const good = await promtoolCheckMetrics(FIXTURE);
  assert.equal(good.code, 0, good.output);
  const bad = await promtoolCheckMetrics("# HELP requests Requests.\n# TYPE requests counter\nrequests 1\n");
  assert.notEqual(bad.code, 0, "promtool check metrics flags a counter without _total");
});

test("PromQL over the scraped /metrics counts the requests and tokens the SDK saw", async () => {
  const client = new OpenAI({
    baseURL: `http://127.0.0.1:${gateway.output().match(LISTENING)[1]}/v1`,
    apiKey: "e2e-unused",
    maxRetries: 0,
    timeout: 30000,
  });
  let inputTokens = 0;
  let outputTokens = 0;
  let streamed = 0;
  const one = async (i) => {
    // Prompts of different lengths, so that token counts differ between requests.
    const messages = [{ role: "user", content: `Request ${i}: ${"tell me more ".repeat(i % 7)}` }];
    if (i % 3 === 0) {
      const stream = await client.chat.completions.create({
        model: i % 2 === 0 ? "gpt-4o-mini" : "gpt-4o", messages, stream: true,
        stream_options: { include_usage: true },
      });
      let usage = null;
      for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
      assert.ok(usage, `stream ${i} ended with usage`);
      inputTokens += usage.prompt_tokens;
      outputTokens += usage.completion_tokens;
      streamed += 1;
    } else {
      const completion = await client.chat.completions.create({
        model: i % 2 === 0 ? "gpt-4o-mini" : "gpt-4o", messages,
      });
      inputTokens += completion.usage.prompt_tokens;
      outputTokens += completion.usage.completion_tokens;
    }
  };
  for (let start = 0; start < REQUESTS; start += CONCURRENCY) {
    const batch = [];
    for (let i = start; i < Math.min(start + CONCURRENCY, REQUESTS); ++i) batch.push(one(i));
    await Promise.all(batch);
  }
  const loopEnd = Date.now();
  assert.equal(streamed, STREAMED);
  assert.ok(inputTokens > REQUESTS && outputTokens === REQUESTS * 9,
    `usage received: ${inputTokens} in, ${outputTokens} out`);

  await prometheus.waitForScrapeAfter("sluice", loopEnd);
  const requests = 'sum(sluice_requests_total{job="sluice",route="chat_completions"})';
  const input = 'sum(sluice_tokens_total{job="sluice",type="input"})';
  const output = 'sum(sluice_tokens_total{job="sluice",type="output"})';
  assert.equal(await valueEventually(requests, REQUESTS), REQUESTS, requests);
  assert.equal(await valueEventually(input, inputTokens), inputTokens, input);
  assert.equal(await valueEventually(output, outputTokens), outputTokens, output);
  // Still so on a later scrape: nothing counted twice.
  await prometheus.waitForScrapeAfter("sluice", Date.now());
  assert.equal(await prometheus.queryValue(requests), REQUESTS);
  assert.equal(await prometheus.queryValue(
    'sum(sluice_requests_total{job="sluice",route="chat_completions",status_class="2xx"})'), REQUESTS);
  assert.equal(await prometheus.queryValue(input), inputTokens);
  assert.equal(await prometheus.queryValue(output), outputTokens);
  assert.equal(await prometheus.queryValue(
    'sum(sluice_gen_ai_server_time_to_first_token_seconds_count{job="sluice"})'), STREAMED);
  assert.equal(await prometheus.queryValue(
    'sum(sluice_gen_ai_client_token_usage_sum{job="sluice",gen_ai_token_type="output"})'), outputTokens);
  assert.equal(await prometheus.queryValue('up{job="sluice"}'), 1);
});

test("/metrics passes promtool check metrics", async () => {
  const response = await fetch(`http://127.0.0.1:${adminPort}/metrics`, { signal: AbortSignal.timeout(10000) });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type"), /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  assert.match(text, /^# TYPE sluice_requests_total counter$/m);
  assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
  const { code, output } = await promtoolCheckMetrics(text);
  assert.equal(code, 0, `promtool check metrics:\n${output}`);
});

// The dashboard's variables as Grafana would fill them (all values), for a query now.
function substitute(expr) {
  return expr.replaceAll("$__rate_interval", "5m").replaceAll("$__range", "5m")
    .replaceAll("$instance", ".*").replaceAll("$route", ".*").replaceAll("$model", ".*");
}

test("every dashboard expression evaluates, and the main panels have data", async () => {
  const dashboard = JSON.parse(readFileSync(
    new URL("../../deploy/monitoring/grafana/sluice-dashboard.json", import.meta.url), "utf8"));
  const panels = dashboard.panels.filter((p) => p.type !== "row");
  const results = new Map();
  for (const panel of panels) {
    let series = 0;
    for (const target of panel.targets) {
      const result = await prometheus.query(substitute(target.expr)).catch((error) => {
        throw new Error(`panel "${panel.title}": ${target.expr}: ${error.message}`);
      });
      series += Array.isArray(result) ? result.length : 1;
    }
    results.set(panel.title, series);
  }
  for (const title of ["Requests/s", "p95 latency", "p95 gateway overhead", "In flight",
    "Request rate by status class", "Request latency", "Gateway overhead",
    "Time to first token p95 by model", "Tokens/s by model", "In flight and open streams",
    "CPU", "Memory", "Open file descriptors", "Uptime"]) {
    assert.ok(results.has(title), `the dashboard has a panel "${title}"`);
    assert.ok(results.get(title) > 0, `panel "${title}" shows data`);
  }
});
