"""Aggregation of the benchmark runs into the R1-R8 figures, and the markdown table.

Throughput, CPU and memory figures are the median over repetitions of one per-run value;
latency percentiles (R3, R6 TTFE) are computed over the samples of all repetitions pooled,
since a p99 of one repetition rests on few samples. The sluice/nginx ratios that decide a
target are paired: the median of per-repetition ratios (both systems ran back to back), so
slow drifts of a shared VM cancel; the ratio of medians is shown beside it. The R3
latency differences that decide a target are paired the same way (median of per-repetition
sluice − nginx), with the difference of the pooled percentiles beside it; the R6 TTFE p99
difference is taken from the pooled samples (one repetition has too few streams). Targets are checked honestly: a figure
that could not be measured is "n/a", never "met".

The variant figures pair a variant of sluice with plain "sluice" the same way
(per-repetition ratios and differences, then the median): AUTH "sluice-auth" (API key auth
on), LIMITS "sluice-limits" (in-process limits on), REDIS "sluice-redis" (limits on Redis).
The OBS figure pairs "sluice-obs" (metrics and access log) and "sluice-obs-trace" (plus
tracing at 10 %) with "sluice-obs-off" (observability off) the same way.
"""

import math
import statistics

from . import obs


def per_run_metrics(scenario, report, samples):
    """The numbers one loadgen run contributes, by metric name."""
    m = {}
    cpu_s = samples.get("cpu_s")
    wall_s = samples.get("wall_s")
    if scenario == "r1":
        m["rps"] = report["throughput_rps"]
        if cpu_s is not None and report["window_ok"]:
            m["cpu_us_per_req"] = cpu_s * 1e6 / report["window_ok"]
            m["cpu_util"] = cpu_s / wall_s if wall_s else None
        m["resp_bytes"] = report["bytes_in"] / max(1, sum(report["status_counts"].values()))
    elif scenario == "r3":
        lat, svc = report["latency_us"], report["service_latency_us"]
        m.update(p50=lat.get("p50"), p99=lat.get("p99"), svc_p50=svc.get("p50"),
                 svc_p99=svc.get("p99"), lag_p50=report.get("send_lag_us", {}).get("p50"))
    elif scenario == "r6ttfe":
        m.update(ttfe_p50=report["ttfe_us"].get("p50"), ttfe_p99=report["ttfe_us"].get("p99"),
                 ttfe_n=report["ttfe_us"].get("count"), gap_p50=report["gap_us"].get("p50"),
                 gap_p99=report["gap_us"].get("p99"))
    elif scenario == "r6cpu":
        m["events_per_s"] = report["events_per_s"]
        if cpu_s is not None and report["window_events"]:
            m["cpu_us_per_event"] = cpu_s * 1e6 / report["window_events"]
        if samples.get("rss_max_kb"):
            m["rss_streams_mb"] = samples["rss_max_kb"] / 1024
            m["pss_streams_mb"] = samples["pss_max_kb"] / 1024
    elif scenario == "hold":
        if samples.get("rss_hold_kb"):
            m["rss_hold_mb"] = samples["rss_hold_kb"] / 1024
            m["pss_hold_mb"] = samples["pss_hold_kb"] / 1024
        m["held"] = report.get("held_at_end")
    return {k: v for k, v in m.items() if v is not None}


def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list (as sluice-loadgen computes it)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


AUTH_ON, AUTH_OFF = "sluice-auth", "sluice"
# Figure → (variant system, what it turns on, summary key, throughput target on/off).
VARIANTS = {"AUTH": (AUTH_ON, "auth", "paired_auth", 0.95),
            "LIMITS": ("sluice-limits", "limits", "paired_limits", 0.97),
            "REDIS": ("sluice-redis", "Redis limits", "paired_redis", 0.75)}

# OBS: (system, what it turns on, throughput target on/off, CPU per request target on/off),
# each paired with obs.OFF; the summary key is "paired_obs" (by system).
OBS_VARIANTS = ((obs.ON, "metrics+logs", 0.95, 1.05), (obs.TRACE, "+tracing 10 %", 0.90, 1.10))

