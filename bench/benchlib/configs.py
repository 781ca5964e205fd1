"""Generated configurations and request bodies for the benchmark.

The sluice YAML and nginx.conf are written into the run's temporary directory; both proxy
to the same sluice-mock, both write an access log to a file (so logging cost is included on
both sides), and nginx keeps upstream connections alive (HTTP/1.1, Connection "") the way
sluice's pool does. nginx serves two ports: one with proxy_buffering on (non-streaming
runs) and one with proxy_buffering off (SSE runs).

The "sluice-auth" variant is the same sluice configuration with identity and access on: an
auth: section (no admin key bootstrap; a demo key of role user written to a file at first
start), a SQLite store in the run's temporary directory, and the auth and authorize filters
between request_id and access_log, so the only difference to "sluice" is the key check.

The "sluice-limits" variant adds traffic control with the in-process counter store: the
rate_limit filter after access_log, a price for the model (so the money budget is really
charged and settled), and one policy shaped like the per-key policy of `make run`
(config/sluice.yaml: requests with a burst, tokens, concurrency and a daily USD budget: four
counters) but `per: [model]`, so every request of the load generator hits the same four
counters without authentication, and with limits large enough that no request is refused
(the figure is the cost of admitting). No store: section, so no usage records. The
"sluice-redis" variant is the same with `store: redis` (a redis-server started by run.py).

The OBS figure's three systems differ from "sluice" in observability only:
"sluice-obs-off" has metrics disabled (`observability.metrics.enabled: false`: no registry,
no per-thread cells, nothing counted; `on_main_listener: true` too, so a 404 on /metrics shows
the sanity step that they are really off) and no access_log filter; "sluice-obs" is exactly the
"sluice" configuration (metrics on by default, the access log to a file) plus
`metrics.on_main_listener: true`, which only lets run.py read /metrics on the main listener
at the end of a run (no per-request cost); "sluice-obs-trace" is "sluice-obs" plus tracing
to the OTLP receiver run.py starts, at `sample_ratio` 0.1.

The ROUTING scenario's configuration (write_routing_config) makes the model a group of three
deployments, one per sluice-mock, with the balancer under test.
"""

import json
import os

# A chat request of ~0.9 KB: system prompt plus a short conversation, as SDKs send it.
MESSAGES = [
    {"role": "system", "content": "You are a concise assistant for an internal engineering "
     "help desk. Answer in plain English, cite the runbook section when you know it, and "
     "say so when you are unsure. Never invent commands."},
    {"role": "user", "content": "Our nightly export job failed with 'connection reset by "
     "peer' after about forty minutes. What should I check first?"},
    {"role": "assistant", "content": "Start with the load balancer idle timeout: long "
     "exports that stream slowly are often cut at 30 or 60 minutes. Then check the "
     "database server log for the same timestamp."},
    {"role": "user", "content": "The load balancer timeout is 3600 seconds and the database "
     "log shows nothing unusual. The job runs in a Kubernetes pod with 512Mi memory. Could "
     "it be the pod being restarted?"},
    {"role": "user", "content": "Please also tell me which metrics to look at."},
]


def chat_body(stream, mock):
    """Request body; `mock` is sluice-mock's per-request behaviour override."""
    body = {"model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 256,
            "messages": MESSAGES, "user": "bench-42"}
    if stream:
        body["stream"] = True
    body["mock"] = mock
    return json.dumps(body, separators=(",", ":"))


def auth_paths(tmp):
    """Where the sluice-auth variant keeps its store and the bootstrapped demo key."""
    base = os.path.join(tmp, "auth")
    return {"dir": base, "store": os.path.join(base, "sluice.db"),
            "key_file": os.path.join(base, "demo.key")}


# config/sluice.yaml's price of gpt-4o-mini (USD per 1M tokens), for the money budget.
MODEL_PRICE = "    price: {input: 0.15, output: 0.60, cached_input: 0.075}\n"
# The per-key policy of config/sluice.yaml, per model and scaled up (x 10^4 or more) so that
# the closed-loop R1 load (tens of thousands of requests/s, 64 in flight, ~200 micro-USD
# each) is never refused: the same four counters, charged and settled as in `make run`.
LIMITS_SECTION = """limits:
  timezone: UTC
{store}  policies:
    - name: per-model
      per: [model]
      requests: {{limit: 6000000, per: minute, burst: 1000000}}
      tokens: {{limit: 20000000000, per: minute}}
      concurrency: 640
      budget: {{usd: 500000, per: day}}
"""


def limits_section(redis_port=None):
    """The limits: section of the sluice-limits (or, with a redis_port, sluice-redis) variant."""
    store = "" if redis_port is None else (
        f"  store: redis\n  redis: {{host: 127.0.0.1, port: {redis_port}, timeout: 50ms}}\n")
    return LIMITS_SECTION.format(store=store)


