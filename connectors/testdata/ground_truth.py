"""The ground-truth file: what reconciliation must find in a generated dataset, and what it must not.

Layout (``version`` 1)::

    {"version": 1, "generator": "crmsync.testdata", "seed": 42, "config": {...},
     "base_time": "...Z", "last_sync_at": "...Z", "erp_timezone": "Europe/Madrid",
     "counts": {"salesforce": {"Account": 1000, ...}, "erp": {"customers": 1000, ...}},
     "population": {"linked": 800, "crm_only": 200, "erp_only": 200, "rules": {...}},
     "conventions": {...systemic differences, never findings...},
     "defects": [{"id": "D001", "code": "field_mismatch", "kind": "account_phone", "entity": "Account",
                  "systems": ["salesforce", "erp"], "objects": {"salesforce": "Account", "erp": "customers"},
                  "keys": {"salesforce": "0018d...", "erp": "100245"},
                  "fields": ["phone"], "native_fields": {"salesforce": ["Phone"], "erp": ["phone_no"]},
                  "values": {"erp": {"phone_no": "+34 ..."}}, "note": "..."}, ...],
     "formatting_variants": [{"entity": "Contact", "kind": "phone_format", "keys": {...}, "fields": ["phone"],
                              "native_fields": {...}}, ...],
     "shared_modstamp": {"Contact": {"stamp": "...", "count": 300, "start": 1850, "boundary": 2000, ...}},
     "schema": {"extend_objects": {...spec applied to the org's describe...}}}

Keys are each system's native id: Salesforce Id (18 characters), ERP cust_no (str), contact_no (int),
order_no (str). ``fields`` are canonical names (mappings/canonical), ``native_fields`` the columns.
A key is a list for ``duplicate`` (original first). Extra per-code members: ``absent_in`` (missing),
``deleted_in`` (deleted_one_side), ``stale_in``/``newer_in`` and ``last_sync_at`` (stale, conflict),
``winner``/``children`` (merged), ``expected``/``formula`` (formula_drift), ``describe``/``sandbox``
(schema_drift, whose key is the object name), ``cascade_of`` (entries implied by a parent defect).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.testdata.links import CONVENTIONS
from connectors.testdata.variants import VARIANT_FIELDS

if TYPE_CHECKING:
    from connectors.testdata.generator import Dataset


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def formatting_variants(ds: Dataset) -> list[dict[str, Any]]:
    """Every linked record carrying a formatting-only variant."""
    w, v, out = ds.world, ds.variants, []
    for rank in v.companies():
        c = v.company_at(rank)
        records = [("Account", 0)] + [("Contact", m) for m in range(w.k)] + [("Opportunity", m) for m in range(w.w)]
        for entity, m in records:
            kind = v.kind(entity, c, m)
            if kind is None:
                continue
            fields, native = VARIANT_FIELDS[(entity, kind)]
            keys: dict[str, Any]
            if entity == "Account":
                keys = {"salesforce": w.account_id(c), "erp": w.cust_no(c)}
            elif entity == "Contact":
                keys = {"salesforce": w.contact_id(c, m), "erp": w.contact_no(c, m)}
            else:
                keys = {"salesforce": w.opportunity_id(c, m), "erp": w.order_no(c, m)}
            out.append({"entity": entity, "kind": kind, "keys": keys, "fields": fields, "native_fields": native})
    return out


def _defects(ds: Dataset) -> list[dict[str, Any]]:
    entries = ds.plan.entries()
    for entry in entries:
        if isinstance(entry.get("last_sync_at"), int):
            entry["last_sync_at"] = iso(entry["last_sync_at"])
    return entries + ds.plan.schema_entries(ds.objects, len(ds.plan.alterations) + 1)


def build_ground_truth(ds: Dataset) -> dict[str, Any]:
    cfg, w = ds.config, ds.world
    return {
        "version": 1,
        "generator": "crmsync.testdata",
        "seed": cfg.seed,
        "config": cfg.as_json(),
        "base_time": iso(w.base),
        "last_sync_at": iso(w.last_sync),
        "erp_timezone": cfg.erp_timezone,
        "counts": {"salesforce": {o: ds.count_salesforce(o) for o in ds.salesforce_objects()},
                   "erp": {t: ds.count_erp(t) for t in ds.erp_tables()}},
        "population": {
            "linked": cfg.linked, "crm_only": cfg.crm_only, "erp_only": cfg.erp_only,
            "rules": {
                "crm_only": "Accounts with ERP_Customer_No__c null are prospects the ERP is not meant to have.",
                "erp_only": "Customers with sf_account_id null are not meant to be in Salesforce (yet).",
                "lead_queue": "Leads with Status 'Open - Not Contacted' may be owned by a queue; that is no finding.",
                "unlinked_children": "Opportunities without ERP_Order_No__c and all Leads, Tasks and Events "
                                     "exist in Salesforce only.",
            },
        },
        "conventions": CONVENTIONS,
        "defects": _defects(ds),
        "formatting_variants": formatting_variants(ds),
        "shared_modstamp": {o: b for o in ds.salesforce_objects() if (b := ds.shared_modstamp(o))},
        "schema": {"extend_objects": ds.plan.schema_spec()},
    }


def write_ground_truth(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(build_ground_truth(ds), indent=1, ensure_ascii=False, default=str) + "\n",
                    encoding="utf-8")
    return path
