"""429 and 503 are retried through the given policy honouring Retry-After; other statuses say what to do."""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any

import pytest
import requests

from connectors.errors import AuthenticationError, ConfigurationError, RateLimitedError, RetryableError
from connectors.rest import RestConfig, RestConnector
from connectors.rest.errors import retry_after, status_error
from connectors.retry import RetryPolicy


def paged(url: str, retry: RetryPolicy, **config: Any) -> RestConnector:
    stream = {"path": "/v1/paged", "pagination": {"type": "page_number", "page_size": 1000}}
    return RestConnector(RestConfig(base_url=url, streams={"contacts": stream}, **config), retry)


def test_429_and_503_are_retried_honouring_retry_after(big_api: Any) -> None:
    now = time.time()
    big_api.api.served = 0
    big_api.api.faults = {
        37: (429, {"Retry-After": "3"}),  # page 37 is throttled: only it is asked again
        38: (503, {"Retry-After": formatdate(now + 2, usegmt=True), "Date": formatdate(now, usegmt=True)}),
    }
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=4, initial_wait=0.001, max_wait=0.002, sleep=waits.append)
    rest = paged(big_api.url, policy)
    ids = [r["id"] for b in rest.read("contacts") for r in b.records]
    assert ids == list(range(50_000))
    assert waits == [3.0, 2.0]  # the server's hints, not the policy's millisecond backoff
    assert big_api.api.served == 51 + 2  # two retries of one page; the read never restarted
    rest.close()


def test_a_persistent_outage_gives_up_after_the_policy_and_auth_is_never_retried(big_api: Any) -> None:
    big_api.api.served = 0
    big_api.api.faults = {n: (500, {}) for n in range(1, 4)}
    waits: list[float] = []
    rest = paged(big_api.url, RetryPolicy(max_attempts=3, initial_wait=0.001, sleep=waits.append))
    with pytest.raises(RetryableError):
        list(rest.read("contacts"))
    assert len(waits) == 2
    big_api.api.served, waits[:] = 0, []
    big_api.api.faults = {1: (403, {})}
    with pytest.raises(AuthenticationError):
        list(rest.read("contacts"))
    assert waits == []
    big_api.api.faults = {}
    assert rest.check().ok  # the API answers again
    rest.close()


def test_the_rate_limit_waits_on_the_policys_clock(big_api: Any) -> None:
    waits: list[float] = []
    policy = RetryPolicy(sleep=waits.append, clock=lambda: 100.0)  # a clock that never moves
    rest = paged(big_api.url, policy, rate_limit={"requests_per_second": 10, "burst": 2})
    assert len(list(rest.read("contacts"))) == 50
    assert len(waits) == 51 - 2 and all(w == pytest.approx(0.1) for w in waits)
    rest.close()


def _response(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> requests.Response:
    response = requests.Response()
    response.status_code, response._content = status, body
    response.headers.update(headers or {})
    return response


def test_the_status_table() -> None:
    throttled = status_error(_response(429, {"Retry-After": "7"}), "read")
    assert isinstance(throttled, RateLimitedError) and throttled.retry_after == 7.0
    unavailable = status_error(_response(503), "read")
    assert type(unavailable) is RetryableError and unavailable.retry_after is None
    assert isinstance(status_error(_response(401), "read"), AuthenticationError)
    assert isinstance(status_error(_response(404), "read"), ConfigurationError)
    assert type(status_error(_response(502), "read")) is RetryableError
    coded = status_error(_response(400, body=b'{"error": {"code": "BAD_FILTER", "detail": "secret@x.com"}}'), "read")
    assert "BAD_FILTER" in str(coded) and "secret" not in str(coded)
    assert retry_after(_response(503, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT",
                                       "Date": "Wed, 21 Oct 2015 07:27:30 GMT"})) == 30.0
    assert retry_after(_response(503, {"Retry-After": "soon"})) is None