# The OBS systems: name → whether the access_log filter is on, and the observability section
# ({otlp_port} is the OTLP receiver's port).
OBS_SECTIONS = {
    "sluice-obs-off": (False, "observability:\n"
                              "  metrics: {enabled: false, on_main_listener: true}\n"),
    "sluice-obs": (True, "observability:\n  metrics: {on_main_listener: true}\n"),
    "sluice-obs-trace": (True, "observability:\n  metrics: {on_main_listener: true}\n"
                               "  tracing:\n"
                               "    endpoint: http://127.0.0.1:{otlp_port}/v1/traces\n"
                               "    sample_ratio: 0.1\n"),
}


def write_sluice_config(tmp, port, mock_port, auth=False, limits=False, redis_port=None,
                        obs=None, otlp_port=None):
    """sluice.yaml, or a variant (see the module docstring): sluice-auth.yaml with auth=True,
    sluice-limits.yaml with limits=True, sluice-redis.yaml with limits and a redis_port;
    with obs one of OBS_SECTIONS' names, <obs>.yaml (sluice-obs-trace needs otlp_port)."""
    name = ("sluice-redis" if redis_port is not None else "sluice-limits") if limits else (
        "sluice-auth" if auth else obs or "sluice")
    path = os.path.join(tmp, name + ".yaml")
    access_log = os.path.join(tmp, "sluice-access.log")
    with_access_log, obs_section = OBS_SECTIONS[obs] if obs else (True, "")
    obs_section = obs_section.replace("{otlp_port}", str(otlp_port))
    access_log_filter = f"  - access_log:\n      output: {access_log}\n" if with_access_log else ""
    auth_filters = "  - auth: {}\n  - authorize: {}\n" if auth else ""
    price_line, limits_text = (MODEL_PRICE, limits_section(redis_port)) if limits else ("", "")
    limit_filters = "  - rate_limit: {}\n" if limits else ""
    auth_sections = ""
    if auth:
        paths = auth_paths(tmp)
        os.makedirs(paths["dir"], exist_ok=True)
        auth_sections = f"""auth:
  bootstrap:
    admin_key: false
    demo_key_file: {paths["key_file"]}
store:
  sqlite: {paths["store"]}
  usage_records: false   # AUTH measures key checks; durable usage records cost a disk sync
"""
    with open(path, "w") as f:
        f.write(f"""# Generated by bench/run.py.
server:
  listen: 127.0.0.1:{port}
  workers: 1
backends:
  - name: mock
    url: http://127.0.0.1:{mock_port}/v1
    max_idle_connections: 1024
models:
  - name: gpt-4o-mini
    backend: mock
{price_line}{auth_sections}{obs_section}filters:
  - request_id: {{}}
{auth_filters}{access_log_filter}{limit_filters}{limits_text}""")
    return path


def write_routing_config(tmp, port, mock_ports, balancer):
    """sluice-<balancer>.yaml for the ROUTING scenario: the bench configuration, but model
    gpt-4o-mini is a group of one deployment per mock (backends d0, d1, ...), balanced by
    `balancer`; retries, breakers and outlier detection keep their defaults (a slow answer
    is a success, so nothing is retried or ejected). Returns its path."""
    path = os.path.join(tmp, f"sluice-{balancer}.yaml")
    access_log = os.path.join(tmp, "sluice-access.log")
    backends = "".join(f"  - name: d{i}\n    url: http://127.0.0.1:{p}/v1\n"
                       "    max_idle_connections: 1024\n" for i, p in enumerate(mock_ports))
    deployments = "".join(f"      - {{backend: d{i}, upstream_model: gpt-4o-mini}}\n"
                          for i in range(len(mock_ports)))
    with open(path, "w") as f:
        f.write(f"""# Generated by bench/run.py (ROUTING).
server:
  listen: 127.0.0.1:{port}
  workers: 1
backends:
{backends}models:
  - name: gpt-4o-mini
    balancer: {balancer}
    deployments:
{deployments}filters:
  - request_id: {{}}
  - access_log:
      output: {access_log}
""")
    return path


def write_nginx_config(tmp, port_buffered, port_streaming, mock_port, user=None):
    """nginx.conf for `nginx -p tmp -c nginx.conf`; returns its path."""
    path = os.path.join(tmp, "nginx.conf")
    location = """
        location / {{
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering {buffering};
        }}"""
    user_line = f"user {user};" if user else ""
    with open(path, "w") as f:
        f.write(f"""# Generated by bench/run.py: nginx proxying to sluice-mock, one worker.
daemon off;
master_process on;
worker_processes 1;
{user_line}
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
worker_rlimit_nofile 20000;
events {{
    worker_connections 8192;
}}
http {{
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {tmp}/nginx-client-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    client_body_buffer_size 64k;
    client_max_body_size 10m;
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    upstream mock {{
        server 127.0.0.1:{mock_port};
        keepalive 1024;
        keepalive_requests 1000000;
    }}
    server {{
        listen 127.0.0.1:{port_buffered} backlog=4096;{location.format(buffering="on")}
    }}
    server {{
        listen 127.0.0.1:{port_streaming} backlog=4096;{location.format(buffering="off")}
    }}
}}
""")
    return path
