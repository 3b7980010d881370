"""The sandbox as a separate process started by its command line, for what only a real process
shows: log lines on stdout, the state file written on a clean shutdown."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class SandboxProcess:
    def __init__(self, *flags: str, env: dict[str, str] | None = None) -> None:
        self.args = [sys.executable, "-m", "sandbox", "--port", "0", *flags]
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.startup: list[str] = []

    def start(self) -> "SandboxProcess":
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.startup.append(line.rstrip("\n"))
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                self.url = found.group(1)
                return self
        raise AssertionError("sandbox did not start:\n" + "\n".join(self.startup))

    def stop(self) -> tuple[int, list[str]]:
        """SIGTERM (a clean shutdown), then the exit code and every line printed after start."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=20)
        return self.process.returncode, out.splitlines()

    def __enter__(self) -> "SandboxProcess":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def run_to_exit(*flags: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """Start the sandbox expecting it to refuse to start."""
    return subprocess.run(
        [sys.executable, "-m", "sandbox", "--port", "0", *flags], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
