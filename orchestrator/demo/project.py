"""The demo's project directory: the ERP's mapping specs (copied, as a user would start) and a
crmsync.yaml that a person can read and reuse for their own org and database."""

from __future__ import annotations

import shutil
from pathlib import Path

import mappings

SHIPPED_SPECS = Path(mappings.__file__).parent / "specs"
CLIENT_ID_ENV = "DEMO_SF_CLIENT_ID"
CLIENT_SECRET_ENV = "DEMO_SF_CLIENT_SECRET"

CONFIG = """\
# crmsync.yaml written by `crmsync demo`. It describes the demo's two systems, one two-way sync and a
# reconciliation job; `crmsync init` writes a starter for your own org and database.
# Secrets never go in this file: the sandbox's client credentials come from the environment.
version: 1

state:
  url: sqlite:///.crmsync/state.db   # run history, checkpoints, cross-reference, quarantine, findings

systems:
  crm:                                # the local Salesforce sandbox (a real org: see README, "Your own org")
    connector: salesforce
    settings:
      login_url: {login_url}
      ca_bundle: {ca_bundle}
      auth:
        flow: client_credentials
        client_id: ${{{client_id_env}}}
        client_secret: ${{{client_secret_env}}}
      bulk_read_threshold: 5000       # read through Bulk API 2.0 from this many records
      upsert_keys:                    # write by external id, so an ERP record finds its CRM twin
        Account: ERP_Customer_No__c
        Contact: ERP_Contact_No__c
    timezone: UTC

  erp:                                # the in-house ERP: a SQLite file made by the demo
    connector: sql
    settings:
      url: sqlite:///{erp_db}
      streams:
        customers: {{updated_at: changed_ts, soft_delete_column: deleted_flag, deleted_value: "Y"}}
        contacts: {{updated_at: changed_ts, soft_delete_column: deleted_flag, deleted_value: "Y"}}
        employees: {{}}                 # small, read whole: used to match record owners
    mappings: mappings/erp            # copied from the shipped ERP specs: edit them for your tables
    timezone: Europe/Madrid           # the ERP writes naive local times

syncs:
  erp-crm:
    from: erp
    to: crm
    direction: two_way
    objects:
      - {{entity: User, link_only: true, match_on: [email]}}   # owners are matched by email, never created
      # CRM prospects have no ERP customer number: they stay in the CRM (the ERP only gets updates of
      # customers it already has) instead of waiting in quarantine. Drop create_in to create them too.
      - {{entity: Account, create_in: [crm]}}
      - {{entity: Contact, create_in: [crm]}}
    mode: incremental
    delete_policy: soft
    conflict:
      default: newest                 # erp | crm | newest | most_complete | manual
      fields:
        vat_number: erp               # the ERP owns tax ids
        email: crm                    # sales keeps emails current in the CRM
    batch_size: 1000
    concurrency: 2

reconciliations:
  weekly:
    left: erp
    right: crm
    entities: [User, Account, Contact, Activity]   # activities: which CRM accounts are really worked
    match:
      Account: [vat_number, name]
      Contact: [email]
    lag_minutes: 0
    report_dir: reports
"""


RECONCILE_SETTINGS = """\
# Settings of the reconciliation job `weekly` in crmsync.yaml (crmsync reads reconcile/<job>.yaml beside it;
# every key has a default). The demo's tables fit in memory: keep up to this many records there before
# spilling hash partitions to disk (the default, 100,000, keeps memory flat for tables of millions).
reconcile:
  max_in_memory: 1000000
"""


INDUSTRY_NOTE = """\
  # Edited by the demo, as you would for your ERP: its six sector codes are coarser than Salesforce's
  # industries and the CRM owns that field, so the sector is not synced either way (the shipped spec
  # maps it; a two-way sync would write ERP labels into a CRM picklist and quarantine CRM industries).
"""


def customise_customers(path: Path) -> None:
    """Drop the sector <-> industry mapping from the demo's copy (see INDUSTRY_NOTE)."""
    out, skipping = [], False
    for line in path.read_text().splitlines(keepends=True):
        if line.startswith("  - canonical: industry"):
            out.append(INDUSTRY_NOTE)
            skipping = True
            continue
        if skipping and line.startswith("  - "):
            skipping = False
        if not skipping:
            out.append(line)
    path.write_text("".join(out))


def write_project(directory: Path, *, login_url: str, ca_bundle: Path) -> Path:
    """Copy the ERP specs into the project and write crmsync.yaml and the reconciliation's settings; returns the
    config path."""
    specs = directory / "mappings" / "erp"
    if specs.exists():
        shutil.rmtree(specs)
    shutil.copytree(SHIPPED_SPECS / "erp", specs, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    customise_customers(specs / "customers.yaml")
    settings = directory / "reconcile" / "weekly.yaml"
    settings.parent.mkdir(exist_ok=True)
    settings.write_text(RECONCILE_SETTINGS)
    config = directory / "crmsync.yaml"
    config.write_text(CONFIG.format(login_url=login_url, ca_bundle=ca_bundle, erp_db=directory / "erp.db",
                                    client_id_env=CLIENT_ID_ENV,
                                    client_secret_env=CLIENT_SECRET_ENV))
    return config
