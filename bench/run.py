#!/usr/bin/env python3
"""Sluice benchmark protocol: sluice vs nginx vs direct (rig ceiling) on one machine.

Layout A: the system under test (sluice with one worker, or nginx with one worker process as
a keep-alive reverse proxy) is pinned to core 0; sluice-loadgen and sluice-mock (the
simulated upstream) share core 1. Repetitions are interleaved (sluice, nginx, direct, ...);
figures are medians over repetitions (latency percentiles: over the pooled samples; target
ratios: paired per repetition). Measures R1 throughput, R2 CPU/request, R3 added latency,
R6 streaming TTFE and CPU/event, R8 memory; prints a markdown table with the targets and
writes all raw numbers to a JSON file. See docs/benchmarks.md.

--only AUTH adds "sluice-auth" (the same sluice with API key auth on: auth: section, SQLite
store in the temp dir, a demo key created by a first start, sent by the load generator in
Authorization) and measures the R1 and R3 scenarios with auth on against auth off, paired.
--only LIMITS adds "sluice-limits" (the same sluice with the rate_limit filter and one
policy shaped like make run's per-key policy, `per: [model]`, in-process counters, no usage
records) and measures R1 and R3 with limits on against off, paired the same way; --only
REDIS adds "sluice-redis" (the same policy with `store: redis`; run.py starts a
redis-server pinned to the SUT's core, and its CPU is counted as the SUT's).
--only OBS measures what observability costs: "sluice-obs-off" (metrics disabled, no access
log), "sluice-obs" (metrics on, the access log to a file: the "sluice" configuration) and
"sluice-obs-trace" (plus OTLP tracing at sample_ratio 0.1 to a small receiver run.py starts on
the rig's core, bench/benchlib/otlp_receiver.py), on R1 and R3, each paired with
sluice-obs-off per repetition; at the end of each run it reads /metrics (spans exported and
dropped, log lines dropped) and the receiver's span count.
--only ROUTING runs bench/benchlib/routing.py instead of the sluice/nginx systems: three
sluice-mocks as one model group, one of them slow, under the same load for round_robin and
p2c_ewma (p50/p99, throughput, the slow deployment's share counted at the mocks).

Usage: python3 bench/run.py [--build build/release] [--reps 3] [--quick] [--only R1,R3]
       python3 bench/run.py --build build/release --only LIMITS,REDIS --reps 5
       python3 bench/run.py --build build/release --only ROUTING --reps 3
       python3 bench/run.py --build build/release --only OBS --reps 3
Standard library only. Every child process is stopped on exit, error or Ctrl-C.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import configs, driver, obs, procs, report, routing  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (warmup s, measured s) per scenario; hold is seconds held.
DURATIONS = {
    "full": {"r1": (2, 10), "r3": (1, 8), "r6ttfe": (1.5, 12), "r6cpu": (2, 6), "hold": 2},
    "quick": {"r1": (1, 3), "r3": (0.5, 2), "r6ttfe": (1.5, 3), "r6cpu": (1.5, 2), "hold": 1},
}
# Which scenarios produce which figures (--only selects by figure).
SCENARIOS_FOR = {"R1": ["r1"], "R2": ["r1"], "R3": ["r3"], "R6": ["r6ttfe", "r6cpu"],
                 "R8": ["r6cpu", "hold"], "AUTH": ["r1", "r3"], "LIMITS": ["r1", "r3"],
                 "REDIS": ["r1", "r3"], "OBS": ["r1", "r3"], "ROUTING": []}
ORDER = ["r1", "r3", "r6ttfe", "r6cpu", "hold"]
SUTS = ["sluice", "nginx", "direct"]
AUTH_SUT = "sluice-auth"  # sluice with API key auth on; paired with "sluice" (auth off)
LIMITS_SUT = "sluice-limits"  # sluice with in-process limits; paired with "sluice"
REDIS_SUT = "sluice-redis"  # sluice with limits on Redis; paired with "sluice"
# Variants of sluice measured against it on R1 and R3 only, by the figure that asks for them.
VARIANTS = {"AUTH": AUTH_SUT, "LIMITS": LIMITS_SUT, "REDIS": REDIS_SUT}
VARIANT_SCENARIOS = ("r1", "r3")
# The OBS systems (observability off, metrics and access log, plus tracing), paired with the
# first; measured on VARIANT_SCENARIOS like the variants.
OBS_SUTS = [obs.OFF, obs.ON, obs.TRACE]
# Figures with their own systems and load (not sluice/nginx/direct): ROUTING (routing.py).
OWN_SETUP = ("ROUTING",)
NONSTREAM_MOCK = {"response_bytes": 1000}  # ~1.35 KB body, ~1.45 KB with head
STREAM_MOCK = {"tokens": 64, "itl_ms": 20, "ttft_ms": 0}


def find_binary(build, name, hints):
    for hint in hints:
        path = os.path.join(build, hint)
        if os.access(path, os.X_OK) and os.path.isfile(path):
            return path
    for root, _, files in os.walk(build):
        if name in files and os.access(os.path.join(root, name), os.X_OK):
            return os.path.join(root, name)
    sys.exit(f"run.py: cannot find {name} under {build}; build it first "
             f"(cmake --build {build} --target {name})")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(REPO, "build", "release"))
    p.add_argument("--reps", type=int, default=None, help="repetitions (default 3, quick 1)")
    p.add_argument("--quick", action="store_true", help="short durations (smoke test)")
    p.add_argument("--only", default="R1,R2,R3,R6,R8",
                   help="figures to measure: R1,R2,R3,R6,R8, AUTH (key auth on vs off), "
                        "LIMITS (in-process limits on vs off), REDIS (limits on Redis vs off), "
                        "OBS (observability off vs metrics+access log vs +tracing at 10%), "
                        "ROUTING (one slow deployment of three: round_robin vs p2c_ewma)")
    p.add_argument("--out", default=None, help="results JSON (default bench/results/<ts>.json)")
    p.add_argument("--sut-cpu", type=int, default=0)
    p.add_argument("--rig-cpu", type=int, default=1)
    p.add_argument("--suts", default=None,
                   help=f"systems, in run order (default {','.join(SUTS)}; AUTH, LIMITS and "
                        f"REDIS in --only add {AUTH_SUT}, {LIMITS_SUT} and {REDIS_SUT} after "
                        "sluice; OBS adds sluice-obs-off, sluice-obs, sluice-obs-trace; when only "
                        "such figures are asked for, those systems only)")
    p.add_argument("--keep-tmp", action="store_true", help="keep configs and logs")
    p.add_argument("--nice", type=int, default=-10 if os.geteuid() == 0 else 0,
                   help="niceness of SUT, mock and load generator (default -10 as root): "
                        "background jobs on the box then take CPU only when the rig is idle")
    p.add_argument("--quiet-timeout", type=float, default=0,
                   help="wait up to this many seconds for other processes to go quiet "
                        "before each run (default: do not wait; noisy runs are flagged)")
    p.add_argument("--no-idle-spin", action="store_true",
                   help="do not keep both cores busy with SCHED_IDLE spinners")
    for name in ("sluice", "mock", "loadgen", "nginx"):
        p.add_argument(f"--{name}-bin", default=None, help=f"override the {name} binary")
    return p.parse_args()


class Bench:
    def __init__(self, args):
        self.args = args
        build = os.path.abspath(args.build)
        self.sluice = args.sluice_bin or find_binary(build, "sluice", ["src/sluice"])
        self.mock = args.mock_bin or find_binary(build, "sluice-mock",
                                                 ["tools/sluice-mock/sluice-mock"])
        self.loadgen = args.loadgen_bin or find_binary(build, "sluice-loadgen",
                                                       ["bench/loadgen/sluice-loadgen"])
        self.nginx = args.nginx_bin or shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.access(self.nginx, os.X_OK):
            sys.exit("run.py: nginx not found (apt-get install nginx-light or nginx)")
        self.pin = shutil.which("taskset") is not None and os.cpu_count() >= 2
        self.children = procs.Children()
        self.tmp = tempfile.mkdtemp(prefix="sluice-bench-")
        os.chmod(self.tmp, 0o755)
        self.durations = DURATIONS["quick" if args.quick else "full"]
        wanted = [r.strip().upper() for r in args.only.split(",") if r.strip()]
        self.wanted = wanted
        self.scenarios = [s for s in ORDER if any(s in SCENARIOS_FOR.get(r, []) for r in wanted)]
        self.want_idle = "R8" in wanted
        self.suts = default_suts(wanted) if args.suts is None else [
            s.strip() for s in args.suts.split(",") if s.strip()]
        self.auth_key = None  # the demo key of sluice-auth (prepare_auth)
        self.runs = []
        self.pooled = {}  # (sut, scenario) → {"latency_us": [...], ...} over repetitions
        self.problems = []
        self.mock_proc = None
        self.redis_proc = None  # the redis-server of the running sluice-redis
        self.redis_port = None
        self.otlp = None  # the OTLP receiver of sluice-obs-trace (obs.OtlpReceiver), once started
        self.obs_runs = []  # per OBS run: /metrics and receiver counts at its end
        self.routing = None  # the ROUTING scenario (routing.RoutingBench), when asked for
        self.routing_summary = None

    def cpu(self, which):
        if not self.pin:
            return None
        return self.args.sut_cpu if which == "sut" else self.args.rig_cpu

    # --- processes ---------------------------------------------------------------------

    def start_mock(self):
        self.mock_port = procs.free_port()
        log = os.path.join(self.tmp, "mock.log")
        self.mock_proc = self.children.start(
            [self.mock, "--listen", f"127.0.0.1:{self.mock_port}", "--workers", "1",
             "--tokens", "64", "--ttft-ms", "0", "--itl-ms", "0", "--response-bytes", "1000"],
            log, cpu=self.cpu("rig"), nice=self.args.nice)
        if not procs.wait_port(self.mock_port, 10, self.mock_proc):
            sys.exit("run.py: sluice-mock did not start:\n" + tail(log))

    def ensure_mock(self):
        if self.mock_proc is None or self.mock_proc.poll() is not None:
            if self.mock_proc is not None:
                self.problems.append({"what": "sluice-mock exited",
                                      "code": self.mock_proc.returncode,
                                      "log": tail(os.path.join(self.tmp, "mock.log"))})
            self.start_mock()

    def start_sluice(self, name, redis_port=None, otlp_port=None):
        """Starts sluice or one of its variants (sluice-auth, sluice-limits, sluice-redis, the
        OBS systems); returns (proc, port)."""
        port = procs.free_port()
        config = configs.write_sluice_config(self.tmp, port, self.mock_port,
                                             auth=name == AUTH_SUT,
                                             limits=name in (LIMITS_SUT, REDIS_SUT),
                                             redis_port=redis_port,
                                             obs=name if name in OBS_SUTS else None,
                                             otlp_port=otlp_port)
        log = os.path.join(self.tmp, f"{name}.log")
        proc = self.children.start([self.sluice, "serve", "--config", config], log,
                                   cpu=self.cpu("sut"), nice=self.args.nice)
        if not procs.wait_port(port, 10, proc):
            raise RuntimeError(f"{name} did not start:\n" + tail(log))
        return proc, port

    def prepare_auth(self):
        """The small step before sluice-auth is measured: one start of sluice with the auth
        config creates the store and writes the demo key (role user) to a file; the key is
        then sent by every request. Later starts reuse the store (and the key)."""
        key_file = configs.auth_paths(self.tmp)["key_file"]
        proc, _ = self.start_sluice(AUTH_SUT)
        try:
            deadline = time.monotonic() + 10
            while not os.path.exists(key_file) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            self.children.stop(proc)
        try:
            with open(key_file) as f:
                key = f.read().strip()
        except OSError:
            key = ""
        if not key.startswith("sk-sl-"):
            raise RuntimeError(f"{AUTH_SUT}: no demo key in {key_file}:\n"
                               + tail(os.path.join(self.tmp, f"{AUTH_SUT}.log")))
        self.auth_key = key

    def start_redis(self):
        """A redis-server for sluice-redis, without persistence, pinned to the SUT's core: on
        two cores it must not take the load generator's core, and its CPU is part of what
        limits on Redis cost (counted with the SUT's). Returns (proc, port)."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not found (apt-get install redis-server)")
        port = procs.free_port()
        log = os.path.join(self.tmp, "redis.log")
        proc = self.children.start(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.tmp], log, cpu=self.cpu("sut"),
            nice=self.args.nice)
        if not procs.wait_port(port, 10, proc):
            raise RuntimeError("redis-server did not start:\n" + tail(log))
        return proc, port

    def start_sut(self, sut):
        """Starts the SUT; returns (proc or None, pids function, {scenario: url}); the dict
        may also hold "headers" that every request must carry."""
        mock_base = f"http://127.0.0.1:{self.mock_port}/v1/chat/completions"
        if sut == "direct":
            return None, lambda: [], {"buffered": mock_base, "stream": mock_base}
        if is_sluice(sut):
            # When auth on and off are paired, both get the same request bytes (the key
            # header, ignored and not forwarded with auth off, as OpenAI SDKs always send
            # one): the pair then measures checking the key, not carrying it. The other
            # variants get the same header too, so every sluice system sees the same bytes.
            paired = AUTH_SUT in self.suts
            if paired and self.auth_key is None:
                self.prepare_auth()
            redis, redis_port = self.start_redis() if sut == REDIS_SUT else (None, None)
            otlp_port = None
            if sut == obs.TRACE:
                if self.otlp is None:
                    self.otlp = obs.OtlpReceiver(self.children, self.tmp, self.cpu("rig"),
                                                 self.args.nice)
                otlp_port = self.otlp.ensure_running()
            try:
                proc, port = self.start_sluice(sut, redis_port, otlp_port)
            except (RuntimeError, OSError):
                if redis is not None:
                    self.children.stop(redis)
                raise
            self.redis_proc = redis
            self.redis_port = redis_port
            url = f"http://127.0.0.1:{port}/v1/chat/completions"
            urls = {"buffered": url, "stream": url, "metrics": f"http://127.0.0.1:{port}/metrics"}
            if paired:
                urls["headers"] = [f"Authorization: Bearer {self.auth_key}"]
            if redis is not None:
                return proc, lambda: [proc.pid, redis.pid], urls
            return proc, lambda: [proc.pid], urls
        # nginx: unprivileged (as nobody when we are root), prefix and logs in the temp dir.
        prefix = os.path.join(self.tmp, "nginx")
        os.makedirs(prefix, exist_ok=True)
        os.chmod(prefix, 0o777)
        p1, p2 = procs.free_port(), procs.free_port()
        conf = configs.write_nginx_config(prefix, p1, p2, self.mock_port)
        argv = [self.nginx, "-p", prefix, "-e", os.path.join(prefix, "nginx-error.log"),
                "-c", conf]
        if os.geteuid() == 0 and shutil.which("setpriv"):
            argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + argv
        log = os.path.join(self.tmp, "nginx.log")
        proc = self.children.start(argv, log, cpu=self.cpu("sut"), nice=self.args.nice)
        if not (procs.wait_port(p1, 10, proc) and procs.wait_port(p2, 10, proc)):
            raise RuntimeError("nginx did not start:\n" + tail(log) +
                               tail(os.path.join(prefix, "nginx-error.log")))
        deadline = time.monotonic() + 5
        while not procs.child_pids(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = lambda: [proc.pid] + procs.child_pids(proc.pid)  # noqa: E731
        return proc, pids, {"buffered": f"http://127.0.0.1:{p1}/v1/chat/completions",
                            "stream": f"http://127.0.0.1:{p2}/v1/chat/completions"}

    def stop_sut(self, sut, proc):
        if proc is None:
            return
        if proc.poll() is not None:
            self.problems.append({"what": f"{sut} exited during the run", "code": proc.returncode,
                                  "log": tail(os.path.join(self.tmp, f"{sut}.log"))})
        started = time.monotonic()
        code = self.children.stop(proc)
        if code == -9:
            self.problems.append({"what": f"{sut} did not exit within 5 s of SIGTERM (killed)",
                                  "log": tail(os.path.join(self.tmp, f"{sut}.log"))})
        elif time.monotonic() - started > 2:
            self.problems.append({"what": f"{sut} took {time.monotonic() - started:.1f}s to "
                                          "exit after SIGTERM"})
        if self.redis_proc is not None:
            self.children.stop(self.redis_proc)
            self.redis_proc = None
        for name in ("sluice-access.log", "nginx/nginx-access.log"):
            path = os.path.join(self.tmp, name)
            if os.path.exists(path):
                os.remove(path)  # can be hundreds of MB per repetition

    # --- scenarios ---------------------------------------------------------------------

    def body_file(self, name, stream, mock):
        path = os.path.join(self.tmp, name)
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(configs.chat_body(stream, mock))
        return path

    def loadgen_args(self, scenario, urls):
        warmup, duration = self.durations.get(scenario, (0, 0)) if scenario != "hold" else (0, 0)
        small = self.body_file("chat.json", False, NONSTREAM_MOCK)
        stream = self.body_file("chat-stream.json", True, STREAM_MOCK)
        common = ["--warmup", str(warmup), "--duration", str(duration), "--timeout", "10"]
        for header in urls.get("headers", []):
            common += ["-H", header]
        if scenario == "r1":
            return [urls["buffered"], "--body-file", small, "-c", "64"] + common
        if scenario == "r3":
            return [urls["buffered"], "--body-file", small, "-c", "1", "--rate", "1000"] + common
        if scenario == "r6ttfe":
            # Open loop, 12.5 streams/s of ~1.3 s each: ~16 streams in flight on average,
            # with start times spread out (a closed loop would keep them in lockstep).
            return [urls["stream"], "--body-file", stream, "--sse", "-c", "64",
                    "--rate", "12.5"] + common
        if scenario == "r6cpu":
            return [urls["stream"], "--body-file", stream, "--sse", "-c", "256"] + common
        return [urls["buffered"], "--body-file", small, "--hold", "1000", "--hold-seconds",
                str(self.durations["hold"]), "--hold-request", "--timeout", "10"]

    def wait_quiet(self):
        """Waits (bounded) until processes we did not start use < 5% of a core: other
        builds or jobs on a 2-core box would otherwise distort every figure."""
        if self.args.quiet_timeout <= 0:
            return True
        deadline = time.monotonic() + self.args.quiet_timeout
        while True:
            busy, own = procs.system_busy_seconds(), procs.cpu_seconds(self.children.pids())
            time.sleep(1.0)
            foreign = (procs.system_busy_seconds() - busy) - (
                procs.cpu_seconds(self.children.pids()) - own)
            if foreign < 0.05:
                return True
            if time.monotonic() > deadline:
                print(f"  (machine still busy: {foreign * 100:.0f}% of a core used by other "
                      "processes; measuring anyway)", flush=True)
                return False
            print(f"  waiting for a quiet machine ({foreign * 100:.0f}% of a core used by "
                  "other processes)", flush=True)

    def run_scenario(self, sut, rep, scenario, urls, pids_fn):
        self.wait_quiet()
        args = self.loadgen_args(scenario, urls)
        warmup, duration = self.durations.get(scenario, (0, 0)) if scenario != "hold" else (0, 0)
        budget = warmup + duration + self.durations["hold"] + 40
        sut_handle = driver.Sut(sut, pids_fn)
        started = time.monotonic()
        raw_path = os.path.join(self.tmp, "samples.json")
        if scenario in ("r3", "r6ttfe"):
            args = args + ["--samples-out", raw_path]
        rep_report, samples = driver.run_loadgen(self.children, self.loadgen, args, sut_handle,
                                                 self.cpu("rig"), budget, nice=self.args.nice)
        metrics = report.per_run_metrics(scenario, rep_report, samples)
        if scenario in ("r3", "r6ttfe"):
            with open(raw_path) as f:
                raw = json.load(f)
            pool = self.pooled.setdefault((sut, scenario), {})
            for key, values in raw.items():
                pool.setdefault(key, []).extend(values)
        self.runs.append({"sut": sut, "rep": rep, "scenario": scenario, "args": args,
                          "metrics": metrics, "loadgen": rep_report,
                          "samples": {k: v for k, v in samples.items() if k != "stderr"}})
        errors = rep_report.get("errors_total", 0)
        flag = ""
        foreign = samples.get("foreign_cpu_s")
        wall = samples.get("wall_s") or rep_report.get("duration_s") or 1
        waited = samples.get("sut_wait_share")
        if foreign is not None and foreign / wall > 0.05:
            # Processes we did not start took > 5% of a core during the window.
            flag += f"  [other processes used {foreign / wall * 100:.0f}% of a core]"
            self.problems.append({"what": f"{sut} {scenario} rep {rep}: machine not quiet",
                                  "foreign_cpu_share": round(foreign / wall, 3),
                                  "sut_wait_share": round(waited or 0, 4)})
        if errors or rep_report.get("unsent"):
            flag = f"  ERRORS {rep_report['errors']} unsent={rep_report.get('unsent')}"
            self.problems.append({"what": f"{sut} {scenario} rep {rep}: errors",
                                  "errors": rep_report["errors"],
                                  "status_counts": rep_report.get("status_counts"),
                                  "unsent": rep_report.get("unsent"),
                                  "command": " ".join([self.loadgen] + args)})
        shown = ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in metrics.items())
        print(f"  {sut:6} rep {rep} {scenario:7} {time.monotonic() - started:5.1f}s  "
              f"{shown}{flag}", flush=True)

    def sanity(self, sut, urls):
        """One request of each kind through the SUT before measuring (with auth on, also one
        without the key, which must be refused)."""
        extra = dict(h.split(": ", 1) for h in urls.get("headers", []))
        if sut == AUTH_SUT:
            data = open(self.body_file("chat.json", False, NONSTREAM_MOCK), "rb").read()
            req = urllib.request.Request(urls["buffered"], data=data,
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    raise RuntimeError(f"{sut}: a request without a key got {resp.status}")
            except urllib.error.HTTPError as e:
                if e.code != 401:
                    raise RuntimeError(f"{sut}: a request without a key got {e.code}, not 401")
        for kind, name, stream in (("buffered", "chat.json", False),
                                   ("stream", "chat-stream.json", True)):
            mock = STREAM_MOCK if stream else NONSTREAM_MOCK
            data = open(self.body_file(name, stream, mock), "rb").read()
            if stream:
                data = data.replace(b'"itl_ms":20', b'"itl_ms":0')
            req = urllib.request.Request(urls[kind], data=data,
                                         headers={"Content-Type": "application/json", **extra})
            with urllib.request.urlopen(req, timeout=10) as resp:
                body = resp.read()
                if resp.status != 200 or (stream and not body.rstrip().endswith(b"data: [DONE]")):
                    raise RuntimeError(f"{sut}: sanity request failed: {resp.status} {body[:200]}")
                if sut in (LIMITS_SUT, REDIS_SUT) and not resp.headers.get(
                        "x-ratelimit-limit-requests"):
                    raise RuntimeError(f"{sut}: no x-ratelimit-* headers: limits are not on")
        if sut == REDIS_SUT and redis_key_count(self.redis_port) == 0:
            # Decided in process (the fallback) rather than by Redis: not what is measured.
            raise RuntimeError(f"{sut}: no counters in Redis after the sanity requests")
        if sut in OBS_SUTS:
            obs.check_configuration(sut, urls["metrics"],
                                    os.path.join(self.tmp, "sluice-access.log"))

    def start_spinners(self):
        """A SCHED_IDLE busy loop per core: the cores never enter the (virtualised) idle
        state, so waking a process costs microseconds instead of a hypervisor round trip.
        Any normal task preempts it at once; its CPU time is not charged to anyone measured."""
        if not self.pin or self.args.no_idle_spin:
            return
        code = ("import os\nos.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))\n"
                "while True:\n    pass\n")
        for cpu in (self.args.sut_cpu, self.args.rig_cpu):
            self.children.start([sys.executable, "-c", code], os.path.join(self.tmp, "spin.log"),
                                cpu=cpu)

    def run(self):
        reps = self.args.reps or (1 if self.args.quick else 3)
        self.start_spinners()
        if self.suts:
            self.start_mock()
        for rep in range(1, reps + 1) if self.suts else ():
            for sut in self.rep_order(rep):
                self.ensure_mock()
                try:
                    proc, pids_fn, urls = self.start_sut(sut)
                except (RuntimeError, OSError) as e:
                    self.fail(sut, rep, "start", e)
                    continue
                started, ended = None, None
                try:
                    if sut in OBS_SUTS:
                        started = obs.start_of_run(self.otlp if sut == obs.TRACE else None)
                    self.run_sut(sut, rep, proc, pids_fn, urls)
                finally:
                    if sut in (obs.ON, obs.TRACE) and proc.poll() is None:
                        ended = obs.scrape(urls["metrics"])  # before SIGTERM (OFF has none)
                    self.stop_sut(sut, proc)
                if ended is not None:
                    self.record_obs(sut, rep, started, ended)
        if "ROUTING" in self.wanted:
            if self.mock_proc is not None:
                self.children.stop(self.mock_proc)  # its core is the routing mocks' now
                self.mock_proc = None
            self.routing = routing.RoutingBench(self)
            self.routing_summary = self.routing.run(reps)
        return reps

    def record_obs(self, sut, rep, started, scraped):
        """Keeps (and prints) what an OBS run's sluice said in /metrics at its end, and, for
        sluice-obs-trace, what the receiver got from it (read after the exit, which flushes
        the spans still queued)."""
        entry = {"sut": sut, "rep": rep, "metrics": scraped}
        if sut == obs.TRACE:
            entry["receiver"] = obs.end_of_run(self.otlp, started)
        self.obs_runs.append(entry)
        print(f"  {sut:6} rep {rep} end     {obs.describe(entry)}", flush=True)
        for problem in obs.problems(entry):
            self.problems.append({"what": f"{sut} rep {rep}: {problem}"})

    def rep_order(self, rep):
        """The systems in run order for repetition `rep`: sluice and its variants
        (sluice-auth, sluice-limits, sluice-redis, the OBS systems) run in reverse order in
        every other repetition, so no system of a pair is always the second."""
        order = list(self.suts)
        family = [i for i, sut in enumerate(order) if is_sluice(sut)]
        if rep % 2 == 0 and len(family) > 1:
            reordered = [order[i] for i in reversed(family)]
            for i, sut in zip(family, reordered):
                order[i] = sut
        return order

    def run_sut(self, sut, rep, proc, pids_fn, urls):
        time.sleep(0.5)
        if self.want_idle and sut != "direct":
            self.runs.append({"sut": sut, "rep": rep, "scenario": "idle", "metrics": {
                "rss_idle_mb": procs.rss_kb(pids_fn()) / 1024,
                "pss_idle_mb": procs.pss_kb(pids_fn()) / 1024}})
        try:
            self.sanity(sut, urls)
        except (RuntimeError, OSError) as e:
            self.fail(sut, rep, "sanity", e)
            return
        for scenario in self.scenarios:
            if sut == "direct" and scenario in ("r6cpu", "hold"):
                continue  # no SUT to measure
            if is_sluice(sut) and sut != "sluice" and scenario not in VARIANT_SCENARIOS:
                continue  # variants are measured on throughput and latency only
            if proc is not None and proc.poll() is not None:
                return  # stop_sut reports the exit
            try:
                self.run_scenario(sut, rep, scenario, urls, pids_fn)
            except (RuntimeError, OSError, ValueError) as e:
                self.fail(sut, rep, scenario, e)

    def fail(self, sut, rep, step, error):
        print(f"  {sut:6} rep {rep} {step:7} FAILED: {error}", flush=True)
        self.problems.append({"what": f"{sut} {step} rep {rep} failed", "error": str(error)})


def is_sluice(sut):
    """Plain sluice, one of its VARIANTS or one of the OBS systems."""
    return sut == "sluice" or sut in VARIANTS.values() or sut in OBS_SUTS


def default_suts(wanted):
    """The systems to run when --suts is not given (see its help); none when only figures
    with their own setup (ROUTING) are asked for."""
    wanted = [f for f in wanted if f not in OWN_SETUP]
    if not wanted:
        return []
    if any(f not in VARIANTS and f != "OBS" for f in wanted):
        suts = list(SUTS)
    else:
        suts = ["sluice"] if any(f in VARIANTS for f in wanted) else []
    at = suts.index("sluice") + 1 if "sluice" in suts else 0
    for figure, variant in VARIANTS.items():
        if figure in wanted:
            suts.insert(at, variant)
            at += 1
    if "OBS" in wanted:
        suts[at:at] = OBS_SUTS
    return suts


def redis_key_count(port):
    """DBSIZE of the redis-server on 127.0.0.1:port (0 when it cannot be asked)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(b"*1\r\n$6\r\nDBSIZE\r\n")
            reply = conn.recv(64)
    except OSError:
        return 0
    return int(reply[1:].split(b"\r\n", 1)[0]) if reply.startswith(b":") else 0


def tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def machine_info(bench):
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    nginx = subprocess.run([bench.nginx, "-v"], capture_output=True, text=True).stderr.strip()
    sluice = subprocess.run([bench.sluice, "version"], capture_output=True,
                            text=True).stdout.strip()
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "nginx": nginx, "sluice": sluice, "pinned": bench.pin}


def main():
    args = parse_args()
    procs.install_signal_handlers()
    bench = Bench(args)
    info = machine_info(bench)
    layout = (f"SUT on core {args.sut_cpu}, rig on core {args.rig_cpu}" if bench.pin
              else "NOT pinned")
    print(f"# sluice benchmark: {info['date']}, {info['cpu']} ({info['cores']} cores), {layout}",
          flush=True)
    print(f"# scenarios: {', '.join(bench.scenarios)}; temp dir {bench.tmp}", flush=True)
    started = time.monotonic()
    reps = 0
    interrupted = False
    previous_nice = procs.set_autogroup_nice(args.nice) if args.nice else None
    try:
        reps = bench.run()
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted; stopping every child process", file=sys.stderr)
    finally:
        bench.children.stop_all()
        if previous_nice is not None:
            procs.set_autogroup_nice(previous_nice)
    summary = report.summarize(bench.runs, bench.pooled)
    tables = []
    if any(f not in VARIANTS and f not in OWN_SETUP and f != "OBS" for f in bench.wanted):
        tables.append(report.markdown_table(summary))
    for figure, variant in VARIANTS.items():
        if figure in bench.wanted:
            tables.append(report.variant_markdown_table(summary, figure))
    if "OBS" in bench.wanted:
        summary["obs_end_of_run"] = obs.totals(bench.obs_runs)
        tables.append(report.obs_markdown_table(summary))
    if bench.routing_summary is not None:
        tables.append(routing.markdown_table(bench.routing_summary))
    table = "\n\n".join(tables)
    print()
    print(table)
    noisy = sum(1 for p in bench.problems if "machine not quiet" in p["what"])
    if noisy:
        print(f"\nWARNING: during {noisy} run(s) other processes on the box used more than 5% "
              "of a core; those figures are less reliable.")
    if bench.problems:
        print("\nProblems seen:")
        for p in bench.problems:
            print(" -", json.dumps(p)[:2000])
    out = args.out or os.path.join(REPO, "bench", "results",
                                   datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ".json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"machine": info, "args": vars(args), "reps": reps,
                   "elapsed_s": round(time.monotonic() - started, 1), "interrupted": interrupted,
                   "summary": summary, "table": table, "problems": bench.problems,
                   "runs": bench.runs, "obs_runs": bench.obs_runs,
                   "routing": bench.routing_summary,
                   "routing_runs": bench.routing.runs if bench.routing else []}, f, indent=1)
    print(f"\nresults: {out} ({time.monotonic() - started:.0f}s)")
    if not args.keep_tmp:
        shutil.rmtree(bench.tmp, ignore_errors=True)
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
