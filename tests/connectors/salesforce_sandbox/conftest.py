"""Fixtures for the sandbox tests: a seeded org shared by read-only tests, an empty one per writing test,
and the environment unmodified clients need to reach the sandbox through its proxy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from connectors.salesforce.sandbox import Sandbox, SeedConfig

SMALL_ORG = {"accounts": 60, "contacts_per_account": 4, "opportunities_per_account": 1, "orders_per_customer": 1,
             "tasks_per_account": 1, "events_per_account": 0, "leads": 20, "users": 5, "defects_per_code": 1}


@pytest.fixture(scope="module")
def seeded() -> Iterator[Sandbox]:
    """A small generated org (with defects, so the recycle bin is not empty); pages of 200 records."""
    with Sandbox(seed=SeedConfig(seed=11, defects=True, options=SMALL_ORG), page_size=200) as sb:
        yield sb


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """An empty org for tests that write."""
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def via_proxy(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox) -> Sandbox:
    """Environment of an unmodified client: HTTPS_PROXY to the sandbox proxy, the sandbox CA trusted."""
    assert sandbox.urls is not None
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in sandbox.urls.client_env().items():
        monkeypatch.setenv(name, value)
    return sandbox


class Api:
    """A thin requests client for one sandbox session (tests of exact wire shapes)."""

    def __init__(self, sb: Sandbox, version: str = "62.0", token: str | None = None) -> None:
        assert sb.urls is not None and sb.urls.http is not None
        self.root = sb.urls.http
        self.base = f"{self.root}/services/data/v{version}"
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.headers["Authorization"] = f"Bearer {token or sb.session()}"

    def get(self, path: str, **kw: object) -> requests.Response:
        return self.http.get(self.base + path, **kw)  # type: ignore[arg-type]

    def post(self, path: str, **kw: object) -> requests.Response:
        return self.http.post(self.base + path, **kw)  # type: ignore[arg-type]

    def patch(self, path: str, **kw: object) -> requests.Response:
        return self.http.patch(self.base + path, **kw)  # type: ignore[arg-type]

    def delete(self, path: str, **kw: object) -> requests.Response:
        return self.http.delete(self.base + path, **kw)  # type: ignore[arg-type]

    def query(self, soql: str, all_rows: bool = False, **kw: object) -> requests.Response:
        return self.get("/queryAll" if all_rows else "/query", params={"q": soql}, **kw)


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    return Api(sandbox)


@pytest.fixture(scope="module")
def seeded_api(seeded: Sandbox) -> Api:
    return Api(seeded)


@pytest.fixture
def make_api() -> type[Api]:
    """The Api class, for a client with another token or API version."""
    return Api
