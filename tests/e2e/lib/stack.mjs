// Starts sluice-mock and sluice (the binaries named by SLUICE_MOCK_BIN and SLUICE_BIN) on
// free loopback ports for end-to-end tests, and stops them afterwards. Ports are chosen by
// the OS (port 0) and read back from each program's start-up line.
import { spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function requireEnv(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must name the binary to test (scripts/run-tests sets it)`);
  return value;
}

// The binary named by env `envName`, which must be an executable file (a missing one fails
// loudly before anything starts).
export function executable(envName) {
  const path = requireEnv(envName);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${envName}=${path} is not an executable file (build it first)`);
  }
  return path;
}

// The start of a gateway config for the store-backed stacks: two workers on a free port and
// the models gpt-4o-mini (alias default), gpt-4o and text-embedding-3-small, all on the mock.
export function mockGatewayYaml(mockPort) {
  return `
server:
  listen: 127.0.0.1:0
  workers: 2
backends:
  - name: mock
    url: http://127.0.0.1:${mockPort}/v1
models:
  - name: gpt-4o-mini
    aliases: [default]
    backend: mock
  - name: gpt-4o
    backend: mock
  - name: text-embedding-3-small
    backend: mock
`;
}

// Spawns `bin args` and resolves with {child, port, output()} once `ready` (by default a line
// matching /listening on http:\/\/[^:]+:(\d+)/) appears on stdout or stderr; port is its
// first group.
export function startProcess(bin, args, env = {}, ready = /listening on http:\/\/[^\s:]+:(\d+)/) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${bin} did not start in time:\n${output}`));
    }, 20000);
    const onData = (data) => {
      output += data.toString();
      const match = output.match(ready);
      if (match && timer) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), output: () => output });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);  // a process that died before it was ready fails at once
      reject(new Error(`${bin} exited with ${code}:\n${output}`));
    });
  });
}

export async function startStack({ mockArgs = [], gatewayEnv = {}, backendExtra = "" } = {}) {
  const mock = await startProcess(requireEnv("SLUICE_MOCK_BIN"),
    ["--listen", "127.0.0.1:0", "--workers", "1", ...mockArgs]);
  const dir = mkdtempSync(join(tmpdir(), "sluice-e2e-"));
  const config = join(dir, "sluice.yaml");
  writeFileSync(config, `
server:
  listen: 127.0.0.1:0
  workers: 2
backends:
  - name: mock
    url: http://127.0.0.1:${mock.port}/v1
${backendExtra}
models:
  - name: gpt-4o-mini
    aliases: [default]
    backend: mock
  - name: text-embedding-3-small
    backend: mock
filters:
  - request_id: {}
  - access_log: {output: stdout}
`);
  const gateway = await startProcess(requireEnv("SLUICE_BIN"), ["serve", "--config", config], gatewayEnv);
  const stop = async () => {
    for (const p of [gateway, mock]) {
      if (p.child.exitCode === null) {
        const exited = new Promise((r) => p.child.once("exit", r));
        p.child.kill("SIGTERM");
        await exited;
      }
    }
  };
  return {
    baseURL: `http://127.0.0.1:${gateway.port}/v1`,
    mockURL: `http://127.0.0.1:${mock.port}`,
    gatewayOutput: gateway.output,
    gatewayProcess: gateway.child,
    stop,
  };
}
