"""The demo's Salesforce sandbox, run as its own process so seeding it overlaps building the ERP.

The process is forked from the demo's, not spawned: the demo has already imported everything the
sandbox needs, and a fresh interpreter spent ~0.8 s of the demo's start-up importing it again.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

READY = "sandbox ready"


@dataclass(frozen=True, slots=True)
class SandboxProcess:
    """Where the started sandbox listens."""

    http: str
    ca_path: Path


def _serve(config_path: Path, stdout_fd: int, log_path: Path) -> None:
    """The sandbox process: its own session (a Ctrl-C meant for the demo is not its), lines such as
    ``sandbox ready`` on the pipe, its log in ``log_path``; as ``python -m orchestrator.demo.sandbox_main``."""
    from orchestrator.demo import sandbox_main

    gc.freeze()  # what the demo had built before the fork: never garbage here, so not scanned by collections
    os.setsid()
    sys.stdout = open(stdout_fd, "w", buffering=1, encoding="utf-8")
    sys.stderr = open(log_path, "w", buffering=1, encoding="utf-8")
    sandbox_main.main([str(config_path)])
    sandbox_main.exit_now()


class DemoSandbox:
    """Starts the sandbox (``crmsync sandbox serve``'s loop) seeded from the generator and stops it on exit."""

    def __init__(self, directory: Path, *, seed: int, options: dict[str, Any], timeout: float = 180.0) -> None:
        self.directory, self.seed, self.options, self.timeout = directory, seed, options, timeout
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._stdout: IO[str] | None = None

    def start(self) -> multiprocessing.process.BaseProcess:
        """Launch the process; ``wait_ready`` returns its URLs once seeded."""
        config = {"db": str(self.directory / "sandbox.db"), "work_dir": str(self.directory / "sandbox"),
                  "https_port": None, "proxy_port": None,
                  "seed": {"seed": self.seed, "defects": True, "options": self.options}}
        config_path = self.directory / "sandbox" / "sandbox.json"
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(json.dumps(config, default=str))
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()  # nothing buffered here may be written twice by the child
        sys.stderr.flush()
        self._proc = multiprocessing.get_context("fork").Process(
            target=_serve, args=(config_path, write_fd, self.directory / "logs" / "sandbox.log"),
            name="crmsync-demo-sandbox")
        self._proc.start()
        os.close(write_fd)
        self._stdout = open(read_fd, encoding="utf-8")
        return self._proc

    def wait_ready(self) -> SandboxProcess:
        assert self._proc is not None and self._stdout is not None
        found: dict[str, str] = {}
        deadline = time.monotonic() + self.timeout
        for line in self._stdout:
            key, _, value = line.strip().partition(": ")
            found[key] = value
            if line.strip() == READY:
                # Keep draining stdout so a chatty sandbox can never block on a full pipe.
                threading.Thread(target=self._stdout.read, daemon=True).start()
                return SandboxProcess(http=found["sandbox http"], ca_path=Path(found["sandbox ca"]))
            if time.monotonic() > deadline:
                break
        self.stop()
        raise RuntimeError(f"the sandbox did not start; see {self.directory / 'logs' / 'sandbox.log'}")

    def stop(self) -> None:
        proc = self._proc
        if proc is None or proc.pid is None:
            return
        if proc.exitcode is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:  # exited before it made its session
                pass
            proc.join(timeout=15)
            if proc.exitcode is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.join()
        self._proc = None

    def __enter__(self) -> DemoSandbox:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
