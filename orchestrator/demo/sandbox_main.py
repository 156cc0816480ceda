"""``python -m orchestrator.demo.sandbox_main CONFIG.json``: serve a sandbox from a full SandboxConfig.

The demo needs generator options the ``crmsync sandbox serve`` flags do not carry (a base time near
today, so "recent activity" means something); it passes the whole config as JSON instead.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

from connectors.salesforce.sandbox import Sandbox, SandboxConfig
from orchestrator import logging as crmlog
from orchestrator.commands.sandbox_cmd import run


def main(argv: list[str]) -> None:
    crmlog.configure(json=True, level="WARNING")
    data = json.loads(Path(argv[0]).read_text())
    options = data.get("seed", {}).get("options", {})
    if "base_time" in options:  # JSON carries it as text; the generator wants a datetime
        options["base_time"] = datetime.fromisoformat(options["base_time"])
    config = SandboxConfig.model_validate(data)
    run(Sandbox(config))


def exit_now() -> None:
    """Exit without the interpreter's teardown: ``run`` has stopped the listeners and closed the database,
    and freeing every object of a seeded process one by one kept the demo waiting ~0.35 s at its end."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
    exit_now()
