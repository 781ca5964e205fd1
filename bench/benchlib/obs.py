"""The OBS figure of bench/run.py: what observability costs (issue 6).

Three sluice systems, paired per repetition against the first (see configs.OBS_SECTIONS):
OFF (metrics disabled, no access log), ON (metrics and the access log to a file) and TRACE
(ON plus OTLP tracing at sample_ratio 0.1 to OtlpReceiver, a small Python receiver run.py
starts on the rig's core). This module starts the receiver, checks before measuring that
each system really is what it claims (the sanity step), and reads at the end of each run what
sluice's /metrics says (spans exported and dropped, log lines written and dropped) and what
the receiver got, so a receiver or a log sink that could not keep up is visible.
Not thread-safe: used from run.py's main thread.
"""

import json
import os
import sys
import urllib.error
import urllib.request

from . import procs

OFF, ON, TRACE = "sluice-obs-off", "sluice-obs", "sluice-obs-trace"
RECEIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "otlp_receiver.py")

# /metrics families read at the end of a run → key in the run's record (labels summed,
# except where a label value is named).
SCRAPED = {"sluice_requests_total": "requests",
           "sluice_trace_spans_exported_total": "spans_exported",
           ("sluice_trace_spans_dropped_total", "queue_full"): "spans_dropped_queue_full",
           ("sluice_trace_spans_dropped_total", "export_failed"): "spans_dropped_export_failed",
           "sluice_trace_export_failures_total": "export_failures",
           "sluice_log_lines_written_total": "log_lines_written",
           "sluice_log_lines_dropped_total": "log_lines_dropped"}


class OtlpReceiver:
    """The OTLP/HTTP JSON receiver process (otlp_receiver.py), pinned to the rig's core."""

    def __init__(self, children, tmp, cpu, nice):
        self.children, self.tmp, self.cpu, self.nice = children, tmp, cpu, nice
        self.proc = None
        self.port = None

    def ensure_running(self):
        """Starts the receiver unless it runs; returns its port."""
        if self.proc is not None and self.proc.poll() is None:
            return self.port
        self.port = procs.free_port()
        log = os.path.join(self.tmp, "otlp-receiver.log")
        self.proc = self.children.start([sys.executable, RECEIVER, "--port", str(self.port)],
                                        log, cpu=self.cpu, nice=self.nice)
        if not procs.wait_port(self.port, 10, self.proc):
            raise RuntimeError("the OTLP receiver did not start:\n" + _tail(log))
        return self.port

    def stats(self):
        """Its counts (requests, spans, bytes, bad_requests, parse_checks/mismatches) and
        the CPU seconds it used so far (cpu_s)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=5) as resp:
            stats = json.load(resp)
        stats["cpu_s"] = procs.cpu_seconds([self.proc.pid])
        return stats


def _tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def _get(url):
    """(status, body) of GET url; HTTP errors are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def parse_prometheus(text):
    """{(name, labels text): value} of the samples of a Prometheus text page."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if "{" in line:
            name, rest = line.split("{", 1)
            labels, value = rest.rsplit("}", 1)
        else:
            name, _, value = line.partition(" ")
            labels = ""
        try:
            samples[(name, labels)] = float(value.split()[0])
        except (ValueError, IndexError):
            pass
    return samples


def scrape(metrics_url):
    """The SCRAPED figures from sluice's /metrics, or {"error": ...}."""
    try:
        status, body = _get(metrics_url)
    except OSError as e:
        return {"error": str(e)}
    if status != 200:
        return {"error": f"GET /metrics: {status}"}
    out = {}
    for (name, labels), value in parse_prometheus(body).items():
        for family, key in SCRAPED.items():
            wanted, label = family if isinstance(family, tuple) else (family, None)
            if name == wanted and (label is None or f'reason="{label}"' in labels):
                out[key] = out.get(key, 0) + int(value)
    return out


