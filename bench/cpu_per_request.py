#!/usr/bin/env python3
"""CPU time per request of sluice configurations at one fixed request rate: the figure behind
the on/off cost targets of issues 4 and 6, user and kernel time together.

Each system is a configuration of bench/benchlib/configs.py (sluice, sluice-limits, sluice-redis,
sluice-obs-off, sluice-obs, sluice-obs-trace). All of them run at once, idle but one, each
pinned to core 0 (one worker); the mock, the load generator and the OTLP receiver share core
1. Round after round, every system in turn gets an open-loop run of non-streaming chat
requests at --rate for --duration seconds (after 1 s of warm-up at the same rate), and its
CPU time over the run is read from /proc/<pid>/task/*/schedstat (nanoseconds on a CPU, all
threads, user and kernel). sluice-redis's redis-server runs on core 1, as the separate service
it is in a deployment; its CPU per request is printed apart. The rate is well below saturation so every system serves the same
load; a system's CPU per request is that time over the requests completed. Rounds interleave
the systems, so drift on the machine hits all of them alike; each ratio is the median over
rounds of the per-round ratio against the first system.

Usage: python3 bench/cpu_per_request.py --build build/release [--rate 12000 --rounds 15] \\
           sluice-obs-off sluice-obs sluice-obs-trace
Standard library only. See docs/benchmarks.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import cost_rig, procs  # noqa: E402


def cpu_nanos(pid):
    """Nanoseconds all threads of `pid` have spent on a CPU (schedstat field 1)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, IndexError, ValueError):
            pass
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--rate", type=float, default=12000, help="requests/s (open loop)")
    parser.add_argument("--duration", type=float, default=3, help="measured seconds per run")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--together", action="store_true",
                        help="load all systems at once, each at rate / number of systems")
    parser.add_argument("systems", nargs="+")
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    tmp = tempfile.mkdtemp(prefix="sluice-cpu-")
    children = []
    rig = None

    def spawn(argv, cpu, **kwargs):
        proc = subprocess.Popen(["taskset", "-c", str(cpu)] + argv, **kwargs)
        children.append(proc)
        return proc

    try:
        rig = cost_rig.CostRig(build, tmp)
        servers = {}
        for name in args.systems:
            own = os.path.join(tmp, name)
            os.makedirs(own)
            port = procs.free_port()
            config = rig.sluice_config(own, port, name)
            proc = spawn([f"{build}/src/sluice", "serve", "--config", config], 0,
                         stdout=open(os.path.join(own, "sluice.log"), "w"),
                         stderr=subprocess.STDOUT)
            if not procs.wait_port(port, 30, proc):
                raise RuntimeError(f"{name} did not start (log in {own})")
            servers[name] = (proc, f"http://127.0.0.1:{port}/v1/chat/completions")

        def start_load(url, rate, seconds):
            return subprocess.Popen(
                ["taskset", "-c", "1", f"{build}/bench/loadgen/sluice-loadgen", url,
                 "--body-file", rig.body, "-c", str(args.connections), "-R", str(rate),
                 "--timeout", "10", "--warmup", "0", "--duration", str(seconds)],
                stdout=subprocess.PIPE, text=True)

        def measure(names, rate):
            """Loads `names` at once (each at `rate`) after a 1 s warm-up; per name: requests
            completed, sluice's CPU nanoseconds, redis-server's (sluice-redis only)."""
            for load in [start_load(servers[n][1], rate, 1) for n in names]:
                load.communicate()
            redis_pid = rig.redis[0].pid if "sluice-redis" in names else None
            before = {n: cpu_nanos(servers[n][0].pid) for n in names}
            redis_before = cpu_nanos(redis_pid) if redis_pid else 0
            loads = {n: start_load(servers[n][1], rate, args.duration) for n in names}
            reports = {n: json.loads(load.communicate()[0]) for n, load in loads.items()}
            out = {n: (reports[n]["ok"], cpu_nanos(servers[n][0].pid) - before[n],
                       sum(reports[n].get("errors", {}).values())) for n in names}
            redis_used = cpu_nanos(redis_pid) - redis_before if redis_pid else 0
            return out, redis_used

        per_request = {name: [] for name in args.systems}
        redis_cpu = []  # µs per request of the redis-server behind sluice-redis
        for round_index in range(args.rounds):
            if args.together:
                batches = [args.systems]
                rate = args.rate / len(args.systems)
            else:
                batches = [[name] for name in args.systems]
                rate = args.rate
            for batch in batches:
                results, redis_used = measure(batch, rate)
                for name, (ok, used, errors) in results.items():
                    per_request[name].append(used / 1000 / ok)
                    redis_note = ""
                    if name == "sluice-redis":
                        redis_cpu.append(redis_used / 1000 / ok)
                        redis_note = f" (redis-server: {redis_cpu[-1]:.2f} µs/request more)"
                    print(f"round {round_index + 1} {name}: {ok} ok, {errors} errors, "
                          f"{used / 1e9:.3f} s CPU, {used / 1000 / ok:.2f} µs/request"
                          f"{redis_note}", flush=True)
        base = args.systems[0]
        mode = (f"all {len(args.systems)} at once, {args.rate / len(args.systems):g} req/s each"
                if args.together else f"one at a time, {args.rate:g} req/s")
        print(f"\nCPU per request ({mode}), median of {args.rounds} rounds "
              f"(ratio: median of the per-round ratios to {base}):")
        for name in args.systems:
            values = per_request[name]
            ratios = [v / b for v, b in zip(values, per_request[base])]
            spread = ""
            if name != base and len(ratios) > 1:
                half = 1.96 * statistics.stdev(ratios) / len(ratios) ** 0.5
                spread = (f", mean {statistics.mean(ratios):.3f} ± {half:.3f} (95 % interval "
                          "of the mean)")
            print(f"  {name:18} {statistics.median(values):7.2f} µs   ratio "
                  f"{statistics.median(ratios):.3f} (rounds {min(ratios):.3f}–{max(ratios):.3f}"
                  f"{spread})")
        if redis_cpu:
            print(f"  redis-server behind sluice-redis: {statistics.median(redis_cpu):.2f} µs "
                  "per request (median; not in sluice-redis's figure)")
    finally:
        if rig is not None:
            rig.stop()
        for proc in children:
            proc.terminate()
        for proc in children:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
