"""The crmsync.yaml shown in README.md is a config crmsync accepts: users copy it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from orchestrator.config import load_config
from orchestrator.config.models import ProjectConfig

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_example_config_loads_and_validates(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"## Configuration: crmsync.yaml\n\n```yaml\n(.*?)```", readme, re.S)
    assert found, "README.md lost its crmsync.yaml example"
    (tmp_path / "crmsync.yaml").write_text(found.group(1), encoding="utf-8")
    shutil.copytree(ROOT / "mappings" / "specs" / "erp", tmp_path / "mappings" / "erp")
    key = tmp_path / "key.pem"
    key.write_text("not a real key\n")
    config = load_config(tmp_path / "crmsync.yaml", check_environment=False, environ={
        "SF_CLIENT_ID": "id", "SF_USERNAME": "user@example.com", "SF_KEY_FILE": str(key), "ERP_DB_PASSWORD": "pw"})
    assert isinstance(config, ProjectConfig)
    assert [o.entity for o in config.syncs["erp-crm"].objects] == ["User", "Account", "Contact"]
    assert config.syncs["erp-crm"].objects[1].filter == {"type": ["customer", "partner"]}
