"""``crmsync demo``: run the whole story on embedded defaults and print a summary a person can read."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from orchestrator.demo.story import DemoResult, run_demo
from orchestrator.exitcodes import ExitCode


def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo works (created; previous data "
                                                         "replaced).")] = Path("crmsync-demo"),
    accounts: Annotated[int, typer.Option(help="Accounts in the generated CRM (contacts: two per account).")
                        ] = 10_000,
    seed: Annotated[int, typer.Option(help="Generator seed: the same seed tells the same story.")] = 7,
) -> None:
    """Start a local Salesforce sandbox and a SQLite ERP, sync them both ways, reconcile, report."""
    console = Console()
    console.print(f"crmsync demo: working in [bold]{directory}[/] (generating {accounts:,} accounts)...")
    result = run_demo(directory, accounts=accounts, seed=seed)
    print_summary(console, result)
    status = result.sync.status if result.sync else "failed"
    raise typer.Exit(int(ExitCode.OK if status == "succeeded" else ExitCode.PARTIAL))


def print_summary(console: Console, result: DemoResult) -> None:
    sync = result.sync
    if sync is not None:
        table = Table("stream", "read", "written", "quarantined", "conflicts", "status",
                      title=f"Two-way sync {sync.sync}: {sync.status}")
        for s in sync.streams:
            c = s.counts
            table.add_row(s.stream, _n(c.get("read")), _n(c.get("written")), _n(c.get("quarantined")),
                          _n(c.get("conflicts")), s.status)
        console.print(table)
    _print_reconcile(console, result.reconcile)
    rel = _relative(result.directory)
    console.print(f"\nFinished in {result.seconds:.0f} s.")
    if result.steps:
        console.print(f"Where the time went: {result.timing_line()}")
    console.print("Files:")
    for label, path in _files(result).items():
        console.print(f"  {label:<12} {rel(path)}")
    config = rel(result.config)
    console.print("\nTry next:")
    for command in ("runs", "quarantine list --by-reason", "reconcile weekly"):
        console.print(f"  crmsync {command} --config {config}")


def _print_reconcile(console: Console, summary: dict[str, Any]) -> None:
    findings = summary.get("findings_by_code") or {}
    if findings:
        table = Table("finding", "count", title="Reconciliation findings by type")
        for code, count in sorted(findings.items(), key=lambda kv: -kv[1]):
            table.add_row(code, _n(count))
        console.print(table)
    for line in summary.get("coverage_lines", []):
        console.print(line)


def _files(result: DemoResult) -> dict[str, Path]:
    files = {"config": result.config, "logs": result.log_file}
    for label in ("html_report", "json_report"):
        if result.reconcile.get(label):
            files[label.replace("_", " ")] = Path(result.reconcile[label])
    return files


def _relative(base: Path) -> Any:
    cwd = Path.cwd()

    def rel(path: Path) -> str:
        try:
            return str(path.resolve().relative_to(cwd))
        except ValueError:
            return str(path)

    return rel


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "0" if value is None else str(value)
