"""The ROUTING scenario of bench/run.py: one slow deployment out of three, round robin against
P2C-EWMA, in the same run (issue 5, "p99 latency with one slow deployment out of three").

Three sluice-mocks on the rig's core serve one model group: two answer after FAST_MS, one
after SLOW_MS (`--latency-ms`; the request body does not override it). For each repetition
and each balancer (the order alternating between repetitions) a fresh sluice (one worker,
pinned to the SUT's core, the group's balancer set in its config) is measured twice:

- latency: open loop, LATENCY_RATE req/s over LATENCY_CONNS connections; p50/p99 from the
  intended send time, pooled over repetitions; the achieved throughput (the offered rate
  unless the system falls behind: then `unsent` and the latencies show it);
- capacity: closed loop, CAPACITY_CONNS connections: throughput (what a fixed number of
  concurrent clients gets done), its p99 and the SUT's CPU per request.

The slow deployment's share of requests is counted at the mocks (GET /mock/stats read at the
edges of each measured window, minus the reads themselves), pooled over repetitions. The p99
ratio round robin / P2C is given paired (median of per-repetition ratios) and pooled.
Not thread-safe: driven from run.py's main thread (the stats reads run on the driver's
reader thread, one window at a time).
"""

import json
import os
import statistics
import time
import urllib.request

from . import configs, driver, procs, report

FAST_MS, SLOW_MS = 10, 200
BALANCERS = ("round_robin", "p2c_ewma")
SLOW = 2  # index of the slow deployment (backend d2)
LATENCY_RATE, LATENCY_CONNS, CAPACITY_CONNS = 400, 128, 32
# (warmup s, measured s) per phase; 2 balancers x 3 repetitions x ~15 s stay under 2 minutes.
DURATIONS = {"full": {"latency": (2, 6), "capacity": (1, 4)},
             "quick": {"latency": (1, 2), "capacity": (0.5, 1.5)}}
BODY_MOCK = {"response_bytes": 1000}  # no latency_ms: the mocks' flags decide it