# Pooled latency figures: metric name → (scenario, sample series, percentile).
POOLED = {"p50": ("r3", "latency_us", 50), "p99": ("r3", "latency_us", 99),
          "svc_p50": ("r3", "service_latency_us", 50),
          "svc_p99": ("r3", "service_latency_us", 99),
          "ttfe_p50": ("r6ttfe", "ttfe_us", 50), "ttfe_p99": ("r6ttfe", "ttfe_us", 99),
          "ttfe_n": ("r6ttfe", "ttfe_us", None)}


def _by_rep(runs, key):
    by_rep = {}
    for run in runs:
        if key in run["metrics"]:
            by_rep.setdefault(run["rep"], {})[run["sut"]] = run["metrics"][key]
    return by_rep.values()


def paired_ratios(runs, key, sut="sluice", baseline="nginx"):
    """Median over repetitions of sut/baseline for `key`, each ratio taken within one
    repetition (the two systems ran back to back, so slow drifts of the machine cancel)."""
    ratios = [r[sut] / r[baseline] for r in _by_rep(runs, key)
              if r.get(sut) is not None and r.get(baseline)]
    return statistics.median(ratios) if ratios else None


def paired_differences(runs, key, sut="sluice", baseline="nginx"):
    """Median over repetitions of sut − baseline for `key` (µs), each difference taken
    within one repetition, like paired_ratios: drifts of a shared VM cancel."""
    diffs = [r[sut] - r[baseline] for r in _by_rep(runs, key)
             if r.get(sut) is not None and r.get(baseline) is not None]
    return statistics.median(diffs) if diffs else None


def summarize(runs, pooled=None):
    """{sut: {metric: figure}}: medians over runs, pooled percentiles where available."""
    values = {}
    for run in runs:
        for key, value in run["metrics"].items():
            values.setdefault(run["sut"], {}).setdefault(key, []).append(value)
    summary = {sut: {k: statistics.median(v) for k, v in metrics.items()}
               for sut, metrics in values.items()}
    for (sut, scenario), series in (pooled or {}).items():
        for metric, (from_scenario, name, q) in POOLED.items():
            samples = sorted(series.get(name, []))
            if from_scenario != scenario or not samples:
                continue
            summary.setdefault(sut, {})[metric] = (
                len(samples) if q is None else percentile(samples, q))
    for key in ("rps", "cpu_us_per_req", "cpu_us_per_event"):
        ratio = paired_ratios(runs, key)
        if ratio is not None:
            summary.setdefault("paired", {})[key] = ratio
    for key in ("p50", "p99"):
        diff = paired_differences([r for r in runs if r.get("scenario") == "r3"], key)
        if diff is not None:
            summary.setdefault("paired_diff", {})[key] = diff
    # Each variant (on) against plain sluice (off), paired within each repetition.
    for on, _, summary_key, _ in VARIANTS.values():
        paired = {}
        for key in ("rps", "cpu_us_per_req"):
            paired[key] = paired_ratios(runs, key, on, "sluice")
        for key in ("cpu_us_per_req", "p50", "p99"):
            paired[key + "_diff"] = paired_differences(runs, key, on, "sluice")
        paired = {k: v for k, v in paired.items() if v is not None}
        if paired:
            summary[summary_key] = paired
    for on, _, _, _ in OBS_VARIANTS:
        paired = _paired_against(runs, on, obs.OFF)
        if paired:
            summary.setdefault("paired_obs", {})[on] = paired
    return summary


def _paired_against(runs, on, off):
    """Per-repetition ratios (throughput, CPU per request) and differences (CPU, R3 p50 and
    p99) of `on` against `off`, medians over repetitions; missing figures left out."""
    paired = {}
    for key in ("rps", "cpu_us_per_req"):
        paired[key] = paired_ratios(runs, key, on, off)
    for key in ("cpu_us_per_req", "p50", "p99"):
        paired[key + "_diff"] = paired_differences(runs, key, on, off)
    return {k: v for k, v in paired.items() if v is not None}


def _get(summary, sut, key):
    return summary.get(sut, {}).get(key)


def _fmt(value, digits=1):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _signed(value, digits=1):
    return "–" if value is None else f"{value:+,.{digits}f}"


