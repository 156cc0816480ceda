"""Acceptance 2: unmodified airbyte-source-salesforce 2.10.3 runs check, discover and a full read against the
sandbox; the records it emits equal the sandbox's rows.

Its token URL is fixed to ``https://login.salesforce.com``; the sandbox's CONNECT proxy answers for that
host with a certificate from the sandbox CA (HTTPS_PROXY + REQUESTS_CA_BUNDLE, reference §1.2 A) and the
token response sends it on to the sandbox's plain-HTTP instance URL.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.salesforce.sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REFRESH_TOKEN,
    Sandbox,
    SeedConfig,
)
from connectors.testdata.peers import PeerUnavailable, ensure_peer

pytestmark = [pytest.mark.peer, pytest.mark.slow]

PEER = "airbyte-source-salesforce"


@pytest.fixture(scope="module")
def source() -> Path:
    try:
        return ensure_peer(PEER) / "bin" / "source-salesforce"
    except PeerUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the airbyte peer environment must build in CI: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def org() -> Iterator[Sandbox]:
    options = {"accounts": 40, "contacts_per_account": 3, "opportunities_per_account": 1, "tasks_per_account": 0,
               "events_per_account": 0, "leads": 5, "users": 4, "defects_per_code": 1}
    with Sandbox(seed=SeedConfig(seed=5, defects=True, options=options), page_size=200) as sb:
        yield sb


def run(source: Path, sb: Sandbox, tmp: Path, command: str, config: dict[str, Any],
        catalog: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    assert sb.urls is not None
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "http_proxy", "all_proxy")}
    env.update(sb.urls.client_env())
    (tmp / "config.json").write_text(json.dumps(config))
    args = [str(source), command, "--config", str(tmp / "config.json")]
    if catalog is not None:
        (tmp / "catalog.json").write_text(json.dumps(catalog))
        args += ["--catalog", str(tmp / "catalog.json")]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, check=False)
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    errors = [m for m in messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
    assert done.returncode == 0 and not errors, (done.stderr[-3000:], errors)
    return messages


def config(**extra: Any) -> dict[str, Any]:
    return {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET,
            "refresh_token": DEFAULT_REFRESH_TOKEN, "is_sandbox": False, "start_date": "2020-01-01T00:00:00Z",
            **extra}


def records_by_stream(messages: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for m in messages:
        if m["type"] == "RECORD":
            out.setdefault(m["record"]["stream"], []).append(m["record"]["data"])
    return out


def assert_equal_to_rows(records: list[dict[str, Any]], rows: list[dict[str, Any]], fields: list[str]) -> None:
    assert sorted(r["Id"] for r in records) == sorted(r["Id"] for r in rows)
    by_id = {r["Id"]: r for r in rows}
    for record in records:
        row = by_id[record["Id"]]
        for name in fields:
            value = row[name]
            expected = bool(value) if name.startswith("Is") else value
            assert record.get(name) == expected, (record["Id"], name)


def test_check_discover_and_full_read(source: Path, org: Sandbox, tmp_path: Path) -> None:
    [status] = [m for m in run(source, org, tmp_path, "check", config()) if m["type"] == "CONNECTION_STATUS"]
    assert status["connectionStatus"]["status"] == "SUCCEEDED"

    [catalog] = [m["catalog"] for m in run(source, org, tmp_path, "discover", config()) if m["type"] == "CATALOG"]
    streams = {s["name"]: s for s in catalog["streams"]}
    assert {"Account", "Contact", "Lead", "Opportunity", "User"} <= set(streams)
    assert "SystemModstamp" in streams["Contact"]["json_schema"]["properties"]

    configured = {"streams": [{"stream": streams[name], "sync_mode": "full_refresh",
                               "destination_sync_mode": "overwrite"} for name in ("Account", "Contact")]}
    records = records_by_stream(run(source, org, tmp_path, "read", config(), configured))
    # A full refresh reads through queryAll, so the recycle bin is included, as in the sandbox's rows.
    assert_equal_to_rows(records["Account"], org.rows("Account"),
                         ["Name", "ERP_Customer_No__c", "AnnualRevenue", "IsDeleted", "SystemModstamp"])
    assert_equal_to_rows(records["Contact"], org.rows("Contact"),
                         ["LastName", "Email", "AccountId", "IsDeleted", "SystemModstamp"])
    assert any(r["IsDeleted"] for r in records["Contact"])


def test_full_read_through_bulk_api_2(source: Path, org: Sandbox, tmp_path: Path) -> None:
    """``force_use_bulk_api`` makes airbyte read Contact with Bulk 2.0 query jobs (CSV, locators, job delete)."""
    [catalog] = [m["catalog"] for m in run(source, org, tmp_path, "discover", config()) if m["type"] == "CATALOG"]
    contact = next(s for s in catalog["streams"] if s["name"] == "Contact")
    configured = {"streams": [{"stream": contact, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}
    jobs = org.context.bulk_query
    created, listed = jobs.jobs_created, jobs.all_jobs()["records"]
    records = records_by_stream(run(source, org, tmp_path, "read", config(force_use_bulk_api=True), configured))
    assert_equal_to_rows(records["Contact"], org.rows("Contact"), ["LastName", "Email", "AccountId"])
    assert jobs.jobs_created > created  # the records came through Bulk 2.0 query jobs ...
    assert jobs.all_jobs()["records"] == listed  # ... and airbyte deleted every job it created
