"""Fault injection: deterministic for a seed, counted by kind, adjustable through the Python API and the
admin endpoints, and shaped as Salesforce's own answers."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce

from connectors.salesforce.sandbox import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FaultConfig,
    Sandbox,
)


def statuses(api: Any, n: int) -> list[int]:
    return [api.get("/limits").status_code for _ in range(n)]


def test_same_seed_same_faults_and_counters(make_api: Any) -> None:
    faults = FaultConfig(seed=7, server_unavailable_rate=0.2, concurrent_limit_rate=0.1)
    runs = []
    for _ in range(2):
        with Sandbox(faults=faults) as sb:
            runs.append((statuses(make_api(sb), 60), sb.faults.snapshot()["injected"]))
    assert runs[0] == runs[1]
    codes, injected = runs[0]
    assert codes.count(503) == injected["server_unavailable"] > 0
    assert codes.count(403) == injected["concurrent_limit"] > 0
    assert codes.count(200) == 60 - codes.count(503) - codes.count(403)


def test_fault_bodies(api: Any, sandbox: Sandbox) -> None:
    sandbox.faults.configure({"script": ["server_unavailable", "concurrent_limit", "query_timeout"]})
    unavailable, concurrent = api.get("/limits"), api.get("/limits")
    timeout = api.query("SELECT Id FROM Account")
    assert unavailable.status_code == 503 and unavailable.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert concurrent.status_code == 403
    assert concurrent.json() == [{"message": "ConcurrentPerOrgLongTxn Limit exceeded",
                                  "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert timeout.status_code == 400
    assert timeout.json() == [{"message": "Your query request was running for too long.", "errorCode": "QUERY_TIMEOUT"}]
    assert api.query("SELECT Id FROM Account").status_code == 200  # the script is used up
    assert sandbox.budget.usage()[0] == 4  # injected failures are still counted calls


def test_query_timeout_rate_only_hits_queries(api: Any, sandbox: Sandbox) -> None:
    sandbox.faults.configure({"query_timeout_rate": 1.0})
    assert api.get("/sobjects").status_code == 200
    assert api.query("SELECT Id FROM Account").json()[0]["errorCode"] == "QUERY_TIMEOUT"
    assert sandbox.faults.snapshot()["injected"]["query_timeout"] == 1


def test_dropped_connection_and_slow_call() -> None:
    slept: list[float] = []
    with Sandbox(sleep=slept.append, faults=FaultConfig(script=["drop", "slow"], slow_seconds=3.5)) as sb:
        assert sb.urls is not None
        headers = {"Authorization": f"Bearer {sb.session()}"}
        url = f"{sb.urls.http}/services/data/v62.0/limits"
        with pytest.raises(requests.ConnectionError):
            requests.get(url, headers=headers, timeout=10)
        assert requests.get(url, headers=headers, timeout=10).status_code == 200
        assert slept == [3.5]
        assert sb.faults.snapshot()["injected"] == {
            "server_unavailable": 0, "concurrent_limit": 0, "invalid_session": 0, "query_timeout": 0, "slow": 1,
            "drop": 1}


def test_expired_session_every_n_calls_and_simple_salesforce_logs_in_again(monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(faults=FaultConfig(invalid_session_every=3)) as sb:
        assert sb.urls is not None
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        for name, value in sb.urls.client_env().items():
            monkeypatch.setenv(name, value)
        sf = Salesforce(username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD, security_token=DEFAULT_SECURITY_TOKEN)
        first_session = sf.session_id
        for i in range(5):
            sf.Account.create({"Name": f"A{i}"})
        assert len(sb.rows("Account")) == 5
        assert sb.faults.snapshot()["injected"]["invalid_session"] >= 2
        assert sf.session_id != first_session  # it logged in again after each 401 INVALID_SESSION_ID
        assert sb.context.auth.logins["soap"] == 1 + sb.faults.snapshot()["injected"]["invalid_session"]


def test_admin_endpoints_read_adjust_and_reset_faults_and_budget(sandbox: Sandbox, api: Any) -> None:
    admin = f"{api.root}/__sandbox"
    changed = requests.put(f"{admin}/faults", json={"server_unavailable_rate": 1.0, "seed": 3}).json()
    assert changed["config"]["server_unavailable_rate"] == 1.0
    assert api.get("/limits").status_code == 503
    state = requests.get(f"{admin}/faults").json()
    assert state["injected"]["server_unavailable"] == 1 and state["calls"] == 1
    assert requests.put(f"{admin}/faults", json={"drop_rate": 7}).status_code == 400  # validated
    reset = requests.delete(f"{admin}/faults").json()
    assert reset["injected"]["server_unavailable"] == 0 and reset["config"]["server_unavailable_rate"] == 0
    assert api.get("/limits").status_code == 200
    assert requests.put(f"{admin}/budget", json={"limit": 5, "used": 5}).json()["remaining"] == 0
    assert api.get("/limits").status_code == 403
    token = requests.post(f"{admin}/sessions", json={}).json()
    assert token["instance_url"] == api.root
    requests.put(f"{admin}/budget", json={"used": 0})
    fresh = requests.get(f"{api.base}/limits", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert fresh.status_code == 200
