"""Links learnt from a write replace what an earlier scan assumed; plain xref rows never do."""

from __future__ import annotations

from pathlib import Path

from orchestrator.state import StateStore
from orchestrator.state.types import XrefRow


def test_relink_replaces_while_xref_keeps(tmp_path: Path) -> None:
    with StateStore.open(f"sqlite:///{tmp_path / 'state.db'}") as store:
        scanned = store.ensure_canonical_ids("crm", "Account", "Account", ["001A"])["001A"]
        source = store.ensure_canonical_ids("erp", "customers", "Account", ["100"])["100"]
        lease = store.acquire_lease("s", "Account", "0", "me", 60)
        assert lease is not None
        store.commit_batch(lease, cursor=None, xref=[XrefRow("crm", "Account", "001A", source, "Account")])
        assert store.canonical_ids("crm", "Account", ["001A"]) == {"001A": scanned}
        store.commit_batch(lease, cursor=None, relink=[XrefRow("crm", "Account", "001A", source, "Account")])
        assert store.canonical_ids("crm", "Account", ["001A"]) == {"001A": source}
        view = {(r.system, r.native_id) for r in store.customer_view("100")}
        assert view == {("erp", "100"), ("crm", "001A")}
