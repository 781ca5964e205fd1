// A real Prometheus server (Debian's /usr/bin/prometheus, or PROMETHEUS_BIN) for end-to-end
// tests: started on a free loopback port with a temporary configuration and storage
// directory, scraping the given targets every second; PromQL over its HTTP API; stopped and
// removed afterwards. Also `promtool check metrics` on an exposition text. A missing binary
// fails loudly.
import { spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus";
const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? "/usr/bin/promtool";

function requireExecutable(path, what) {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${what} ${path} is not an executable file (install Debian's prometheus package: ` +
      "scripts/install-deps test)");
  }
  return path;
}

// A port the OS says is free now (Prometheus cannot report a port 0 it picked itself).
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// `jobs`: [{name, targets: ["127.0.0.1:port"], path = "/metrics"}].
function configYaml(jobs, scrapeInterval) {
  const scrapeConfigs = jobs.map(({ name, targets, path = "/metrics" }) => `  - job_name: ${name}
    metrics_path: ${path}
    static_configs:
      - targets: [${targets.map((t) => JSON.stringify(t)).join(", ")}]`).join("\n");
  return `global:
  scrape_interval: ${scrapeInterval}
  scrape_timeout: ${scrapeInterval}
  evaluation_interval: ${scrapeInterval}
scrape_configs:
${scrapeConfigs}
`;
}

// Starts Prometheus scraping `jobs` every `scrapeInterval`; resolves once /-/ready answers.
// Returns {url, query, queryValue, targets, waitForScrapeAfter, output, stop}.
export async function startPrometheus({ jobs, scrapeInterval = "1s" }) {
  const bin = requireExecutable(PROMETHEUS_BIN, "PROMETHEUS_BIN");
  const dir = mkdtempSync(join(tmpdir(), "sluice-e2e-prometheus-"));
  const config = join(dir, "prometheus.yml");
  writeFileSync(config, configYaml(jobs, scrapeInterval));

  let child = null;
  let output = "";
  let url = "";
  // The port may be taken between freePort() and Prometheus binding it: try a few.
  for (let attempt = 0; attempt < 3 && child === null; ++attempt) {
    const port = await freePort();
    const candidate = spawn(bin, [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=1h",
      "--log.level=info",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    let attemptOutput = "";
    candidate.stdout.on("data", (d) => { attemptOutput += d.toString(); });
    candidate.stderr.on("data", (d) => { attemptOutput += d.toString(); });
    const exited = new Promise((r) => candidate.once("exit", (code) => r(code)));
    const candidateUrl = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30000;
    let ready = false;
    while (!ready && Date.now() < deadline && candidate.exitCode === null) {
      try {
        const response = await fetch(`${candidateUrl}/-/ready`, { signal: AbortSignal.timeout(1000) });
        ready = response.status === 200;
      } catch {
        // not listening yet
      }
      if (!ready) await Promise.race([sleep(100), exited]);
    }
    output += attemptOutput;
    if (ready) {
      child = candidate;
      url = candidateUrl;
      candidate.stdout.on("data", (d) => { output += d.toString(); });
      candidate.stderr.on("data", (d) => { output += d.toString(); });
      break;
    }
    if (candidate.exitCode === null) {
      candidate.kill("SIGKILL");
      await exited;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`prometheus did not become ready in 30 s:\n${attemptOutput}`);
    }
    if (!/address already in use/.test(attemptOutput)) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`prometheus exited with ${candidate.exitCode}:\n${attemptOutput}`);
    }
  }
  if (child === null) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`prometheus found no free port:\n${output}`);
  }
  const closed = new Promise((r) => child.once("close", r));

  const api = async (path, params = {}) => {
    const query = new URLSearchParams(params).toString();
    const response = await fetch(`${url}${path}${query ? `?${query}` : ""}`,
      { signal: AbortSignal.timeout(10000) });
    const body = await response.json();
    if (body.status !== "success") {
      throw new Error(`${path} ${JSON.stringify(params)}: ${body.errorType}: ${body.error}`);
    }
    return body.data;
  };

  // An instant query; resolves with the result vector [{metric, value: [t, "v"]}] (or the
  // scalar/string value). A PromQL error rejects.
  const query = async (promql) => (await api("/api/v1/query", { query: promql })).result;

  // The single number an instant query returns (sum(...) and the like); null when the
  // vector is empty. More than one series rejects.
  const queryValue = async (promql) => {
    const result = await query(promql);
    if (!Array.isArray(result)) return Number(result[1]);
    if (result.length === 0) return null;
    if (result.length > 1) throw new Error(`${promql}: ${result.length} series, expected one`);
    return Number(result[0].value[1]);
  };

  // The active targets: [{job, instance, health, lastScrape (ms), lastError}].
  const targets = async () => (await api("/api/v1/targets", { state: "active" })).activeTargets
    .map((t) => ({
      job: t.labels.job,
      instance: t.labels.instance,
      health: t.health,
      lastScrape: Date.parse(t.lastScrape),
      lastError: t.lastError,
    }));

  // Resolves once every target of `job` has been scraped successfully by a scrape that
  // started after `afterMs` (Date.now() units); rejects after `timeoutMs`.
  const waitForScrapeAfter = async (job, afterMs, { timeoutMs = 20000 } = {}) => {
    const deadline = Date.now() + timeoutMs;
    let last = [];
    while (Date.now() < deadline) {
      last = (await targets()).filter((t) => t.job === job);
      if (last.length > 0 && last.every((t) => t.health === "up" && t.lastScrape > afterMs)) return last;
      await sleep(200);
    }
    throw new Error(`no successful scrape of job ${job} after ${new Date(afterMs).toISOString()} ` +
      `within ${timeoutMs} ms: ${JSON.stringify(last)}`);
  };

  // Stops Prometheus (SIGTERM, SIGKILL after 10 s) and removes its directory; safe twice.
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
      await closed;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  return { url, query, queryValue, targets, waitForScrapeAfter, output: () => output, stop };
}

// Runs `promtool check metrics` with `text` on stdin; resolves with {code, output}.
export function promtoolCheckMetrics(text) {
  const bin = requireExecutable(PROMTOOL_BIN, "PROMTOOL_BIN");
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => { output += d.toString(); });
    child.stderr.on("data", (d) => { output += d.toString(); });
    const timer = setTimeout(() => child.kill("SIGKILL"), 30000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
    child.stdin.end(text);
  });
}