def _verdict(value, limit, higher_is_better):
    if value is None:
        return "n/a"
    ok = value >= limit if higher_is_better else value <= limit
    return "met" if ok else "NOT met"


def build_rows(summary):
    """Rows: (id, metric, sluice, nginx, direct, comparison, target, verdict)."""
    g = lambda sut, key: _get(summary, sut, key)  # noqa: E731
    rows = []

    def ratio(key):
        s, n = g("sluice", key), g("nginx", key)
        return s / n if s is not None and n else None

    def paired(key):
        """(verdict ratio, comparison text): the paired median, with the ratio of medians."""
        p, r = g("paired", key), ratio(key)
        value = p if p is not None else r
        return value, f"sluice/nginx {_fmt(value, 3)} (paired; of medians {_fmt(r, 3)})"

    def diff(key, other):
        s, o = g("sluice", key), g(other, key)
        return s - o if s is not None and o is not None else None

    r1, text = paired("rps")
    rows.append(("R1", "throughput, c=64 closed loop (req/s)", g("sluice", "rps"),
                 g("nginx", "rps"), g("direct", "rps"), text, "≥ 0.90",
                 _verdict(r1, 0.9, True)))
    rows.append(("R1", "SUT core utilisation in R1 window", g("sluice", "cpu_util"),
                 g("nginx", "cpu_util"), None, "1.0 = SUT core saturated", "", ""))
    r2, text = paired("cpu_us_per_req")
    rows.append(("R2", "CPU per request (µs)", g("sluice", "cpu_us_per_req"),
                 g("nginx", "cpu_us_per_req"), None, text, "≤ 1.20",
                 _verdict(r2, 1.2, False)))
    for key, limit in (("p50", 20.0), ("p99", 100.0)):
        d_n, d_d = diff(key, "nginx"), diff(key, "direct")
        d_paired = g("paired_diff", key)
        value = d_paired if d_paired is not None else d_n
        rows.append(("R3", f"latency {key}, 1 conn open loop (µs)", g("sluice", key),
                     g("nginx", key), g("direct", key),
                     f"−nginx {_fmt(value)} (paired; pooled {_fmt(d_n)}), −direct {_fmt(d_d)}",
                     f"≤ +{limit:.0f} vs nginx", _verdict(value, limit, False)))
    for key in ("svc_p50", "svc_p99"):
        rows.append(("R3", f"service time {key[4:]}, from actual send (µs)", g("sluice", key),
                     g("nginx", key), g("direct", key), f"−nginx {_fmt(diff(key, 'nginx'))}",
                     "", ""))
    for key, label, limit in (("ttfe_p50", "TTFE p50", None), ("ttfe_p99", "TTFE p99", 100.0)):
        d_n, d_d = diff(key, "nginx"), diff(key, "direct")
        rows.append(("R6", f"{label}, ~16 streams of 64×20 ms (µs)", g("sluice", key),
                     g("nginx", key), g("direct", key),
                     f"−nginx {_fmt(d_n)}, −direct {_fmt(d_d)}"
                     + (f"; n={_fmt(g('sluice', 'ttfe_n'), 0)}" if limit else ""),
                     f"≤ +{limit:.0f} vs nginx" if limit else "",
                     _verdict(d_n, limit, False) if limit else ""))
    rows.append(("R6", "inter-event gap p99 (µs)", g("sluice", "gap_p99"), g("nginx", "gap_p99"),
                 g("direct", "gap_p99"), "", "", ""))
    _, text = paired("cpu_us_per_event")
    rows.append(("R6", "CPU per event, 256 streams (µs)", g("sluice", "cpu_us_per_event"),
                 g("nginx", "cpu_us_per_event"), None, text, "", ""))
    idle = g("sluice", "rss_idle_mb")
    rows.append(("R8", "RSS idle (MB)", idle, g("nginx", "rss_idle_mb"), None, "", "≤ 15 MB",
                 _verdict(idle, 15.0, False)))
    held = [g(sut, "held") for sut in ("sluice", "nginx")]
    rows.append(("R8", "RSS holding 1,000 connections (MB)", g("sluice", "rss_hold_mb"),
                 g("nginx", "rss_hold_mb"), None,
                 "still open at end: " + " / ".join(_fmt(h, 0) for h in held), "", ""))
    rows.append(("R8", "RSS during 256 streams (MB)", g("sluice", "rss_streams_mb"),
                 g("nginx", "rss_streams_mb"), None, "", "", ""))
    return rows


