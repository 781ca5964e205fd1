// Starts two sluice-mocks (backends `a` and `b`) and a store-backed Sluice (auth, admin API,
// SQLite store, two workers) whose configuration can be replaced while it runs, for the
// hot-reload end-to-end tests (hot_reload.test.mjs).
//
// The configuration path is a symlink in a directory of its own, pointing into a second
// directory, as Kubernetes mounts a ConfigMap. That separates the three reload triggers:
// - replaceTarget(text) swaps the file the link points to (write + rename in the second
//   directory): the gateway's inotify watch of the config's directory sees nothing, so the
//   reload happens exactly when the test sends SIGHUP or POST /admin/config/reload;
// - swapLink(text) writes a new target and renames a new link onto the config path: the
//   watch sees it and reloads on its own after its settle time;
// - replaceWithRegularFile(text) / rewriteInPlace(text): the editor-style changes of a
//   regular file (rename onto the name, then truncate-and-write), also seen by the watch.
// Without that split, a file written before a SIGHUP would also be reloaded by the watch
// whenever the SIGHUP's reload came later than the settle time, and the reload counters
// could not be predicted exactly.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import assert from "node:assert/strict";
import { executable, startProcess } from "./stack.mjs";

const LISTENING = /listening on http:\/\/[^\s:]+:(\d+)/;
const ADMIN_READY = /admin API on http:\/\/[^\s:]+:(\d+)/;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The sections a reload may not change, then the part the test varies (`routing`: YAML of
// backends:, models: and anything else reloadable). `serverExtra` is YAML inside server:
// (indented by two spaces), to make a restart-only change.
function configYaml({ stateDir, routing, serverExtra = "" }) {
  return `server:
  listen: 127.0.0.1:0
  workers: 2
${serverExtra}auth:
  bootstrap: {admin_key: false}
store:
  sqlite: ${join(stateDir, "sluice.db")}
admin:
  listen: 127.0.0.1:0
filters:
  - request_id: {}
  - auth: {}
  - authorize: {}
${routing}`;
}

// `initialRouting(mocks)` returns the variable part of the first config; `mocks` is {a, b}
// with each mock's base URL (".../v1"). `mockArgs` go to both mocks.
export async function startReloadStack({ initialRouting, mockArgs = [] }) {
  // Both binaries are checked before anything starts, so that a missing one fails loudly.
  const sluice = executable("SLUICE_BIN");
  const mockBin = executable("SLUICE_MOCK_BIN");
  const started = [];
  const closed = [];
  const track = (proc) => {
    started.push(proc);
    closed.push(new Promise((r) => proc.child.once("close", r)));
    return proc;
  };
  const root = mkdtempSync(join(tmpdir(), "sluice-e2e-reload-"));
  const configDir = join(root, "config");     // watched by the gateway: only the link lives here
  const targetDir = join(root, "targets");    // the files the link points to
  const stateDir = join(root, "state");       // SQLite store and usage journal
  for (const dir of [configDir, targetDir, stateDir]) mkdirSync(dir);
  const configPath = join(configDir, "sluice.yaml");
  let targetPath = "";
  let targets = 0;
  let adminKey = "";
  let gatewayPort = 0;
  let adminPort = 0;
  let gateway = null;

  // Writes `text` to a new file of targetDir (or over `path`, atomically by rename).
  const writeTarget = (text, path = join(targetDir, `config-${++targets}.yaml`)) => {
    const temporary = join(targetDir, `.writing-${targets}-${Date.now()}`);
    writeFileSync(temporary, text);
    renameSync(temporary, path);
    return path;
  };
  // Points the config path at a new target holding `text` (one IN_MOVED_TO for its name).
  const swapLink = (text) => {
    targetPath = writeTarget(text);
    const link = join(configDir, `.link-${targets}`);
    symlinkSync(targetPath, link);
    renameSync(link, configPath);
  };

  let mocks;
  try {
    const mockA = track(await startProcess(mockBin, ["--listen", "127.0.0.1:0", "--workers", "1", ...mockArgs]));
    const mockB = track(await startProcess(mockBin, ["--listen", "127.0.0.1:0", "--workers", "1", ...mockArgs]));
    mocks = { a: `http://127.0.0.1:${mockA.port}/v1`, b: `http://127.0.0.1:${mockB.port}/v1` };
    swapLink(configYaml({ stateDir, routing: initialRouting(mocks) }));
    try {
      const { stdout } = await promisify(execFile)(sluice, ["admin", "bootstrap", "--config", configPath],
        { timeout: 20000 });
      adminKey = stdout.trim();
    } catch (error) {
      throw new Error(`sluice admin bootstrap failed: ${error.message}\n${error.stderr ?? ""}`);
    }
    assert.match(adminKey, /^sk-sl-[0-9A-Za-z]+$/, "admin bootstrap prints the key alone on stdout");
    gateway = track(await startProcess(sluice, ["serve", "--config", configPath], {}, ADMIN_READY));
    adminPort = gateway.port;
    gatewayPort = Number(gateway.output().match(LISTENING)[1]);
  } catch (error) {
    for (const proc of started) proc.child.kill("SIGKILL");
    rmSync(root, { recursive: true, force: true });
    throw error;
  }

  // Calls the admin API with the bootstrap admin key; resolves with {status, body}. Each call
  // has a connection of its own (closed after the answer): a kept-alive admin connection would
  // keep the configuration generation of its last request alive, and the tests must control
  // which generations are still in use.
  const admin = (method, path, body) => new Promise((resolve, reject) => {
    const payload = body ? JSON.stringify(body) : undefined;
    const request = http.request({
      host: "127.0.0.1", port: adminPort, path, method, agent: false,
      headers: {
        authorization: `Bearer ${adminKey}`,
        connection: "close",
        ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
      },
    }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (piece) => { text += piece; });
      response.on("end", () => {
        try {
          resolve({ status: response.statusCode, body: text ? JSON.parse(text) : null });
        } catch (error) {
          reject(new Error(`${method} ${path}: ${response.statusCode} ${text}`));
        }
      });
      response.on("error", reject);
    });
    request.setTimeout(10000, () => request.destroy(new Error(`${method} ${path} timed out`)));
    request.on("error", reject);
    request.end(payload);
  });

  const status = async () => {
    const { status: code, body } = await admin("GET", "/admin/status");
    assert.equal(code, 200, `GET /admin/status: ${JSON.stringify(body)}`);
    return body;
  };

  return {
    baseURL: `http://127.0.0.1:${gatewayPort}/v1`,
    mocks,
    configPath,
    admin,
    // GET /admin/status (asserts 200); resolves with its JSON.
    status,
    // The full config text for `routing` (see configYaml).
    configText: (routing, options = {}) => configYaml({ stateDir, routing, ...options }),
    // Swaps the file the config link points to: no event in the watched directory.
    replaceTarget: (text) => { writeTarget(text, targetPath); },
    swapLink,
    // Renames a regular file onto the config path (the link goes): seen by the watch.
    replaceWithRegularFile: (text) => {
      const temporary = join(configDir, `.edit-${Date.now()}`);
      writeFileSync(temporary, text);
      renameSync(temporary, configPath);
      targetPath = configPath;
    },
    // Truncates and rewrites the config path in place (an editor saving over the file).
    rewriteInPlace: (text) => { writeFileSync(configPath, text); },
    sighup: () => { gateway.child.kill("SIGHUP"); },
    // True once the gateway process has ended (stopGateway, or a crash).
    gatewayEnded: () => gateway.child.exitCode !== null || gateway.child.signalCode !== null,
    // Polls /admin/status until config.reloads reaches {accepted, rejected} (every 10 ms, up
    // to `timeoutMs`); resolves with that status. Fails when a counter goes past its target:
    // a reload happened that the test did not cause. After an accepted reload it also waits
    // for its log line: /admin/status shows the new version a moment before the workers have
    // been handed it (server_reload.cc), the log line comes after.
    async waitForReloads({ accepted, rejected }, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const body = await status();
        const reloads = body.config.reloads;
        const seen = JSON.stringify(reloads);
        assert.ok(reloads.accepted <= accepted && reloads.rejected <= rejected,
          `more reloads than caused (wanted accepted ${accepted}, rejected ${rejected}): ${seen}`);
        if (reloads.accepted === accepted && reloads.rejected === rejected) {
          if (reloads.last?.ok) {
            await this.waitForOutput(new RegExp(
              `configuration reloaded \\(${reloads.last.trigger}\\): version ${body.config.version} `),
            Math.max(1000, deadline - Date.now()));
          }
          return body;
        }
        assert.ok(Date.now() < deadline,
          `reload not seen within ${timeoutMs} ms (wanted accepted ${accepted}, rejected ${rejected}): ${seen}`);
        await sleep(10);
      }
    },
    // Creates an application key; resolves with the admin API's JSON (id, secret, ...).
    async createKey(fields) {
      const { status: code, body } = await admin("POST", "/admin/keys", fields);
      assert.equal(code, 201, `POST /admin/keys: ${JSON.stringify(body)}`);
      assert.match(body.secret, /^sk-sl-/);
      return body;
    },
    // Everything the gateway printed so far (stdout and stderr).
    gatewayOutput: () => gateway.output(),
    // Resolves once the gateway's output matches `pattern` (checked every 10 ms, up to
    // `timeoutMs`): a way to see a reload without calling the admin API.
    async waitForOutput(pattern, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(gateway.output())) {
        assert.ok(Date.now() < deadline, `no ${pattern} in the gateway's output within ${timeoutMs} ms`);
        await sleep(10);
      }
    },
    // SIGTERM to the gateway; resolves with its exit {code, signal} once its output is read.
    async stopGateway() {
      const { child } = gateway;
      const exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      else return { code: child.exitCode, signal: child.signalCode };
      const result = await exited;
      await closed[started.indexOf(gateway)];
      return result;
    },
    // Stops the gateway, then the mocks (SIGTERM), then removes the temporary directory;
    // safe to call twice.
    async dispose() {
      for (let i = started.length - 1; i >= 0; --i) {
        const { child } = started[i];
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await closed[i];
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
