"""The demo's Salesforce sandbox, run as its own process so seeding it overlaps building the ERP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

READY = "sandbox ready"


@dataclass(frozen=True, slots=True)
class SandboxProcess:
    """Where the started sandbox listens."""

    http: str
    ca_path: Path


class DemoSandbox:
    """Starts ``crmsync sandbox serve`` seeded from the generator and stops it on exit."""

    def __init__(self, directory: Path, *, seed: int, options: dict[str, Any], timeout: float = 180.0) -> None:
        self.directory, self.seed, self.options, self.timeout = directory, seed, options, timeout
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> subprocess.Popen[str]:
        """Launch the process; ``wait_ready`` returns its URLs once seeded."""
        config = {"db": str(self.directory / "sandbox.db"), "work_dir": str(self.directory / "sandbox"),
                  "https_port": None, "proxy_port": None,
                  "seed": {"seed": self.seed, "defects": True, "options": self.options}}
        config_path = self.directory / "sandbox" / "sandbox.json"
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(json.dumps(config, default=str))
        command = [sys.executable, "-m", "orchestrator.demo.sandbox_main", str(config_path)]
        log = (self.directory / "logs" / "sandbox.log").open("w")
        self._proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True,
                                      start_new_session=True)
        return self._proc

    def wait_ready(self) -> SandboxProcess:
        assert self._proc is not None and self._proc.stdout is not None
        found: dict[str, str] = {}
        deadline = time.monotonic() + self.timeout
        for line in self._proc.stdout:
            key, _, value = line.strip().partition(": ")
            found[key] = value
            if line.strip() == READY:
                # Keep draining stdout so a chatty sandbox can never block on a full pipe.
                threading.Thread(target=self._proc.stdout.read, daemon=True).start()
                return SandboxProcess(http=found["sandbox http"], ca_path=Path(found["sandbox ca"]))
            if time.monotonic() > deadline:
                break
        self.stop()
        raise RuntimeError(f"the sandbox did not start; see {self.directory / 'logs' / 'sandbox.log'}")

    def stop(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        os.killpg(self._proc.pid, signal.SIGTERM)
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()

    def __enter__(self) -> DemoSandbox:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
