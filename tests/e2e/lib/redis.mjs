// A REAL redis-server for end-to-end tests: started on a free 127.0.0.1 port with its own
// temporary directory and no persistence, answered PING before use, stopped with SIGTERM
// (SIGKILL after a timeout). It can be paused (SIGSTOP: the socket stays open, nothing is
// answered), resumed, killed and restarted on the same port, and sent commands (FLUSHALL,
// KEYS...) over a fresh connection with a minimal RESP client, so that checks never go
// through the gateway under test. A missing redis-server fails loudly.
import { spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 10000;
const STOP_TIMEOUT_MS = 5000;
const PORT_ATTEMPTS = 5;
// util-linux's setpriv makes the kernel kill redis-server when this process dies (even by
// SIGKILL or a test-runner timeout), so no server outlives a crashed test file. It is part of
// every Debian system; without it the server is started directly (cleanup then relies on
// stop() and the exit hook below).
const SETPRIV = "/usr/bin/setpriv";

// Every server still running, killed when the Node process exits however it exits.
const running = new Set();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

// The path of redis-server on PATH; throws with what to install when there is none.
function findRedisServer() {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (!dir) continue;
    const candidate = join(dir, "redis-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error("redis-server is not installed (not found on PATH): the distributed-limits " +
    "end-to-end tests need a real Redis 7; install it with `scripts/install-deps test` " +
    "(Debian package redis-server)");
}

function hasSetpriv() {
  try {
    accessSync(SETPRIV, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// A port that was free a moment ago: bound on port 0, read back, closed. Another process can
// take it before redis-server binds it; start() retries then.
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// RESP encoding of one command.
function encodeCommand(args) {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const text = String(arg);
    out += `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  }
  return out;
}

// Parses one RESP reply at `offset` of `buffer`; returns {value, next}, or null when the
// buffer does not hold a whole reply yet. Errors (-ERR ...) become {error: message}.
function parseReply(buffer, offset = 0) {
  const lineEnd = buffer.indexOf("\r\n", offset);
  if (lineEnd < 0) return null;
  const type = String.fromCharCode(buffer[offset]);
  const line = buffer.toString("utf8", offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case "+":
      return { value: line, next };
    case "-":
      return { value: { error: line }, next };
    case ":":
      return { value: Number(line), next };
    case "$": {
      const length = Number(line);
      if (length < 0) return { value: null, next };
      if (buffer.length < next + length + 2) return null;
      return { value: buffer.toString("utf8", next, next + length), next: next + length + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, at);
        if (item === null) return null;
        items.push(item.value);
        at = item.next;
      }
      return { value: items, next: at };
    }
    default:
      throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
  }
}

// Sends one command to HOST:port on a fresh connection; resolves with its reply (an
// {error} object for a Redis error), rejects on a connection error or after `timeoutMs`.
export function redisCommand(port, args, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: HOST, port });
    let received = Buffer.alloc(0);
    const fail = (error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`redis ${args[0]}: no reply within ${timeoutMs} ms`)));
    socket.once("error", fail);
    socket.once("connect", () => socket.write(encodeCommand(args)));
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      let reply;
      try {
        reply = parseReply(received);
      } catch (error) {
        fail(error);
        return;
      }
      if (reply === null) return;
      socket.end();
      resolve(reply.value);
    });
    socket.once("end", () => fail(new Error(`redis ${args[0]}: connection closed before a reply`)));
  });
}

// Starts redis-server and resolves once it answers PING. The returned object:
//   port, command(...args), flushAll(), pause(), resume(), kill(), restart(), stop(),
//   output() (what the server printed).
export async function startRedis() {
  const bin = findRedisServer();
  const wrap = hasSetpriv();
  const dir = mkdtempSync(join(tmpdir(), "sluice-e2e-redis-"));
  let port = 0;
  let child = null;
  let closed = null;
  let output = "";

  // Spawns the server on `port` and waits for PING; rejects if it exits first (the port was
  // taken: "Address already in use") or does not answer in time.
  const launch = async () => {
    const args = ["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no",
      "--dir", dir, "--daemonize", "no", "--logfile", ""];
    const started = wrap
      ? spawn(SETPRIV, ["--pdeathsig", "KILL", "--", bin, ...args], { stdio: ["ignore", "pipe", "pipe"] })
      : spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    let exited = false;
    let spawnError = null;
    const thisClosed = new Promise((resolve) => started.once("close", resolve));
    started.once("exit", () => {
      exited = true;
      running.delete(started);
    });
    started.once("error", (error) => {
      spawnError = error;
    });
    started.stdout.on("data", (data) => { output += data.toString(); });
    started.stderr.on("data", (data) => { output += data.toString(); });
    running.add(started);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (spawnError) throw new Error(`cannot start ${bin}: ${spawnError.message}`);
      if (exited) {
        await thisClosed;
        const error = new Error(`redis-server exited during start-up on port ${port}:\n${output}`);
        error.addressInUse = /Address already in use/i.test(output);
        throw error;
      }
      try {
        if ((await redisCommand(port, ["PING"], 500)) === "PONG") break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        started.kill("SIGKILL");
        await thisClosed;
        throw new Error(`redis-server did not answer PING on port ${port} within ${START_TIMEOUT_MS} ms:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    child = started;
    closed = thisClosed;
  };

  // SIGTERM (or `signal`), then SIGKILL if it has not exited after STOP_TIMEOUT_MS.
  const end = async (signal) => {
    if (child === null) return;
    const ending = child;
    child = null;
    if (ending.exitCode === null && ending.signalCode === null) {
      ending.kill("SIGCONT");  // a paused server cannot handle SIGTERM
      ending.kill(signal);
      const timer = setTimeout(() => ending.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await closed;
      clearTimeout(timer);
    } else {
      await closed;
    }
  };

  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await launch();
        break;
      } catch (error) {
        if (!error.addressInUse || attempt >= PORT_ATTEMPTS) throw error;
        output += `---- port ${port} was taken; retrying on another ----\n`;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const signalChild = (signal) => {
    if (child === null) throw new Error("redis-server is not running");
    child.kill(signal);
  };

  return {
    port,
    output: () => output,
    // One command on a fresh connection: command("KEYS", "sl:*").
    command: (...args) => redisCommand(port, args),
    // Empties every database (counters from an earlier test); resolves when done.
    async flushAll() {
      const reply = await redisCommand(port, ["FLUSHALL"]);
      if (reply !== "OK") throw new Error(`FLUSHALL answered ${JSON.stringify(reply)}`);
    },
    // SIGSTOP: connections stay open and nothing is answered until resume().
    pause: () => signalChild("SIGSTOP"),
    resume: () => signalChild("SIGCONT"),
    // SIGKILL: gone at once (connections reset); restart() brings it back, empty, on the
    // same port.
    kill: () => end("SIGKILL"),
    restart: async () => {
      if (child !== null) throw new Error("redis-server is still running");
      await launch();
    },
    // Graceful stop, then the temporary directory is removed; safe to call twice.
    async stop() {
      await end("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
