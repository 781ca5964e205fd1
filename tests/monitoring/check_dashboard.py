#!/usr/bin/env python3
"""Checks the Grafana dashboard (and alert rules) against docs/metrics.md.

The dashboard must be valid JSON in the shape Grafana imports (a ${DS_PROMETHEUS} input and
templating variable, the variables model, route and instance), every PromQL expression in it
(panel targets and variable queries) must name only metrics documented in docs/metrics.md
(a histogram's _bucket/_sum/_count series count as the histogram), and every documented
metric must appear on the dashboard. With --rules, every sluice_*/process_* name in the
rule files must be documented too. Run by ctest (label monitoring); exits 1 on any failure.

Usage: check_dashboard.py DASHBOARD.json METRICS.md [--rules alerts.yml ...]
"""
import argparse
import json
import re
import sys

METRIC_NAME = re.compile(r"(?<![A-Za-z0-9_:])((?:sluice|process)_[A-Za-z0-9_:]*[A-Za-z0-9])")
# A metrics table row in docs/metrics.md: | `name` | type | ...
DOC_ROW = re.compile(r"^\|\s*`((?:sluice|process)_[a-z0-9_]+)`\s*\|\s*(counter|gauge|histogram)\s*\|")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
REQUIRED_VARIABLES = ("model", "route", "instance")
DATASOURCE = "${DS_PROMETHEUS}"


def documented_metrics(path):
    """{name: type} from the metric tables of docs/metrics.md."""
    metrics = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            match = DOC_ROW.match(line)
            if match:
                metrics[match.group(1)] = match.group(2)
    return metrics


def resolve(name, documented):
    """The documented family `name` belongs to, or None."""
    if name in documented:
        return name
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            if documented.get(base) == "histogram":
                return base
    return None


def walk_panels(panels):
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", []))


def dashboard_expressions(dashboard, errors):
    """[(where, expr)] for every panel target and query variable."""
    found = []
    for panel in walk_panels(dashboard.get("panels", [])):
        if panel.get("type") == "row":
            continue
        title = panel.get("title", "?")
        targets = panel.get("targets", [])
        if not targets:
            errors.append(f"panel {title!r} has no targets")
        if panel.get("datasource", {}).get("uid") != DATASOURCE:
            errors.append(f"panel {title!r} does not use the {DATASOURCE} data source")
        for target in targets:
            expr = target.get("expr", "")
            if not expr.strip():
                errors.append(f"panel {title!r} has a target without an expr")
            found.append((f"panel {title!r}", expr))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable.get("query")
            text = query.get("query", "") if isinstance(query, dict) else (query or "")
            found.append((f"variable {variable.get('name')!r}", text))
    return found


def check_dashboard_shape(dashboard, errors):
    for key in ("title", "uid", "panels", "templating", "schemaVersion"):
        if key not in dashboard:
            errors.append(f"the dashboard has no {key!r}")
    if not isinstance(dashboard.get("schemaVersion"), int) or dashboard["schemaVersion"] < 36:
        errors.append("schemaVersion must be that of Grafana 10 (>= 36)")
    inputs = [i.get("name") for i in dashboard.get("__inputs", [])]
    if "DS_PROMETHEUS" not in inputs:
        errors.append("__inputs lacks DS_PROMETHEUS")
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    if variables.get("DS_PROMETHEUS", {}).get("type") != "datasource":
        errors.append("templating lacks the DS_PROMETHEUS data source variable")
    for name in REQUIRED_VARIABLES:
        if name not in variables:
            errors.append(f"templating lacks the variable {name!r}")
    ids = [p.get("id") for p in walk_panels(dashboard.get("panels", []))]
    if len(ids) != len(set(ids)):
        errors.append("panel ids are not unique")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dashboard")
    parser.add_argument("metrics_md")
    parser.add_argument("--rules", action="append", default=[])
    args = parser.parse_args()

    documented = documented_metrics(args.metrics_md)
    errors = []
    if len(documented) < 10:
        errors.append(f"{args.metrics_md} documents only {len(documented)} metrics "
                      "(expected table rows like | `sluice_requests_total` | counter | ...)")
    try:
        with open(args.dashboard, encoding="utf-8") as f:
            dashboard = json.load(f)
    except (OSError, json.JSONDecodeError) as error:
        print(f"FAIL: {args.dashboard}: {error}", file=sys.stderr)
        return 1

    check_dashboard_shape(dashboard, errors)
    expressions = dashboard_expressions(dashboard, errors)
    used = set()
    for where, expr in expressions:
        names = METRIC_NAME.findall(expr)
        if not names:
            errors.append(f"{where}: no sluice_/process_ metric in {expr!r}")
        for name in names:
            family = resolve(name, documented)
            if family is None:
                errors.append(f"{where}: {name} is not documented in {args.metrics_md}")
            else:
                used.add(family)
    for name in sorted(set(documented) - used):
        errors.append(f"{name} is documented but not on the dashboard")

    for rules in args.rules:
        with open(rules, encoding="utf-8") as f:
            text = f.read()
        names = METRIC_NAME.findall(text)
        if not names:
            errors.append(f"{rules}: no sluice_/process_ metric")
        for name in sorted(set(names)):
            if resolve(name, documented) is None:
                errors.append(f"{rules}: {name} is not documented in {args.metrics_md}")

    if errors:
        for error in errors:
            print(f"FAIL: {error}", file=sys.stderr)
        return 1
    print(f"OK: {len(expressions)} expressions, {len(used)} of {len(documented)} documented "
          f"metrics on the dashboard, {len(args.rules)} rule file(s) checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
