"""A connector in a separate package, registered only through the entry point, is found and
passes the shipped contract suite."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

PACKAGE = '''
from __future__ import annotations
import builtins
from typing import ClassVar
from pydantic import BaseModel
from connectors.base import (Batch, Capabilities, CheckItem, CheckReport, Cursor, FieldSpec, RecordResult,
                             StreamSpec, WriteResult)

class ThingsConfig(BaseModel):
    greeting: str = "hello"

class ThingsConnector:
    """Keeps 'things' in a dict; reads them back sorted by key."""
    type_name: ClassVar[str] = "things"
    config_model: ClassVar[type[BaseModel]] = ThingsConfig

    def __init__(self, config, retry):
        self.rows = {}
        self.capabilities = Capabilities(upsert=True, max_batch=4)

    def check(self):
        return CheckReport([CheckItem("dict", True)])

    def discover(self):
        return [StreamSpec(name="things", primary_key=("k",), fields=(FieldSpec(name="k"), FieldSpec(name="v")))]

    def read(self, stream, cursor=None, range=None):
        keys = sorted(self.rows)
        for i in builtins.range(0, len(keys), 4):
            yield Batch(records=[dict(self.rows[k]) for k in keys[i:i + 4]])

    def write(self, stream, records, deletes=(), upsert_key=None):
        out = WriteResult()
        for i, r in enumerate(records):
            created = r["k"] not in self.rows
            self.rows[r["k"]] = dict(r)
            out.results.append(RecordResult(i, key=r["k"], created=created))
        return out

    def close(self):
        pass
'''

TEST = '''
from connectors.contract import ContractCase, connector_contract
from connectors.registry import create
from connectors.retry import NO_RETRY

def make_case(tmp_path):
    connector = create("things", {}, NO_RETRY)
    return ContractCase(connector, "things", "k", [{"k": f"t{i}", "v": str(i)} for i in range(10)])

TestThings = connector_contract(make_case)
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"
[project]
name = "crmsync-things"
version = "0.0.1"
[project.entry-points."crmsync.connectors"]
things = "crmsync_things:ThingsConnector"
[tool.setuptools]
packages = ["crmsync_things"]
'''


def _build(tmp_path: Path) -> dict[str, str]:
    pkg = tmp_path / "crmsync-things"
    (pkg / "crmsync_things").mkdir(parents=True)
    (pkg / "crmsync_things" / "__init__.py").write_text(textwrap.dedent(PACKAGE))
    (pkg / "pyproject.toml").write_text(PYPROJECT)
    (pkg / "tests").mkdir()
    (pkg / "tests" / "test_contract.py").write_text(TEST)
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(pkg)], check=True)
    env = dict(os.environ, PYTHONPATH=str(site))
    return env


def test_external_connector_is_listed_and_passes_contract(tmp_path: Path) -> None:
    env = _build(tmp_path)
    crmsync = Path(sys.executable).with_name("crmsync")
    listed = subprocess.run([str(crmsync), "connectors", "list"], env=env, capture_output=True, text=True,
                            check=True)
    assert "things" in listed.stdout and "crmsync-things" in listed.stdout
    suite = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            str(tmp_path / "crmsync-things" / "tests")], env=env, capture_output=True,
                           text=True, cwd=tmp_path)
    assert suite.returncode == 0, suite.stdout[-3000:]
    assert " passed" in suite.stdout
