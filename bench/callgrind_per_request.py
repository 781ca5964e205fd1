#!/usr/bin/env python3
"""User-space instructions per request of sluice configurations, counted by callgrind: the
deterministic figure behind the on/off cost targets (wall-clock pairs on a shared machine
swing more than the 3-10 % they are meant to resolve). See docs/benchmarks.md.

Each system is a configuration of bench/benchlib/configs.py: sluice, sluice-limits,
sluice-obs-off, sluice-obs, sluice-obs-trace. sluice runs under valgrind on core 0, the mock
(and an OTLP receiver) on core 1; after a 3 s warm-up, instrumentation is switched on for an
8 s closed loop of 8 connections (non-streaming chat requests) and 1.5 s more (the span
exporter's next flush); the instructions of all of sluice's threads are divided by the
requests completed.

Usage: python3 bench/callgrind_per_request.py --build build/release sluice sluice-limits
Standard library and valgrind only.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import cost_rig, procs  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build/release")
    parser.add_argument("systems", nargs="+")
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    tmp = tempfile.mkdtemp(prefix="sluice-callgrind-")
    rig = cost_rig.CostRig(build, tmp)
    try:
        for name in args.systems:
            port = procs.free_port()
            config = rig.sluice_config(tmp, port, name)
            out = os.path.join(tmp, f"cg.{name}.out")
            vg = subprocess.Popen(
                ["taskset", "-c", "0", "valgrind", "--tool=callgrind", "--instr-atstart=no",
                 f"--callgrind-out-file={out}", f"{build}/src/sluice", "serve", "--config",
                 config],
                stdout=open(os.path.join(tmp, f"{name}.log"), "w"), stderr=subprocess.STDOUT)
            if not procs.wait_port(port, 60, vg):
                raise RuntimeError(f"{name} did not start (log in {tmp})")
            url = f"http://127.0.0.1:{port}/v1/chat/completions"
            load = ["taskset", "-c", "1", f"{build}/bench/loadgen/sluice-loadgen", url,
                    "--body-file", rig.body, "-c", "8", "--timeout", "30", "--warmup", "0"]
            subprocess.run(load + ["--duration", "3"], capture_output=True)
            subprocess.run(["callgrind_control", "-i", "on", str(vg.pid)], capture_output=True)
            run = subprocess.run(load + ["--duration", "8"], capture_output=True, text=True)
            time.sleep(1.5)
            subprocess.run(["callgrind_control", "-i", "off", str(vg.pid)], capture_output=True)
            requests = json.loads(run.stdout)["ok"]
            vg.send_signal(signal.SIGTERM)
            vg.wait(60)
            with open(out) as f:
                total = int(re.search(r"^totals: (\d+)", f.read(), re.M).group(1))
            print(f"{name}: {requests} requests, {total / requests:,.0f} instructions/request "
                  f"(profile: {out})", flush=True)
    finally:
        rig.stop()


if __name__ == "__main__":
    main()
