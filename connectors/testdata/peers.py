"""The one helper that makes peer virtual environments under ``.venv-peers/NAME``, on demand.

Tests and benchmarks call ``ensure_peer(NAME)``; the environment is created once, pinned to the
version verified here, and reused. It lives outside git (.gitignore) and outside crmsync's own
environment, so a peer's dependency pins never touch ours.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PEERS: dict[str, list[str]] = {
    "airbyte-source-salesforce": ["airbyte-source-salesforce==2.10.3"],
    "pyairbyte": ["airbyte==0.69.0"],
    "reladiff": ["reladiff[postgresql]==0.6.0"],
}
ROOT = Path(os.environ.get("CRMSYNC_PEERS_DIR", Path(__file__).resolve().parents[2] / ".venv-peers"))


class PeerUnavailable(RuntimeError):
    """The peer environment could not be built (no package index, a failed install)."""


def peer_dir(name: str) -> Path:
    return ROOT / name


def ensure_peer(name: str, python: str | None = None) -> Path:
    """Create (once) and return the peer's virtual environment directory."""
    if name not in PEERS:
        raise KeyError(f"unknown peer {name!r}; known: {', '.join(PEERS)}")
    target = peer_dir(name)
    stamp = target / ".crmsync-peer"
    wanted = " ".join(PEERS[name])
    if stamp.exists() and stamp.read_text() == wanted:
        return target
    interpreter = python or sys.executable
    try:
        subprocess.run([interpreter, "-m", "venv", "--clear", str(target)], check=True, capture_output=True)
        pip = [str(target / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True, capture_output=True)
        subprocess.run([*pip, *PEERS[name]], check=True, capture_output=True, timeout=1200)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        err = getattr(exc, "stderr", b"") or b""
        raise PeerUnavailable(f"could not build peer {name}: {err.decode(errors='replace')[-2000:]}") from exc
    stamp.write_text(wanted)
    return target


def peer_bin(name: str, executable: str) -> Path:
    """Path of an executable inside the peer's environment (building it if needed)."""
    return ensure_peer(name) / "bin" / executable
