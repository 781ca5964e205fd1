// Starts Sluice with identity and access on (auth:, store: and admin: sections, the chain
// request_id → auth → authorize → access_log) in front of sluice-mock, for end-to-end
// tests. The first admin key comes from `sluice admin bootstrap` run before the gateway
// starts (the gateway's own bootstrap is off); helpers call the admin API with it and check
// that no secret reached the gateway's output or its store.
import { execFile } from "node:child_process";
import {
  mkdtempSync, readFileSync, readdirSync, rmSync, statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import assert from "node:assert/strict";
import { executable, mockGatewayYaml, startProcess } from "./stack.mjs";

const ADMIN_READY = /admin API on http:\/\/[^\s:]+:(\d+)/;


// Models gpt-4o-mini (alias default), gpt-4o and text-embedding-3-small, all on the mock.
// `authExtra` is YAML inside the auth: section (indented by two spaces).
function configYaml(mockPort, dir, authExtra) {
  return `${mockGatewayYaml(mockPort)}auth:
  bootstrap: {admin_key: false}
${authExtra}
store:
  sqlite: ${join(dir, "sluice.db")}
admin:
  listen: 127.0.0.1:0
filters:
  - request_id: {}
  - auth: {}
  - authorize: {}
  - access_log: {output: stdout}
`;
}

// Starts sluice-mock, writes the config, runs `sluice admin bootstrap`, starts the gateway.
// `authExtra`: see configYaml.
export async function startAuthStack({ authExtra = "", mockArgs = [] } = {}) {
  // Both binaries are checked before anything starts, so that a missing one fails loudly
  // instead of leaving a half-started stack behind.
  const sluice = executable("SLUICE_BIN");
  const mock = await startProcess(executable("SLUICE_MOCK_BIN"),
    ["--listen", "127.0.0.1:0", "--workers", "1", "--tokens", "8", ...mockArgs]);
  let dir;
  let adminKey;
  let gateway;
  try {
    dir = mkdtempSync(join(tmpdir(), "sluice-e2e-auth-"));
    const config = join(dir, "sluice.yaml");
    writeFileSync(config, configYaml(mock.port, dir, authExtra));
    try {
      const { stdout } = await promisify(execFile)(sluice, ["admin", "bootstrap", "--config", config],
        { timeout: 20000 });
      adminKey = stdout.trim();
    } catch (error) {
      throw new Error(`sluice admin bootstrap failed: ${error.message}\n${error.stderr ?? ""}`);
    }
    assert.match(adminKey, /^sk-sl-[0-9A-Za-z]+$/, "admin bootstrap prints the key alone on stdout");
    gateway = await startProcess(sluice, ["serve", "--config", config], {}, ADMIN_READY);
  } catch (error) {
    mock.child.kill("SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  // Attached now, while both are running: "close" comes once their output is all read.
  const closed = [gateway, mock].map((p) => new Promise((r) => p.child.once("close", r)));
  const port = Number(gateway.output().match(/listening on http:\/\/[^\s:]+:(\d+)/)[1]);
  const adminURL = `http://127.0.0.1:${gateway.port}`;

  // Calls the admin API with the bootstrap admin key; resolves with {status, body}.
  const admin = async (method, path, body) => {
    const response = await fetch(`${adminURL}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminKey}`,
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };

  // Stops both (SIGTERM) and resolves once everything they printed has been read; safe to
  // call twice.
  const stop = async () => {
    for (const [i, p] of [gateway, mock].entries()) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
      await closed[i];
    }
  };

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    gatewayURL: `http://127.0.0.1:${port}`,
    adminURL,
    adminKey,
    admin,
    // Creates an application key; resolves with the admin API's JSON (id, secret, ...).
    async createKey(fields) {
      const { status, body } = await admin("POST", "/admin/keys", fields);
      assert.equal(status, 201, `POST /admin/keys: ${JSON.stringify(body)}`);
      assert.match(body.secret, /^sk-sl-/);
      return body;
    },
    // Everything the gateway printed so far (stdout and stderr, access log included); call
    // stop() first to be sure the last lines are in.
    gatewayOutput: gateway.output,
    gatewayProcess: gateway.child,
    // The raw bytes of the SQLite store (database, WAL and journal files, and the usage
    // journal's segments in sluice.db.usage/) as latin1 text.
    storeContents: () => readdirSync(dir, { recursive: true })
      .filter((name) => name.startsWith("sluice.db") && statSync(join(dir, name)).isFile())
      .map((name) => readFileSync(join(dir, name), "latin1")).join("\n"),
    stop,
    // stop(), then removes the temporary directory (config and store).
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Asserts that none of `secrets` ({label: value}) occurs in `output` (described by `where`);
// names the leaked ones.
export function assertNoSecrets(output, secrets, where = "the gateway's output") {
  const values = Object.entries(secrets);
  assert.ok(values.length > 0, "the test collected secrets to look for");
  for (const [label, value] of values) {
    assert.ok(typeof value === "string" && value.length >= 8, `secret ${label} was collected`);
  }
  const leaked = values.filter(([, value]) => output.includes(value)).map(([label]) => label);
  assert.deepEqual(leaked, [], `secrets in ${where}: ${leaked.join(", ")}`);
}