def markdown_table(summary):
    lines = ["| R | figure | sluice | nginx | direct | comparison | target | verdict |",
             "|---|---|---:|---:|---:|---|---|---|"]
    for rid, metric, s, n, d, comp, target, verdict in build_rows(summary):
        digits = 2 if "utilisation" in metric or "per event" in metric else 1
        lines.append(f"| {rid} | {metric} | {_fmt(s, digits)} | {_fmt(n, digits)} | "
                     f"{_fmt(d, digits)} | {comp} | {target} | {verdict} |")
    return "\n".join(lines)


def build_variant_rows(summary, figure):
    """Rows of a variant figure (AUTH, LIMITS, REDIS): (id, metric, off, on, comparison,
    target, verdict)."""
    on_sut, _, summary_key, target = VARIANTS[figure]
    off_sut = "sluice"
    g = lambda sut, key: _get(summary, sut, key)  # noqa: E731
    paired = summary.get(summary_key, {})
    rows = []

    def pooled_diff(key):
        on, off = g(on_sut, key), g(off_sut, key)
        return on - off if on is not None and off is not None else None

    def of_medians(key):
        on, off = g(on_sut, key), g(off_sut, key)
        return on / off if on is not None and off else None

    ratio = paired.get("rps", of_medians("rps"))
    rows.append((figure, "throughput, c=64 closed loop (req/s)", g(off_sut, "rps"),
                 g(on_sut, "rps"),
                 f"on/off {_fmt(ratio, 3)} (paired; of medians {_fmt(of_medians('rps'), 3)})",
                 f"≥ {target:.2f}", _verdict(ratio, target, True)))
    rows.append((figure, "CPU per request (µs)", g(off_sut, "cpu_us_per_req"),
                 g(on_sut, "cpu_us_per_req"),
                 f"on/off {_fmt(paired.get('cpu_us_per_req'), 3)}, "
                 f"{_signed(paired.get('cpu_us_per_req_diff'), 2)} µs (paired)", "", ""))
    for key in ("p50", "p99"):
        rows.append((figure, f"latency {key}, 1 conn open loop (µs)", g(off_sut, key),
                     g(on_sut, key),
                     f"on−off {_signed(paired.get(key + '_diff'))} (paired; "
                     f"pooled {_signed(pooled_diff(key))})", "", ""))
    for key in ("svc_p50", "svc_p99"):
        rows.append((figure, f"service time {key[4:]}, from actual send (µs)", g(off_sut, key),
                     g(on_sut, key), f"on−off {_signed(pooled_diff(key))} (pooled)", "", ""))
    return rows


def variant_markdown_table(summary, figure):
    on_sut, what, _, _ = VARIANTS[figure]
    lines = [f"| R | figure | {what} off (sluice) | {what} on ({on_sut}) | comparison | target | "
             "verdict |", "|---|---|---:|---:|---|---|---|"]
    for rid, metric, off, on, comp, target, verdict in build_variant_rows(summary, figure):
        lines.append(f"| {rid} | {metric} | {_fmt(off)} | {_fmt(on)} | {comp} | {target} | "
                     f"{verdict} |")
    return "\n".join(lines)



