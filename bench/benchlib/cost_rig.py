"""The rig of the per-request cost scripts (callgrind_per_request.py, cpu_per_request.py):
the mock model server and the OTLP receiver pinned to core 1, the chat request body, and for
sluice-redis a redis-server (no persistence) on core 1 too: there it stands for the
separate Redis service of a deployment, and the scripts count its CPU apart from sluice's.
Not thread-safe: used from a script's main thread.
"""

import os
import shutil
import subprocess
import sys

from . import configs, obs, procs


class CostRig:
    """Starts the mock (1 worker, 64 tokens, no delays, ~1000-byte responses) and the OTLP
    receiver on core 1, and writes the non-streaming chat body to <tmp>/chat.json."""

    def __init__(self, build, tmp):
        self.mock_port = procs.free_port()
        self.recv_port = procs.free_port()
        self.children = [
            subprocess.Popen(
                ["taskset", "-c", "1", f"{build}/tools/sluice-mock/sluice-mock", "--listen",
                 f"127.0.0.1:{self.mock_port}", "--workers", "1", "--tokens", "64",
                 "--ttft-ms", "0", "--itl-ms", "0", "--response-bytes", "1000"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            subprocess.Popen(["taskset", "-c", "1", sys.executable, obs.RECEIVER, "--port",
                              str(self.recv_port)], stderr=subprocess.DEVNULL)]
        procs.wait_port(self.mock_port, 10)
        procs.wait_port(self.recv_port, 10)
        self.tmp = tmp
        self.redis = None  # (proc, port) once sluice-redis needs it
        self.body = os.path.join(tmp, "chat.json")
        with open(self.body, "w") as f:
            f.write(configs.chat_body(False, {"response_bytes": 1000}))

    def sluice_config(self, directory, port, name):
        """The config of system `name` (sluice, sluice-limits, sluice-redis or sluice-obs*) in
        `directory`."""
        redis_port = self.start_redis()[1] if name == "sluice-redis" else None
        return configs.write_sluice_config(
            directory, port, self.mock_port, limits=name in ("sluice-limits", "sluice-redis"),
            redis_port=redis_port, obs=name if name.startswith("sluice-obs") else None,
            otlp_port=self.recv_port)

    def start_redis(self):
        """The rig's redis-server (started on first use): (proc, port)."""
        if self.redis is None:
            binary = shutil.which("redis-server")
            if binary is None:
                raise RuntimeError("redis-server not found (apt-get install redis-server)")
            port = procs.free_port()
            proc = subprocess.Popen(
                ["taskset", "-c", "1", binary, "--port", str(port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", self.tmp],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.children.append(proc)
            if not procs.wait_port(port, 10, proc):
                raise RuntimeError("redis-server did not start")
            self.redis = (proc, port)
        return self.redis

    def stop(self):
        for proc in self.children:
            proc.terminate()
        for proc in self.children:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
