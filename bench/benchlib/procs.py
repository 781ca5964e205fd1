"""Child processes of the benchmark and what /proc says about them.

Every child runs in its own process group (but in our session, hence in our scheduler
autogroup, so SCHED_IDLE and nice work between our own processes) so that it and its
descendants (nginx workers) can be signalled as a group; `Children.stop_all()` runs on
normal exit, on exceptions and on SIGINT/SIGTERM, so no sluice, nginx or mock survives.
CPU time is utime+stime from /proc/<pid>/stat (all threads of the process); memory is
VmRSS from /proc/<pid>/status.
Not thread-safe: call from the main thread (samplers only read /proc).
"""

import os
import signal
import socket
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    """A loopback TCP port that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout, proc=None):
    """Waits until 127.0.0.1:port accepts; False on timeout or if `proc` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def cpu_seconds(pids):
    """Sum of utime+stime over `pids`, in seconds (vanished processes count as 0)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def runqueue_wait_seconds(pids):
    """Time the threads of `pids` spent runnable but waiting for a CPU (schedstat field 2).
    For a system alone on its core this is the delay other processes caused it."""
    total = 0
    for pid in pids:
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            pass
    return total / 1e9


def system_busy_seconds():
    """CPU seconds all cores spent outside idle/iowait since boot (from /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / CLK_TCK


def _status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def rss_kb(pids):
    """Sum of VmRSS over `pids`, in KiB."""
    return sum(_status_kb(pid, "VmRSS") for pid in pids)


def pss_kb(pids):
    """Sum of proportional set size (shared pages split between sharers), in KiB."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except (OSError, ValueError):
            pass
    return total


def child_pids(parent):
    """Direct children of `parent` (nginx workers of the master)."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent:
                children.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return children


class Children:
    """Registry of every process the benchmark starts."""

    def __init__(self):
        self._procs = []

    def start(self, argv, log_path, cpu=None, nice=0, **kwargs):
        """Starts argv (pinned to `cpu` with taskset when given, at niceness `nice`),
        output to log_path."""
        argv = _wrap(argv, cpu, nice)
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, **_own_group(kwargs))
        self._procs.append(proc)
        return proc

    def popen(self, argv, cpu=None, nice=0, **kwargs):
        """Starts argv with caller-chosen pipes (the load generator)."""
        argv = _wrap(argv, cpu, nice)
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **_own_group(kwargs))
        self._procs.append(proc)
        return proc

    def pids(self):
        """This script and every live process it started, with their direct children."""
        own = [p.pid for p in self._procs if p.poll() is None]
        return [os.getpid()] + own + [c for pid in own for c in child_pids(pid)]

    def stop(self, proc, timeout=5.0):
        """SIGTERM to the process group, SIGKILL after `timeout`. Returns the exit code."""
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
        _signal_group(proc.pid, signal.SIGKILL)  # stragglers of the group (nginx workers)
        if proc in self._procs:
            self._procs.remove(proc)
        return proc.returncode

    def stop_all(self):
        for proc in list(reversed(self._procs)):
            try:
                self.stop(proc, timeout=3.0)
            except Exception:  # keep going: every child must go
                pass


def _own_group(kwargs):
    if sys.version_info >= (3, 11):
        return dict(kwargs, process_group=0)
    return dict(kwargs, preexec_fn=os.setpgrp)


def set_autogroup_nice(nice):
    """With autogroup scheduling, CPU is first shared between sessions, so the niceness of
    our processes only counts against each other. Sets our session's autogroup niceness
    (root only); returns the previous value, or None when that is not possible."""
    try:
        with open("/proc/self/autogroup") as f:
            previous = int(f.read().split("nice")[1])
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))
        return previous
    except (OSError, IndexError, ValueError):
        return None


def _wrap(argv, cpu, nice):
    """taskset and nice both exec their argument, so the pid stays the program's own."""
    argv = list(argv)
    if nice:
        argv = ["nice", "-n", str(nice)] + argv
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu)] + argv
    return argv


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def install_signal_handlers():
    """Turns SIGINT/SIGTERM/SIGHUP into KeyboardInterrupt so `finally:` blocks clean up
    (SIGINT explicitly too: a shell starts background jobs with SIGINT ignored)."""
    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)
