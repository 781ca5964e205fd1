"""The rig of the per-request cost scripts (callgrind_per_request.py, cpu_per_request.py):
the mock model server and the OTLP receiver pinned to core 1, and the chat request body.
Not thread-safe: used from a script's main thread.
"""

import os
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
        self.body = os.path.join(tmp, "chat.json")
        with open(self.body, "w") as f:
            f.write(configs.chat_body(False, {"response_bytes": 1000}))

    def sluice_config(self, directory, port, name):
        """The config of system `name` (sluice, sluice-limits or sluice-obs*) in `directory`."""
        return configs.write_sluice_config(
            directory, port, self.mock_port, limits=name == "sluice-limits",
            obs=name if name.startswith("sluice-obs") else None, otlp_port=self.recv_port)

    def stop(self):
        for proc in self.children:
            proc.terminate()
        for proc in self.children:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
