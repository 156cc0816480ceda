"""``crmsync check``: each system's connector check, system by system, with the exact reason for what fails.

Exit 0 when everything works, 2 when configuration or credentials need fixing, 1 when a system
could not be reached for another reason (it may be down: try again).
"""

from __future__ import annotations

from typing import Annotated

import typer

from connectors import registry
from connectors.base import CheckItem
from connectors.errors import AuthenticationError, ConfigurationError
from connectors.retry import NO_RETRY
from orchestrator.commands.state_cmd import DEFAULT_CONFIG_PATH, ConfigOption, print_table
from orchestrator.config import ProjectConfig, load_config
from orchestrator.errors import one_line
from orchestrator.exitcodes import ExitCode

_RANK = {ExitCode.OK: 0, ExitCode.FAILED: 1, ExitCode.CONFIG: 2}  # what a person must fix first


def check_system(project: ProjectConfig, name: str) -> tuple[list[CheckItem], ExitCode]:
    """Run one system's check; a connector that cannot even start says why as a failed item."""
    cfg = project.system(name)
    try:
        connector = registry.create(cfg.connector, dict(cfg.settings), NO_RETRY)
        try:
            report = connector.check()
        finally:
            connector.close()
    except (ConfigurationError, AuthenticationError) as exc:
        return [CheckItem("connect", False, one_line(exc))], ExitCode.CONFIG
    except Exception as exc:  # unreachable host, server error: reported, not raised
        return [CheckItem("connect", False, one_line(exc))], ExitCode.FAILED
    failed = [i for i in report.items if not i.ok]
    return report.items, ExitCode.CONFIG if failed else ExitCode.OK


def check(
    system: Annotated[str | None, typer.Argument(help="Only this system.")] = None,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Check every system's connection, credentials and permissions."""
    project = load_config(config)
    names = [system] if system else sorted(project.systems)
    worst = ExitCode.OK
    rows = []
    for name in names:
        items, code = check_system(project, name)
        worst = code if _RANK[code] > _RANK[worst] else worst
        for item in items:
            rows.append([name, project.system(name).connector, item.name, "ok" if item.ok else "FAILED",
                         item.reason])
    print_table("check", ["system", "connector", "item", "result", "reason"], rows)
    raise typer.Exit(int(worst))
