"""Shared test fixtures: server URLs from the environment, skipping (or failing in CI) when absent."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
import structlog

SERVERS = {
    "postgres": ("CRMSYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mysql": ("CRMSYNC_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
    "amqp": ("CRMSYNC_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}


def server_url(kind: str) -> str:
    """The server's URL, after checking its port answers; skips (fails under CI=true) otherwise."""
    env, default = SERVERS[kind]
    url = os.environ.get(env, default)
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), timeout=2).close()
    except OSError as exc:
        message = f"{kind} server not reachable at {parsed.hostname}:{parsed.port} ({env}): {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return server_url("postgres")


@pytest.fixture(scope="session")
def mysql_url() -> str:
    return server_url("mysql")


@pytest.fixture(scope="session")
def amqp_url() -> str:
    return server_url("amqp")


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """A test that runs ``orchestrator.cli.main()`` points structlog at that test's captured stderr; put the
    defaults back after every test so no later test logs into a closed capture."""
    yield
    structlog.reset_defaults()