def check_configuration(sut, metrics_url, access_log):
    """Raises RuntimeError unless `sut` is what it claims, after the sanity requests: OFF
    answers 404 on /metrics although on_main_listener is set (metrics disabled) and wrote no
    access log; ON and TRACE serve /metrics with the request counter and have an access log
    file; TRACE also has the tracing counters (an exporter exists)."""
    status, body = _get(metrics_url)
    if sut == OFF:
        if status != 404:
            raise RuntimeError(f"{sut}: /metrics answered {status}: metrics are not disabled")
        if os.path.exists(access_log):
            raise RuntimeError(f"{sut}: an access log was written ({access_log})")
        return
    if status != 200 or "sluice_requests_total" not in body:
        raise RuntimeError(f"{sut}: /metrics answered {status} without sluice_requests_total")
    if not os.path.exists(access_log):
        raise RuntimeError(f"{sut}: no access log file at {access_log}")
    if sut == TRACE and "sluice_trace_spans_exported_total" not in body:
        raise RuntimeError(f"{sut}: /metrics has no tracing counters: tracing is off")


def start_of_run(receiver):
    """What to subtract at the end of the run: the receiver's counts (None without one, or
    when it cannot be asked: the end-of-run figures then count from its start)."""
    if receiver is None:
        return None
    try:
        return receiver.stats()
    except OSError:
        return None


def end_of_run(receiver, started):
    """What the receiver got during the run (sluice has exited, so its shutdown flush is in):
    the counts minus those at the start, and the receiver's CPU seconds."""
    try:
        now = receiver.stats()
    except OSError as e:
        return {"error": str(e)}
    return {key: round(value - (started or {}).get(key, 0), 3) if key == "cpu_s"
            else value - (started or {}).get(key, 0) for key, value in now.items()}


def describe(entry):
    """One line for the console."""
    m, r = entry["metrics"], entry.get("receiver")
    if "error" in m:
        return f"/metrics: {m['error']}"
    text = (f"requests={m.get('requests')} log lines written={m.get('log_lines_written')} "
            f"dropped={m.get('log_lines_dropped')}")
    if entry["sut"] == TRACE:
        text += (f"; spans exported={m.get('spans_exported')} dropped queue_full="
                 f"{m.get('spans_dropped_queue_full')} export_failed="
                 f"{m.get('spans_dropped_export_failed')} failures={m.get('export_failures')}")
        if r is not None:
            text += (f"; receiver got {r.get('spans')} spans in {r.get('requests')} POSTs "
                     f"({r.get('bytes', 0) / 1e6:.1f} MB, {r.get('cpu_s')} s CPU)"
                     if "error" not in r else f"; receiver: {r['error']}")
    return text


def problems(entry):
    """What in an end-of-run record means the run did not measure what it should."""
    m, r = entry["metrics"], entry.get("receiver") or {}
    found = []
    if "error" in m:
        found.append(f"end-of-run /metrics failed: {m['error']}")
        return found
    if m.get("log_lines_dropped"):
        found.append(f"{m['log_lines_dropped']} access log lines dropped")
    if entry["sut"] != TRACE:
        return found
    dropped = m.get("spans_dropped_queue_full", 0) + m.get("spans_dropped_export_failed", 0)
    if dropped:
        found.append(f"{dropped} spans dropped (sluice_trace_spans_dropped_total)")
    if "error" in r:
        found.append(f"OTLP receiver: {r['error']}")
    elif r.get("spans", 0) < m.get("spans_exported", 0):
        found.append(f"the receiver counted {r.get('spans')} spans, sluice exported "
                     f"{m.get('spans_exported')}")
    if r.get("parse_mismatches"):
        found.append(f"receiver: {r['parse_mismatches']} span count mismatches")
    if not r.get("spans"):
        found.append("no spans reached the receiver")
    return found


def totals(obs_runs):
    """{sut: {figure: sum over runs}} of the end-of-run records (receiver figures prefixed
    `receiver_`)."""
    out = {}
    for entry in obs_runs:
        sums = out.setdefault(entry["sut"], {"runs": 0})
        sums["runs"] += 1
        items = list(entry["metrics"].items()) + [
            ("receiver_" + k, v) for k, v in (entry.get("receiver") or {}).items()]
        for key, value in items:
            if isinstance(value, (int, float)):
                sums[key] = sums.get(key, 0) + value
    return out
