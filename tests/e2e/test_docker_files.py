"""docker/: the Dockerfiles lint clean, the compose file and metadata are coherent, and the images'
build steps (install the package, then `source-crmsync spec` and `crmsync --help`) work in a fresh
virtual environment — the same commands the Dockerfiles RUN, since no Docker engine runs here."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = [ROOT / "docker" / "source-crmsync" / "Dockerfile", ROOT / "docker" / "crmsync" / "Dockerfile"]


def test_dockerfiles_pass_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    result = subprocess.run([hadolint, *map(str, DOCKERFILES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_airbyte_dockerfile_follows_airbyte_conventions() -> None:
    text = DOCKERFILES[0].read_text()
    assert re.search(r"^ARG BASE_IMAGE=docker\.io/airbyte/python-connector-base:\S+@sha256:", text, re.M)
    assert 'ENV AIRBYTE_ENTRYPOINT="/entrypoint.sh"' in text
    assert 'ENTRYPOINT ["/entrypoint.sh"]' in text
    assert 'source-crmsync "$@"' in text
    metadata = yaml.safe_load((ROOT / "docker" / "source-crmsync" / "metadata.yaml").read_text())["data"]
    assert metadata["connectorType"] == "source" and "language:python" in metadata["tags"]
    label = re.search(r"io\.airbyte\.version=(\S+)", text)
    assert label and label.group(1) == metadata["dockerImageTag"]
    assert metadata["connectorBuildOptions"]["baseImage"] in text


def test_compose_services_use_real_commands() -> None:
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "sandbox", "crmsync"} <= set(services)
    for name, service in services.items():
        build = service.get("build")
        if build:
            assert (ROOT / "docker" / build["context"] / build["dockerfile"]).resolve().exists(), name
    command = services["sandbox"]["command"]
    crmsync = Path(sys.executable).with_name("crmsync")
    help_text = subprocess.run([str(crmsync), *command[:2], "--help"], capture_output=True, text=True,
                               env={"COLUMNS": "200", "PATH": str(crmsync.parent)}).stdout
    for flag in (part for part in command if part.startswith("--")):
        assert flag in help_text, f"compose passes {flag}, which `crmsync {' '.join(command[:2])}` lacks"


@pytest.mark.slow
def test_image_build_steps_in_a_fresh_venv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, str(ROOT)], check=True, timeout=900)
    spec = subprocess.run([str(venv / "bin" / "source-crmsync"), "spec"], capture_output=True, text=True,
                          check=True)
    messages = [json.loads(line) for line in spec.stdout.splitlines() if line.startswith("{")]
    assert any(m["type"] == "SPEC" for m in messages)
    cli = subprocess.run([str(venv / "bin" / "crmsync"), "--help"], capture_output=True, text=True, check=True)
    assert "sync" in cli.stdout
