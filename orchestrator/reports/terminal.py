"""The terminal summary: what Luis reads first. New, persisting and fixed; coverage; thresholds."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from orchestrator.reconcile.codes import ALL_CODES
from orchestrator.reconcile.result import ReconcileResult
from orchestrator.reports.masking import mask_finding


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def render(result: ReconcileResult, console: Console, *, show_personal: bool = False, examples: int = 3) -> None:
    """Print the run's summary: records, findings by code (with new/fixed), coverage, breaches."""
    console.print(f"[bold]Reconciliation {result.job}[/bold]  {result.left} ⇄ {result.right}  run {result.run_id}")
    records = ", ".join(f"{e}: " + " / ".join(f"{s} {n:,}" for s, n in systems.items())
                        for e, systems in result.records.items())
    console.print(f"records read  {records}")
    delta = result.delta
    console.print(f"findings  [bold]{result.total:,}[/bold]   new {delta.get('new', 0):,}   "
                  f"persisting {delta.get('persisting', 0):,}   fixed {delta.get('resolved', 0):,}")
    console.print(_codes_table(result))
    if result.coverage is not None:
        console.print(_coverage_table(result))
    for code in ALL_CODES:
        for finding in result.examples.get(code, [])[:examples]:
            data = mask_finding(finding.to_json(), show_personal)
            refs = ", ".join(f"{r['system']}:{r['key']}" for r in data["records"])
            values = "; ".join(f"{f}: " + " vs ".join(f"{s}={v!r}" for s, v in by.items())
                               for f, by in data["values"].items())
            console.print(f"  [dim]{code}[/dim] {data['entity']} {refs} {data['message']}"
                          + (f" ({values})" if values else ""), highlight=False, soft_wrap=True)
    for breach in result.breaches:
        console.print(f"[bold red]threshold passed[/bold red] {breach}")
    for note in result.notes:
        console.print(f"[yellow]note[/yellow] {note}")


def _codes_table(result: ReconcileResult) -> Table:
    table = Table(title="Findings by type", show_edge=False)
    for column in ("code", "open", "new", "fixed", *result.by_entity):
        table.add_column(column, justify="left" if column == "code" else "right")
    for code in ALL_CODES:
        count, new, fixed = (result.counts.get(code, 0), result.new_by_code.get(code, 0),
                             result.resolved_by_code.get(code, 0))
        if count or fixed:
            per_entity = [str(result.by_entity[e].get(code, 0) or "") for e in result.by_entity]
            table.add_row(code, f"{count:,}", f"{new:,}", f"{fixed:,}", *per_entity)
    return table


def _coverage_table(result: ReconcileResult) -> Table:
    cov = result.coverage
    assert cov is not None
    table = Table(title=f"Coverage of {cov.inhouse} in {cov.crm}", show_edge=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("customers in CRM", f"{cov.customers_in_crm:,} / {cov.customers:,} ({_pct(cov.customer_share)})")
    table.add_row("revenue in CRM", f"{cov.revenue_in_crm:,.0f} / {cov.revenue:,.0f} {cov.currency or ''} "
                  f"({_pct(cov.revenue_share)})")
    table.add_row(f"CRM accounts active ({cov.activity_days} d)",
                  f"{cov.active_accounts:,} / {cov.crm_accounts:,} ({_pct(cov.activity_share)})")
    return table
