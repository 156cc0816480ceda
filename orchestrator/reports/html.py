"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, no CDN) that ops open
offline or attach to a ticket. Findings by type over time, coverage, and example findings, with
personal values masked unless asked."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from orchestrator.reconcile.codes import ALL_CODES
from orchestrator.reconcile.result import ReconcileResult
from orchestrator.reports import svg
from orchestrator.reports.masking import mask_finding
from orchestrator.state.types import TrendPoint

_CSS = """
body{font-family:-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f4f4f4}td.n{text-align:right}.tag{display:inline-block;
padding:1px 6px;border-radius:3px;background:#eee;font-size:12px}.error{color:#b00}.muted{color:#777}
.breach{background:#fde8e8;border:1px solid #e15759;padding:8px;margin:8px 0}
"""


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]], numeric: int = 1) -> str:
    out = ["<table><tr>", *(f"<th>{escape(h)}</th>" for h in head), "</tr>"]
    for row in rows:
        cells = [f'<td class="n">{escape(str(c))}</td>' if i >= numeric else f"<td>{c}</td>"
                 for i, c in enumerate(row)]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _trend(trend: Sequence[TrendPoint]) -> str:
    if not trend:
        return '<p class="muted">No earlier runs yet.</p>'
    codes = [c for c in ALL_CODES if any(p.by_code.get(c) for p in trend)]
    labels = [p.at.strftime("%m-%d %H:%M") for p in trend]
    colors = {c: svg.color(ALL_CODES.index(c)) for c in codes}
    chart = svg.stacked_bars(labels, {c: [p.by_code.get(c, 0) for p in trend] for c in codes}, colors=colors)
    rows = [(escape(p.run_id[:12]), p.new, p.persisting, p.resolved, p.open) for p in trend[-12:]]
    return chart + _table(("run", "new", "persisting", "fixed", "open"), rows)


def _coverage(result: ReconcileResult, show_personal: bool) -> str:
    cov = result.coverage
    if cov is None:
        return '<p class="muted">Coverage needs accounts on both sides.</p>'
    bars = svg.share_bars([
        ("customers represented in CRM", cov.customer_share, f"{cov.customers_in_crm} of {cov.customers}"),
        ("revenue represented in CRM", cov.revenue_share, f"{cov.revenue_in_crm:,.0f} of {cov.revenue:,.0f}"),
        (f"CRM accounts active ({cov.activity_days} d)", cov.activity_share,
         f"{cov.active_accounts} of {cov.crm_accounts}"),
    ])
    owners = sorted(cov.by_owner.items(), key=lambda kv: -kv[1].get("accounts", 0))[:25]
    owner_bars = svg.share_bars([
        (owner[:28], (v.get("active", 0) / v["accounts"]) if v.get("accounts") else None,
         f"{v.get('active', 0)} of {v['accounts']}")
        for owner, v in owners]) if owners else ""
    return (bars + f'<p class="muted">{escape(cov.inhouse)} customers and revenue found in {escape(cov.crm)}; '
            f"revenue in {escape(cov.currency or 'mixed currencies')}.</p>"
            + ("<h3>Accounts with recent activity, by owner</h3>" + owner_bars if owner_bars else ""))


def _examples(result: ReconcileResult, show_personal: bool) -> str:
    rows = []
    for code in ALL_CODES:
        for finding in result.examples.get(code, []):
            data = mask_finding(finding.to_json(), show_personal)
            refs = "<br>".join(escape(f"{r['system']}:{r['key']}") for r in data["records"])
            values = "<br>".join(escape(f"{f}: " + " | ".join(f"{s}={v}" for s, v in by.items()))
                                 for f, by in data["values"].items())
            rows.append((f'<span class="tag">{code}</span>', escape(data["entity"]), refs,
                         escape(data["message"]), values, data["severity"]))
    if not rows:
        return "<p>No findings.</p>"
    return _table(("code", "entity", "records", "what", "values", "severity"), rows, numeric=99)


def render(result: ReconcileResult, trend: Sequence[TrendPoint] = (), *, show_personal: bool = False) -> str:
    """The whole page as one string."""
    by_code = [(f'<span class="tag">{c}</span>', result.counts.get(c, 0), result.new_by_code.get(c, 0),
                result.resolved_by_code.get(c, 0)) for c in ALL_CODES
               if result.counts.get(c) or result.resolved_by_code.get(c)]
    records = [(escape(f"{e} in {s}"), f"{n:,}") for e, systems in result.records.items() for s, n in systems.items()]
    breaches = "".join(f'<div class="breach">Threshold passed: {escape(str(b))}</div>' for b in result.breaches)
    delta = result.delta
    personal = "shown" if show_personal else "masked"
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>crmsync reconciliation {escape(result.job)}</title><style>{_CSS}</style></head><body>
<h1>Reconciliation <code>{escape(result.job)}</code>: {escape(result.left)} ⇄ {escape(result.right)}</h1>
<p class="muted">run {escape(result.run_id)} · {result.started_at:%Y-%m-%d %H:%M} UTC · personal data {personal}</p>
{breaches}
<p><b>{result.total:,}</b> findings · new <b>{delta.get('new', 0):,}</b> · persisting
<b>{delta.get('persisting', 0):,}</b> · fixed <b>{delta.get('resolved', 0):,}</b></p>
{_table(("records read", "count"), records)}
<h2>Findings by type</h2>{_table(("code", "open", "new", "fixed"), by_code) if by_code else "<p>None.</p>"}
<h2>Findings over time</h2>{_trend(trend)}
<h2>Coverage</h2>{_coverage(result, show_personal)}
<h2>Examples</h2>{_examples(result, show_personal)}
{''.join(f'<p class="muted">{escape(n)}</p>' for n in result.notes)}
</body></html>
"""


def write(result: ReconcileResult, path: Path, trend: Sequence[TrendPoint] = (), *,
          show_personal: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result, trend, show_personal=show_personal), encoding="utf-8")
    return path
