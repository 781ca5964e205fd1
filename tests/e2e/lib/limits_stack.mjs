// Starts Sluice with a SQLite store (usage records journaled in `<db>.usage/` and exported
// into usage_records), optionally identity (auth:, admin:) and a limits: section with the
// rate_limit filter, in front of sluice-mock, for the traffic-control and usage-durability
// end-to-end tests. The gateway can be killed (SIGKILL) and restarted on the same config and
// store; the store is read with the sqlite3 CLI (a missing CLI fails the test).
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import assert from "node:assert/strict";
import { executable, mockGatewayYaml, startProcess } from "./stack.mjs";

const run = promisify(execFile);
const LISTENING = /listening on http:\/\/[^\s:]+:(\d+)/;
const ADMIN_READY = /admin API on http:\/\/[^\s:]+:(\d+)/;


// Models gpt-4o-mini (alias default), gpt-4o and text-embedding-3-small, all on the mock.
// `limits` is YAML inside the limits: section (indented by two spaces); empty: no section.
function configYaml({ mockPort, dbPath, auth, limits }) {
  const filters = ["request_id: {}"];
  if (auth) filters.push("auth: {}", "authorize: {}");
  if (limits) filters.push("rate_limit: {}");
  filters.push("access_log: {output: stdout}");
  return `${mockGatewayYaml(mockPort)}${auth ? "auth:\n  bootstrap: {admin_key: false}\nadmin:\n  listen: 127.0.0.1:0\n" : ""}store:
  sqlite: ${dbPath}
${limits ? `limits:\n${limits}\n` : ""}filters:
${filters.map((f) => `  - ${f}`).join("\n")}
`;
}

// Starts sluice-mock (with `mockArgs`) and the gateway. With `auth`, the first admin key
// comes from `sluice admin bootstrap` run before the gateway starts, and createKey() makes
// application keys through the admin API.
export async function startLimitsStack({ auth = false, limits = "", mockArgs = [] } = {}) {
  // Both binaries are checked before anything starts, so that a missing one fails loudly.
  const sluice = executable("SLUICE_BIN");
  const mock = await startProcess(executable("SLUICE_MOCK_BIN"),
    ["--listen", "127.0.0.1:0", "--workers", "1", ...mockArgs]);
  const mockClosed = new Promise((r) => mock.child.once("close", r));
  const dir = mkdtempSync(join(tmpdir(), "sluice-e2e-limits-"));
  const dbPath = join(dir, "sluice.db");
  const config = join(dir, "sluice.yaml");
  let adminKey = null;
  let gateway = null;
  let gatewayClosed = null;
  let gatewayPort = 0;
  let adminPort = 0;
  // Everything every gateway run printed, runs separated by a marker line.
  let earlierOutput = "";

  const startGateway = async () => {
    assert.equal(gateway, null, "the gateway is not running");
    const started = await startProcess(sluice, ["serve", "--config", config], {},
      auth ? ADMIN_READY : LISTENING);
    gateway = started;
    gatewayClosed = new Promise((r) => started.child.once("close", r));
    gatewayPort = Number(started.output().match(LISTENING)[1]);
    if (auth) adminPort = started.port;
  };

  // Ends the running gateway with `signal` and resolves once its output is all read.
  const endGateway = async (signal) => {
    if (gateway === null) return;
    const { child, output } = gateway;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await gatewayClosed;
    earlierOutput += `${output()}\n---- gateway ended (${signal}) ----\n`;
    gateway = null;
  };

  try {
    writeFileSync(config, configYaml({ mockPort: mock.port, dbPath, auth, limits }));
    if (auth) {
      try {
        const { stdout } = await run(sluice, ["admin", "bootstrap", "--config", config], { timeout: 20000 });
        adminKey = stdout.trim();
      } catch (error) {
        throw new Error(`sluice admin bootstrap failed: ${error.message}\n${error.stderr ?? ""}`);
      }
      assert.match(adminKey, /^sk-sl-[0-9A-Za-z]+$/, "admin bootstrap prints the key alone on stdout");
    }
    await startGateway();
  } catch (error) {
    mock.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const admin = async (method, path, body) => {
    const response = await fetch(`http://127.0.0.1:${adminPort}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminKey}`,
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10000),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };

  return {
    dbPath,
    journalDir: `${dbPath}.usage`,
    // The running gateway's model API base (changes on every restart: port 0).
    get baseURL() { return `http://127.0.0.1:${gatewayPort}/v1`; },
    get gatewayProcess() { return gateway?.child ?? null; },
    // Everything every gateway run printed so far (stdout and stderr).
    gatewayOutput: () => earlierOutput + (gateway ? gateway.output() : ""),
    // Creates an application key (auth only); resolves with the admin API's JSON.
    async createKey(fields) {
      assert.ok(auth, "createKey needs a stack started with auth");
      const { status, body } = await admin("POST", "/admin/keys", fields);
      assert.equal(status, 201, `POST /admin/keys: ${JSON.stringify(body)}`);
      assert.match(body.secret, /^sk-sl-/);
      return body;
    },
    // Starts the gateway again on the same config and store (after kill() or stop()).
    restart: startGateway,
    // SIGKILL: no drain, no final export; what is journaled stays for the next start.
    kill: () => endGateway("SIGKILL"),
    // SIGTERM: graceful stop (the exporter exports everything durable before exit).
    stopGateway: () => endGateway("SIGTERM"),
    // Journal segment files currently in the journal directory.
    journalSegments: () => {
      try {
        return readdirSync(`${dbPath}.usage`).filter((name) => name.endsWith(".journal"));
      } catch {
        return [];
      }
    },
    // Runs `sql` on the store with the sqlite3 CLI; resolves with its output lines.
    async query(sql) {
      const { stdout } = await run("sqlite3", ["-batch", "-noheader", "-cmd", ".timeout 5000", dbPath, sql],
        { timeout: 15000, maxBuffer: 16 << 20 });
      return stdout.split("\n").filter((line) => line.length > 0);
    },
    // Stops the gateway and the mock, then removes the temporary directory; safe to call twice.
    async dispose() {
      await endGateway("SIGTERM");
      if (mock.child.exitCode === null && mock.child.signalCode === null) mock.child.kill("SIGTERM");
      await mockClosed;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
