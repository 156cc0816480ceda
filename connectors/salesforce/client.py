"""The thin HTTP client: one requests session, simple-salesforce bound to it, one retried request at a time.

Every request goes through ``RetryPolicy.call`` on its own, so a failed page is fetched again with the
``nextRecordsUrl`` or locator already in hand and a query is never restarted. INVALID_SESSION_ID
re-runs the OAuth flow and retries once. A response hook reads ``Sforce-Limit-Info`` on every
response, and each request first checks the share of the daily budget already spent.
Bodies are parsed with orjson: requests' ``.json()`` costs more than the network on large pages.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit

import orjson
import requests
import structlog
from requests.structures import CaseInsensitiveDict
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from connectors.errors import BudgetExhaustedError
from connectors.retry import RetryPolicy
from connectors.salesforce import auth, errors
from connectors.salesforce.config import SalesforceConfig

log = structlog.get_logger(__name__)
T = TypeVar("T")
Headers = CaseInsensitiveDict[str]
SPOOL_BYTES = 4 * 1024 * 1024  # a Bulk results page larger than this spills to a temporary file (page cache)


class VerifyingSession(requests.Session):
    """A session whose configured CA bundle wins over REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE.

    requests lets those environment variables override ``session.verify`` (psf/requests#3829), which
    would silently ignore the ``ca_bundle`` setting on machines that export them.
    """

    def __init__(self, ca_bundle: str | None) -> None:
        super().__init__()
        self.ca_bundle = ca_bundle
        if ca_bundle:
            self.verify = ca_bundle

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> Any:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self.ca_bundle and verify in (None, True):
            settings["verify"] = self.ca_bundle
        return settings


@dataclass(slots=True)
class Budget:
    """Daily API usage from ``Sforce-Limit-Info: api-usage=N/M``; stops work past ``share`` of M."""

    share: float
    used: int | None = None
    total: int | None = None

    def observe(self, header: str | None) -> None:
        if not header:
            return
        usage = Salesforce.parse_api_usage(header).get("api-usage")
        if usage is not None:
            self.used, self.total = usage.used, usage.total

    @property
    def spent(self) -> bool:
        return bool(self.total) and self.used is not None and self.used > self.share * (self.total or 0)

    def guard(self) -> None:
        """Raise BudgetExhaustedError before a request once usage has passed the configured share."""
        if self.spent:
            raise BudgetExhaustedError(
                f"stopped for the API budget: {self.used}/{self.total} requests used "
                f"(limit set at {self.share:.0%})", used=self.used, limit=self.total)


class SalesforceClient:
    """Session, login, budget and error translation shared by the reader and the writer."""

    def __init__(self, config: SalesforceConfig, policy: RetryPolicy, now: Callable[[], datetime],
                 session: requests.Session | None = None) -> None:
        self.config = config
        self.policy = policy
        self.now = now
        self.session = session or VerifyingSession(str(config.ca_bundle) if config.ca_bundle else None)
        self.session.hooks["response"].append(self._observe)
        self.budget = Budget(config.budget_share)
        self._sf: Salesforce | None = None
        self._login_lock = threading.Lock()
        self.instance = ""  # scheme://host[:port] of the data calls, from the token response
        self._headers: dict[str, str] = {}
        self.logins = 0

    # -- session ---------------------------------------------------------------------------------

    @property
    def sf(self) -> Salesforce:
        """simple-salesforce bound to the current session (logging in on first use)."""
        if self._sf is None:
            self.policy.call(self._login)
        assert self._sf is not None
        return self._sf

    def _login(self) -> None:
        token = auth.login(self.config, self.session, self.now)
        self.instance = data_origin(token.instance_url)
        self._sf = Salesforce(instance_url=token.instance_url, session_id=token.access_token,
                              version=self.config.api_version, session=self.session)
        self._headers = {"Authorization": f"Bearer {token.access_token}", "Accept": "application/json",
                         "Accept-Encoding": "gzip"}
        self.logins += 1

    def _observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.budget.observe(response.headers.get("Sforce-Limit-Info"))

    def url(self, path: str) -> str:
        """A URL under ``/services/data/vXX.X/`` (``path`` without a leading slash)."""
        self.sf  # noqa: B018 - logged in, so the instance is known
        return f"{self.instance}/services/data/v{self.config.api_version}/{path}"

    def absolute(self, path: str) -> str:
        """A URL from an absolute path the API handed back (nextRecordsUrl)."""
        self.sf  # noqa: B018
        return self.instance + path

    # -- requests --------------------------------------------------------------------------------

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request, retried by the policy on its own; returns the (2xx) response."""
        self.sf  # noqa: B018 - log in (under its own retries) before the first request
        return self.policy.call(self._with_session, self._send, method, url, kwargs)

    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        """``request`` and the body parsed by orjson (None when empty)."""
        response = self.request(method, url, **kwargs)
        return orjson.loads(response.content) if response.content else None

    def download(self, url: str, params: dict[str, Any]) -> tuple[IO[bytes], Headers]:
        """A whole response body streamed into a spooled file inside the retried call.

        A connection dropped mid-body fails the attempt, and the policy fetches the same page again.
        """
        self.sf  # noqa: B018
        return self.policy.call(self._with_session, self._download_once, "GET", url, {"params": params})

    def call_sf(self, fn: Callable[[Salesforce], T]) -> T:
        """A call made through simple-salesforce (describe, limits), under the same policy and table."""
        def once(method: str, url: str, kwargs: dict[str, Any]) -> T:
            self.budget.guard()
            try:
                return fn(self.sf)
            except SalesforceError as exc:
                raise errors.from_sf_error(exc) from exc
            except requests.RequestException as exc:
                raise errors.from_transport(exc) from exc
        self.sf  # noqa: B018
        return self.policy.call(self._with_session, once, "", "", {})

    def _with_session(self, send: Callable[[str, str, dict[str, Any]], T], method: str, url: str,
                      kwargs: dict[str, Any]) -> T:
        """Send; on INVALID_SESSION_ID log in again and resend once (a second expiry is an AuthenticationError)."""
        generation, old = self.logins, self.instance
        try:
            return send(method, url, kwargs)
        except errors.SessionExpiredError:
            with self._login_lock:  # the prefetch thread and the caller may both find the session gone
                if self.logins == generation:
                    log.info("salesforce.session.refresh", logins=self.logins)
                    self._login()
            return send(method, self._rebase(url, old), kwargs)

    def _rebase(self, url: str, old: str) -> str:
        """The same URL on the (possibly moved) instance of the new session."""
        return self.instance + url[len(old):] if old and url.startswith(old + "/") else url

    def _send(self, method: str, url: str, kwargs: dict[str, Any]) -> requests.Response:
        self.budget.guard()
        options = dict(kwargs)  # the same kwargs are sent again on a retry: never mutate them
        headers = {**self._headers, **options.pop("headers", {})}
        try:
            response = self.session.request(method, url, headers=headers, timeout=self.config.timeout, **options)
        except requests.RequestException as exc:
            raise errors.from_transport(exc) from exc
        if response.status_code >= 300:
            raise errors.from_response(response)
        return response

    def _download_once(self, method: str, url: str,
                       kwargs: dict[str, Any]) -> tuple[IO[bytes], Headers]:
        response = self._send(method, url, {**kwargs, "stream": True})
        sink = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # handed to the caller, who closes it
        try:
            for chunk in response.iter_content(chunk_size=1 << 20):
                sink.write(chunk)
        except requests.RequestException as exc:
            sink.close()
            raise errors.from_transport(exc) from exc
        finally:
            response.close()
        sink.seek(0)
        return sink, response.headers

    def close(self) -> None:
        self.session.close()



LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def data_origin(instance_url: str) -> str:
    """The origin data calls go to: the token response's instance URL, always https except on loopback.

    simple-salesforce rewrites every instance URL to https; a local sandbox may advertise plain http,
    which is followed only for a loopback host, so a tampered token response cannot downgrade a real org.
    """
    parts = urlsplit(instance_url)
    scheme = parts.scheme if parts.scheme == "https" or parts.hostname in LOOPBACK else "https"
    return f"{scheme}://{parts.netloc}"
