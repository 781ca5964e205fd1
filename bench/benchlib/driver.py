"""Runs sluice-loadgen once and samples the system under test while it runs.

The load generator prints "loadgen: measure start" / "loadgen: measure end" (and, in hold
mode, "holding N connections") on stderr at those moments; this driver samples the SUT's CPU
time at start and end of the measured window and its memory during it, so CPU per request
covers exactly the requests the generator counted. A caller may also be told of the window's
edges (`on_marker`), e.g. to read the mocks' request counters at the same moments.
"""

import json
import subprocess
import threading
import time

from . import procs


class Sut:
    """What to sample: a function returning the SUT's current pids (empty for direct)."""

    def __init__(self, name, pids_fn):
        self.name = name
        self.pids = pids_fn


def run_loadgen(children, loadgen, args, sut, cpu, timeout, nice=0, hold_settle=1.0,
                on_marker=None):
    """Runs `loadgen args...` pinned to `cpu`. Returns (report dict, samples dict).
    `on_marker("start")` / `on_marker("end")`, when given, run (on a reader thread) at the
    edges of the measured window, right after the SUT's CPU is sampled."""
    proc = children.popen([loadgen] + args, cpu=cpu, nice=nice, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    samples = {"foreign_start": None, "foreign_end": None, "cpu_start": None, "cpu_end": None,
               "rss_max_kb": 0, "pss_max_kb": 0,
               "rss_hold_kb": None, "pss_hold_kb": None, "stderr": []}
    in_window = threading.Event()
    done = threading.Event()

    def sample_memory():
        pids = sut.pids()
        if not pids:
            return
        samples["rss_max_kb"] = max(samples["rss_max_kb"], procs.rss_kb(pids))
        samples["pss_max_kb"] = max(samples["pss_max_kb"], procs.pss_kb(pids))

    def read_markers():
        for line in proc.stderr:
            line = line.rstrip("\n")
            if line == "loadgen: measure start":
                samples["foreign_start"] = (procs.system_busy_seconds(),
                                            procs.cpu_seconds(children.pids()))
                if sut.pids():
                    samples["wait_start"] = procs.runqueue_wait_seconds(sut.pids())
                    samples["cpu_start"] = (time.monotonic(), procs.cpu_seconds(sut.pids()))
                if on_marker is not None:
                    on_marker("start")
                in_window.set()
            elif line == "loadgen: measure end":
                samples["foreign_end"] = (procs.system_busy_seconds(),
                                          procs.cpu_seconds(children.pids()))
                if sut.pids():
                    samples["wait_end"] = procs.runqueue_wait_seconds(sut.pids())
                    samples["cpu_end"] = (time.monotonic(), procs.cpu_seconds(sut.pids()))
                if on_marker is not None:
                    on_marker("end")
                in_window.clear()
            elif line.startswith("holding "):
                time.sleep(hold_settle)
                pids = sut.pids()
                samples["rss_hold_kb"] = procs.rss_kb(pids)
                samples["pss_hold_kb"] = procs.pss_kb(pids)
            else:
                samples["stderr"].append(line)

    def poll_memory():
        while not done.is_set():
            if in_window.is_set():
                sample_memory()
            time.sleep(0.25)

    stdout = []
    threads = [threading.Thread(target=read_markers, daemon=True),
               threading.Thread(target=poll_memory, daemon=True),
               threading.Thread(target=lambda: stdout.append(proc.stdout.read()), daemon=True)]
    for t in threads:
        t.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        children.stop(proc)
        raise RuntimeError(f"sluice-loadgen did not finish within {timeout:.0f}s: "
                           + " ".join(args))
    finally:
        done.set()
        children.stop(proc)
        for t in threads:
            t.join(2)
    out = stdout[0] if stdout else ""
    if proc.returncode != 0 or not out.strip():
        raise RuntimeError(f"sluice-loadgen failed (exit {proc.returncode}): "
                           + " | ".join(samples["stderr"][-5:]))
    report = json.loads(out)
    if samples.get("foreign_start") and samples.get("foreign_end"):
        busy = samples["foreign_end"][0] - samples["foreign_start"][0]
        own = samples["foreign_end"][1] - samples["foreign_start"][1]
        samples["foreign_cpu_s"] = max(0.0, busy - own)
    if samples["cpu_start"] and samples["cpu_end"]:
        samples["cpu_s"] = samples["cpu_end"][1] - samples["cpu_start"][1]
        samples["wall_s"] = samples["cpu_end"][0] - samples["cpu_start"][0]
        samples["sut_wait_share"] = (samples["wait_end"] - samples["wait_start"]) / max(
            samples["wall_s"], 1e-9)
    return report, samples