def _mock_requests(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/mock/stats", timeout=5) as resp:
        return int(json.load(resp)["requests"])


class RoutingBench:
    """Runs the scenario with the processes, paths and options of a run.py `Bench`."""

    def __init__(self, bench):
        self.bench = bench
        self.durations = DURATIONS["quick" if bench.args.quick else "full"]
        self.mock_ports = []
        self.mocks = []
        self.pooled = {b: [] for b in BALANCERS}  # latency samples (µs) over repetitions
        self.runs = []  # {"balancer", "rep", "phase", "metrics"}

    def log(self, name):
        return os.path.join(self.bench.tmp, name)

    def start_mocks(self):
        for i in range(3):
            port = procs.free_port()
            latency = SLOW_MS if i == SLOW else FAST_MS
            proc = self.bench.children.start(
                [self.bench.mock, "--listen", f"127.0.0.1:{port}", "--workers", "1",
                 "--latency-ms", str(latency), "--response-bytes", "1000"],
                self.log(f"routing-mock{i}.log"), cpu=self.bench.cpu("rig"),
                nice=self.bench.args.nice)
            if not procs.wait_port(port, 10, proc):
                raise RuntimeError(f"routing mock {i} did not start")
            self.mock_ports.append(port)
            self.mocks.append(proc)

    def stop_mocks(self):
        for proc in self.mocks:
            self.bench.children.stop(proc)
        self.mocks = []

    def start_sluice(self, balancer):
        port = procs.free_port()
        config = configs.write_routing_config(self.bench.tmp, port, self.mock_ports, balancer)
        proc = self.bench.children.start([self.bench.sluice, "serve", "--config", config],
                                         self.log(f"sluice-{balancer}.log"),
                                         cpu=self.bench.cpu("sut"), nice=self.bench.args.nice)
        if not procs.wait_port(port, 10, proc):
            raise RuntimeError(f"sluice ({balancer}) did not start")
        return proc, f"http://127.0.0.1:{port}/v1/chat/completions"

    def body_file(self):
        path = self.log("routing-chat.json")
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(configs.chat_body(False, BODY_MOCK))
        return path

    def sanity(self, url):
        with open(self.body_file(), "rb") as f:
            data = f.read()
        req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            if resp.status != 200:
                raise RuntimeError(f"sanity request got {resp.status}")
            resp.read()

    def measure(self, balancer, rep, phase, url, proc):
        warmup, duration = self.durations[phase]
        args = [url, "--body-file", self.body_file(), "--warmup", str(warmup), "--duration",
                str(duration), "--timeout", "10"]
        if phase == "latency":
            samples_path = self.log("routing-samples.json")
            args += ["-c", str(LATENCY_CONNS), "--rate", str(LATENCY_RATE),
                     "--samples-out", samples_path]
        else:
            args += ["-c", str(CAPACITY_CONNS)]
        counts = {}

        def on_marker(edge):
            try:
                counts[edge] = [_mock_requests(p) for p in self.mock_ports]
            except (OSError, ValueError, KeyError) as e:  # never break the marker reader
                counts[edge + "_error"] = str(e)

        started = time.monotonic()
        rep_report, samples = driver.run_loadgen(
            self.bench.children, self.bench.loadgen, args,
            driver.Sut(f"sluice-{balancer}", lambda: [proc.pid]), self.bench.cpu("rig"),
            warmup + duration + 40, nice=self.bench.args.nice, on_marker=on_marker)
        if "start" not in counts or "end" not in counts:
            raise RuntimeError(f"mock counters not read: {counts}")
        # Each read of /mock/stats counts itself: the end read is inside the difference.
        window = [max(0, e - s - 1) for s, e in zip(counts["start"], counts["end"])]
        lat = rep_report["latency_us"]
        m = {"rps": rep_report["throughput_rps"], "p50_us": lat.get("p50"),
             "p99_us": lat.get("p99"), "mock_window_requests": window,
             "slow_requests": window[SLOW], "all_requests": sum(window),
             "slow_share": window[SLOW] / sum(window) if sum(window) else None,
             "errors": rep_report.get("errors_total", 0), "unsent": rep_report.get("unsent", 0)}
        if samples.get("cpu_s") is not None and rep_report["window_ok"]:
            m["cpu_us_per_req"] = samples["cpu_s"] * 1e6 / rep_report["window_ok"]
        if phase == "latency":
            with open(samples_path) as f:
                self.pooled[balancer].extend(json.load(f).get("latency_us", []))
        self.runs.append({"balancer": balancer, "rep": rep, "phase": phase, "args": args,
                          "metrics": m, "loadgen": rep_report})
        if m["errors"] or m["unsent"]:
            self.bench.problems.append({"what": f"routing {balancer} {phase} rep {rep}: errors",
                                        "errors": rep_report.get("errors"),
                                        "status_counts": rep_report.get("status_counts"),
                                        "unsent": m["unsent"]})
        share = "–" if m["slow_share"] is None else f"{m['slow_share'] * 100:.1f}%"
        print(f"  {balancer:11} rep {rep} {phase:8} {time.monotonic() - started:5.1f}s  "
              f"rps={m['rps']:.1f} p50={(m['p50_us'] or 0) / 1000:.1f}ms "
              f"p99={(m['p99_us'] or 0) / 1000:.1f}ms slow share={share} "
              f"(mocks {window})", flush=True)

    def run(self, reps):
        self.start_mocks()
        try:
            for rep in range(1, reps + 1):
                order = BALANCERS if rep % 2 else tuple(reversed(BALANCERS))
                for balancer in order:
                    self.run_one(balancer, rep)
        finally:
            self.stop_mocks()
        return self.summarize()

    def run_one(self, balancer, rep):
        try:
            proc, url = self.start_sluice(balancer)
        except (RuntimeError, OSError) as e:
            self.bench.fail(f"routing {balancer}", rep, "start", e)
            return
        try:
            self.sanity(url)
            for phase in ("latency", "capacity"):
                self.measure(balancer, rep, phase, url, proc)
        except (RuntimeError, OSError, ValueError) as e:
            self.bench.fail(f"routing {balancer}", rep, "measure", e)
        finally:
            self.bench.children.stop(proc)
            access_log = self.log("sluice-access.log")
            if os.path.exists(access_log):
                os.remove(access_log)

    def summarize(self):
        """{balancer: {figure: value}, "paired": {...}, "pooled": {...}, "setup": {...}}."""
        out = {"setup": {"fast_ms": FAST_MS, "slow_ms": SLOW_MS, "rate": LATENCY_RATE,
                         "latency_conns": LATENCY_CONNS, "capacity_conns": CAPACITY_CONNS,
                         "durations": self.durations}}
        for b in BALANCERS:
            s = {}
            samples = sorted(self.pooled[b])
            if samples:
                s["latency_p50_us"] = report.percentile(samples, 50)
                s["latency_p99_us"] = report.percentile(samples, 99)
                s["latency_n"] = len(samples)
            for phase in ("latency", "capacity"):
                runs = [r["metrics"] for r in self.runs
                        if r["balancer"] == b and r["phase"] == phase]
                if not runs:
                    continue
                s[f"{phase}_rps"] = statistics.median(r["rps"] for r in runs)
                slow = sum(r["slow_requests"] for r in runs)
                total = sum(r["all_requests"] for r in runs)
                s[f"{phase}_slow_share"] = slow / total if total else None
                s[f"{phase}_slow_requests"] = slow
                s[f"{phase}_all_requests"] = total
                if phase == "capacity":
                    s["capacity_p99_us"] = statistics.median(r["p99_us"] for r in runs)
                    cpu = [r["cpu_us_per_req"] for r in runs if "cpu_us_per_req" in r]
                    if cpu:
                        s["cpu_us_per_req"] = statistics.median(cpu)
            out[b] = s
        rr, p2c = out.get("round_robin", {}), out.get("p2c_ewma", {})
        if rr.get("latency_p99_us") and p2c.get("latency_p99_us"):
            out["pooled_p99_ratio"] = rr["latency_p99_us"] / p2c["latency_p99_us"]
        out["paired_p99_ratio"] = self.paired("latency", "p99_us", "round_robin", "p2c_ewma")
        out["paired_capacity_ratio"] = self.paired("capacity", "rps", "p2c_ewma", "round_robin")
        return out

    def paired(self, phase, key, num, den):
        """Median over repetitions of num/den for `key` in `phase` (back-to-back runs)."""
        by_rep = {}
        for r in self.runs:
            if r["phase"] == phase and r["metrics"].get(key) is not None:
                by_rep.setdefault(r["rep"], {})[r["balancer"]] = r["metrics"][key]
        ratios = [v[num] / v[den] for v in by_rep.values() if v.get(num) and v.get(den)]
        return statistics.median(ratios) if ratios else None


def _ms(us):
    return "–" if us is None else f"{us / 1000:,.1f}"


def _pct(share):
    return "–" if share is None else f"{share * 100:.1f} %"


def _num(value, digits=1):
    return "–" if value is None else f"{value:,.{digits}f}"


def markdown_table(summary):
    """The ROUTING rows: (figure, round robin, p2c_ewma, comparison, target, verdict)."""
    rr, p2c = summary.get("round_robin", {}), summary.get("p2c_ewma", {})
    setup = summary["setup"]
    open_loop = f"open loop {setup['rate']} req/s"
    closed = f"closed loop c={setup['capacity_conns']}"
    share = p2c.get("latency_slow_share")
    rows = [
        (f"latency p50, {open_loop} (ms)", _ms(rr.get("latency_p50_us")),
         _ms(p2c.get("latency_p50_us")), "", "", ""),
        (f"latency p99, {open_loop} (ms)", _ms(rr.get("latency_p99_us")),
         _ms(p2c.get("latency_p99_us")),
         f"RR/P2C {_num(summary.get('paired_p99_ratio'), 2)} (paired; pooled "
         f"{_num(summary.get('pooled_p99_ratio'), 2)}); n={p2c.get('latency_n', 0)}", "", ""),
        (f"throughput, {open_loop} (req/s)", _num(rr.get("latency_rps")),
         _num(p2c.get("latency_rps")), "= offered rate unless the SUT falls behind", "", ""),
        (f"slow deployment's share, {open_loop}", _pct(rr.get("latency_slow_share")),
         _pct(share), f"at the mocks: {rr.get('latency_slow_requests', 0)}/"
         f"{rr.get('latency_all_requests', 0)} vs {p2c.get('latency_slow_requests', 0)}/"
         f"{p2c.get('latency_all_requests', 0)}", "P2C < 10 %",
         "n/a" if share is None else ("met" if share < 0.10 else "NOT met")),
        (f"throughput, {closed} (req/s)", _num(rr.get("capacity_rps")),
         _num(p2c.get("capacity_rps")),
         f"P2C/RR {_num(summary.get('paired_capacity_ratio'), 2)} (paired)", "", ""),
        (f"latency p99, {closed} (ms)", _ms(rr.get("capacity_p99_us")),
         _ms(p2c.get("capacity_p99_us")), "median of repetitions", "", ""),
        (f"slow deployment's share, {closed}", _pct(rr.get("capacity_slow_share")),
         _pct(p2c.get("capacity_slow_share")), "", "", ""),
        (f"SUT CPU per request, {closed} (µs)", _num(rr.get("cpu_us_per_req")),
         _num(p2c.get("cpu_us_per_req")), "", "", ""),
    ]
    lines = [f"ROUTING: 3 deployments, {setup['fast_ms']}/{setup['fast_ms']}/"
             f"{setup['slow_ms']} ms", "",
             "| figure | round_robin | p2c_ewma | comparison | target | verdict |",
             "|---|---:|---:|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
