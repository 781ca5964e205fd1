// Starts N `sluice serve` processes on one configuration whose limits live in one REAL Redis
// (lib/redis.mjs, on a free loopback port), in front of one sluice-mock, for the distributed
// exactness end-to-end tests: every gateway decides through the same Redis counters, so
// together they must admit exactly what one would. Ports are chosen by the OS (port 0) and
// read back from each program's start-up line; dispose() stops everything.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executable, startProcess } from "./stack.mjs";
import { startRedis } from "./redis.mjs";

const LISTENING = /listening on http:\/\/[^\s:]+:(\d+)/;

// A fixed UTC offset under which it is about noon now, so that a test's daily budget window
// cannot end (and its counter restart from zero) while the test runs: "+03:00" at 09:xx UTC.
export function noonTimezone(now = new Date()) {
  const offset = 12 - now.getUTCHours();  // -11 ... +12, inside the accepted ±18:00
  return `${offset < 0 ? "-" : "+"}${String(Math.abs(offset)).padStart(2, "0")}:00`;
}

// The gateway configuration. `models` is a list of {name, price?: {input, output}} (USD per
// 1M tokens), all served by the mock; `limits` is YAML inside the limits: section after
// store/redis (indented by two spaces: default_max_tokens, timezone, policies...).
export function distributedConfigYaml({ mockPort, redisPort, instances, redisTimeout, models, limits }) {
  const modelYaml = models.map((m) => `  - name: ${m.name}
    backend: mock${m.price ? `\n    price: {input: ${m.price.input}, output: ${m.price.output}}` : ""}`).join("\n");
  return `server:
  listen: 127.0.0.1:0
  workers: 2
backends:
  - name: mock
    url: http://127.0.0.1:${mockPort}/v1
models:
${modelYaml}
limits:
  store: redis
  redis: {host: 127.0.0.1, port: ${redisPort}, timeout: ${redisTimeout}, instances: ${instances}}
${limits}
filters:
  - request_id: {}
  - access_log: {output: stdout}   # before rate_limit, so refusals are logged too
  - rate_limit: {}
`;
}

// Starts Redis, sluice-mock (with `mockArgs`) and `gateways` gateways sharing one config
// (redis.instances = gateways). Resolves with:
//   redis              the lib/redis.mjs handle (flushAll, pause, command...)
//   baseURLs           each gateway's model API base, e.g. http://127.0.0.1:PORT/v1
//   gatewayOutputs()   everything each gateway printed (for failure messages)
//   accessLog(model, n) the gateways' access-log entries for `model` (waits for n)
//   mockRequests()     sluice-mock's request counter (GET /mock/stats counts itself too)
//   dispose()          stops the gateways, the mock and Redis; safe to call twice
export async function startDistributedStack({ gateways = 3, models, limits, mockArgs = [],
  redisTimeout = "500ms" }) {
  // Both binaries are checked before anything starts, so that a missing one fails loudly.
  const sluice = executable("SLUICE_BIN");
  const mockBin = executable("SLUICE_MOCK_BIN");
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), "sluice-e2e-distributed-"));
  const children = [];  // {child, closed}
  const gatewaysStarted = [];
  const stopChild = async ({ child, closed }) => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await closed;
  };
  const track = (started) => {
    children.push({ child: started.child, closed: new Promise((r) => started.child.once("close", r)) });
    return started;
  };
  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    // Gateways first (they drain), then the mock, then Redis.
    await Promise.all(children.slice(1).map(stopChild));
    if (children.length > 0) await stopChild(children[0]);
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const mock = track(await startProcess(mockBin, ["--listen", "127.0.0.1:0", "--workers", "1", ...mockArgs]));
    const config = join(dir, "sluice.yaml");
    writeFileSync(config, distributedConfigYaml({ mockPort: mock.port, redisPort: redis.port,
      instances: gateways, redisTimeout, models, limits }));
    // Started one after the other: a failure then leaves nothing half-started untracked.
    for (let i = 0; i < gateways; i++) {
      gatewaysStarted.push(track(await startProcess(sluice, ["serve", "--config", config], {}, LISTENING)));
    }
    const mockURL = `http://127.0.0.1:${mock.port}`;
    return {
      redis,
      baseURLs: gatewaysStarted.map((g) => `http://127.0.0.1:${g.port}/v1`),
      gatewayOutputs: () => gatewaysStarted.map((g) => g.output()),
      // The access-log entries (parsed JSON lines) every gateway printed for `model`, each
      // with `gateway` (its index) added; waits (bounded) until there are `count`, since
      // the log is written by a background thread after the response.
      async accessLog(model, count, timeoutMs = 10000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          // Complete lines only: the last piece may be a line still being written.
          const entries = gatewaysStarted.flatMap((g, gateway) => g.output().split("\n").slice(0, -1)
            .filter((line) => line.startsWith("{"))
            .map((line) => ({ gateway, ...JSON.parse(line) }))
            .filter((entry) => entry.model === model));
          if (entries.length >= count || Date.now() > deadline) return entries;
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      async mockRequests() {
        const response = await fetch(`${mockURL}/mock/stats`, { signal: AbortSignal.timeout(5000) });
        if (response.status !== 200) throw new Error(`GET /mock/stats answered ${response.status}`);
        return (await response.json()).requests;
      },
      dispose,
    };
  } catch (error) {
    await dispose().catch(() => {});
    throw error;
  }
}