def build_obs_rows(summary):
    """Rows of the OBS figure: (metric, off, on, trace, obs/off, trace/off, target, verdict)."""
    g = lambda sut, key: _get(summary, sut, key)  # noqa: E731
    paired = summary.get("paired_obs", {})
    rows = []

    def comparison(on, key, diff_key=None, digits=3, ratio=True):
        p = paired.get(on, {})
        value = p.get(key if ratio else diff_key)
        text = _fmt(value, digits) if ratio else _signed(value)
        if ratio:
            a, b = g(on, key), g(obs.OFF, key)
            text += f" (paired; of medians {_fmt(a / b if a is not None and b else None, 3)})"
            if diff_key and p.get(diff_key) is not None:
                text += f", {_signed(p[diff_key], 2)} µs"
        else:
            a, b = g(on, diff_key[:-5]), g(obs.OFF, diff_key[:-5])
            pooled = a - b if a is not None and b is not None else None
            text += f" (paired; pooled {_signed(pooled)})"
        return value, text

    def verdicts(values, limits, higher_is_better):
        return ", ".join(f"{name} {_verdict(v, limit, higher_is_better)}"
                         for name, v, limit in zip(("obs", "trace"), values, limits))

    on, trace = obs.ON, obs.TRACE
    (_, _, on_rps, on_cpu), (_, _, trace_rps, trace_cpu) = OBS_VARIANTS
    v_on, t_on = comparison(on, "rps")
    v_tr, t_tr = comparison(trace, "rps")
    rows.append(("throughput, c=64 closed loop (req/s)", g(obs.OFF, "rps"), g(on, "rps"),
                 g(trace, "rps"), t_on, t_tr, f"obs ≥ {on_rps:.2f}, trace ≥ {trace_rps:.2f}",
                 verdicts((v_on, v_tr), (on_rps, trace_rps), True)))
    v_on, t_on = comparison(on, "cpu_us_per_req", "cpu_us_per_req_diff")
    v_tr, t_tr = comparison(trace, "cpu_us_per_req", "cpu_us_per_req_diff")
    rows.append(("CPU per request (µs)", g(obs.OFF, "cpu_us_per_req"), g(on, "cpu_us_per_req"),
                 g(trace, "cpu_us_per_req"), t_on, t_tr,
                 f"obs ≤ {on_cpu:.2f}, trace ≤ {trace_cpu:.2f}",
                 verdicts((v_on, v_tr), (on_cpu, trace_cpu), False)))
    for key in ("p50", "p99"):
        _, t_on = comparison(on, None, key + "_diff", ratio=False)
        _, t_tr = comparison(trace, None, key + "_diff", ratio=False)
        rows.append((f"latency {key}, 1 conn open loop (µs)", g(obs.OFF, key), g(on, key),
                     g(trace, key), "on−off " + t_on, "on−off " + t_tr, "", ""))
    for key in ("svc_p50", "svc_p99"):
        diffs = []
        for sut in (on, trace):
            a, b = g(sut, key), g(obs.OFF, key)
            diffs.append(f"on−off {_signed(a - b if a is not None and b is not None else None)}"
                         " (pooled)")
        rows.append((f"service time {key[4:]}, from actual send (µs)", g(obs.OFF, key),
                     g(on, key), g(trace, key), diffs[0], diffs[1], "", ""))
    ends = summary.get("obs_end_of_run", {})
    t = ends.get(trace, {})
    if t:
        dropped = t.get("spans_dropped_queue_full", 0) + t.get("spans_dropped_export_failed", 0)
        rows.append(("spans: received by the OTLP receiver / exported / dropped (all runs)",
                     None, None, None, "",
                     f"{t.get('receiver_spans', 0):,} / {t.get('spans_exported', 0):,} / "
                     f"{dropped:,} (queue_full {t.get('spans_dropped_queue_full', 0):,}); "
                     f"{t.get('receiver_requests', 0):,} POSTs, receiver CPU "
                     f"{t.get('receiver_cpu_s', 0):.1f} s", "dropped = 0",
                     "met" if dropped == 0 and t.get("receiver_spans") else "NOT met"))
    logs = [ends.get(sut, {}).get("log_lines_dropped") for sut in (on, trace)]
    if any(v is not None for v in logs):
        rows.append(("access log lines dropped (all runs)", None, None, None,
                     _fmt(logs[0], 0), _fmt(logs[1], 0), "", ""))
    return rows


def obs_markdown_table(summary):
    lines = [f"| R | figure | observability off ({obs.OFF}) | metrics+logs ({obs.ON}) | "
             f"+tracing 10 % ({obs.TRACE}) | obs/off | trace/off | target | verdict |",
             "|---|---|---:|---:|---:|---|---|---|---|"]
    for metric, off, on, trace, c_on, c_tr, target, verdict in build_obs_rows(summary):
        lines.append(f"| OBS | {metric} | {_fmt(off)} | {_fmt(on)} | {_fmt(trace)} | {c_on} | "
                     f"{c_tr} | {target} | {verdict} |")
    return "\n".join(lines)
