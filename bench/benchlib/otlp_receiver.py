#!/usr/bin/env python3
"""A minimal OTLP/HTTP JSON trace receiver for the OBS scenario of bench/run.py.

Answers 200 `{}` to every POST /v1/traces and counts the requests, bytes and spans it got;
GET /stats returns those counts as JSON. run.py starts it (as its own process, pinned to the
rig's core with the load generator and the mock) for "sluice-obs-trace", so the exporter
talks to a real HTTP server, and reads the counts at the end of each run: a receiver that
could not keep up shows as spans sluice dropped (sluice_trace_spans_dropped_total) or as
fewer spans here than sluice exported.

Spans are counted as occurrences of the `"spanId"` key (sluice's encoder writes one per span;
`parentSpanId` does not match, and it emits no links), which costs ~0.1 ms per 512-span
batch where a full JSON parse costs several: the receiver shares the rig's core, so its own
CPU would otherwise weigh on the measured system's figures. Every CHECK_EVERY-th request is
also parsed in full and the two counts compared (`parse_mismatches` in /stats).

Usage: python3 otlp_receiver.py --port P
Standard library only; ThreadingHTTPServer (one thread per connection; the counts are
guarded by one lock).
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHECK_EVERY = 50  # every n-th POST is also parsed in full to check the fast count


class Counts:
    """What the receiver has seen. Thread-safe: every member is used under `lock`."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.spans = 0
        self.bytes = 0
        self.bad_requests = 0
        self.parse_checks = 0
        self.parse_mismatches = 0

    def snapshot(self):
        with self.lock:
            return {"requests": self.requests, "spans": self.spans, "bytes": self.bytes,
                    "bad_requests": self.bad_requests, "parse_checks": self.parse_checks,
                    "parse_mismatches": self.parse_mismatches}


COUNTS = Counts()


def parsed_span_count(body):
    """Spans in an ExportTraceServiceRequest, by a full JSON parse."""
    document = json.loads(body)
    return sum(len(scope.get("spans", []))
               for resource in document.get("resourceSpans", [])
               for scope in resource.get("scopeSpans", []))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the exporter expects

    def reply(self, status, body, content_type="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def setup(self):
        super().setup()
        log(f"connection from {self.client_address[1]}")

    def finish(self):
        super().finish()
        log(f"connection from {self.client_address[1]} closed")

    def do_POST(self):  # noqa: N802 (http.server's naming)
        started = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if self.path.split("?", 1)[0] != "/v1/traces" or not body:
            with COUNTS.lock:
                COUNTS.bad_requests += 1
            self.reply(404 if body else 400, "{}")
            return
        spans = body.count(b'"spanId"')
        with COUNTS.lock:
            COUNTS.requests += 1
            COUNTS.spans += spans
            COUNTS.bytes += len(body)
            check = COUNTS.requests % CHECK_EVERY == 1
        if check:
            try:
                mismatch = parsed_span_count(body) != spans
            except (ValueError, AttributeError, TypeError):
                mismatch = True
            with COUNTS.lock:
                COUNTS.parse_checks += 1
                COUNTS.parse_mismatches += int(mismatch)
        self.reply(200, "{}")
        log(f"POST from {self.client_address[1]}: {len(body)} bytes, {spans} spans, answered "
            f"after {(time.monotonic() - started) * 1000:.1f} ms")

    def do_GET(self):  # noqa: N802
        if self.path == "/stats":
            self.reply(200, json.dumps(COUNTS.snapshot()))
        else:
            self.reply(404, "{}")

    def log_message(self, format, *args):  # noqa: A002: quiet; the counts are the output
        pass


def log(line):
    """One line to stderr (run.py's log file of the receiver), with the wall-clock time."""
    now = time.time()
    stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
    print(f"{stamp} {line}", file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description="OTLP/HTTP JSON span counter")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
