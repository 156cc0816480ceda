"""A thin HTTP client: one requests Session, auth headers, the rate limit, and errors translated.

requests' own retries are off (``max_retries=0``): a request is repeated only by the retry
policy the connector was given, around one page or one write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import requests
from requests.adapters import HTTPAdapter

from connectors.errors import StreamError
from connectors.rest.auth import AuthFlow, make_auth
from connectors.rest.config import RestConfig
from connectors.rest.errors import status_error, transport_error
from connectors.rest.ratelimit import TokenBucket


class RestClient:
    def __init__(self, config: RestConfig, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.base_url, self.timeout = config.base_url, config.timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"Accept": "application/json", **config.headers})
        self.session.verify = config.verify_tls
        self.auth: AuthFlow = make_auth(config.auth, self.session, clock, config.timeout)
        limit = config.rate_limit
        self.limiter = TokenBucket(limit.requests_per_second, limit.burst, clock, sleep) if limit else None

    def url(self, target: str) -> str:
        """An absolute URL (a Link header's) as is; a path relative to base_url."""
        if target.startswith(("http://", "https://")):
            return target
        return f"{self.base_url}/{target.lstrip('/')}"

    def send(self, method: str, target: str, *, params: dict[str, Any] | None = None, json: Any = None,
             accept: frozenset[int] = frozenset()) -> requests.Response:
        """One request; a failed status in ``accept`` is returned to the caller, any other failure raised.

        A 401 under a refreshable flow (OAuth2) is retried once with a new token: expired tokens are
        part of the flow, not a fault for the retry policy.
        """
        action = f"rest: {method} {target.split('?')[0]}"
        url = self.url(target)
        data = None if json is None else orjson.dumps(json, default=_json_default)  # dates, decimals as text
        for attempt in (1, 2):
            if self.limiter is not None:
                self.limiter.acquire()
            headers = self.auth.headers() | ({"Content-Type": "application/json"} if data is not None else {})
            try:
                response = self.session.request(method, url, params=params, data=data, headers=headers,
                                                timeout=self.timeout)
            except requests.RequestException as exc:
                raise transport_error(exc, action) from exc
            if response.status_code == 401 and self.auth.refreshable and attempt == 1:
                self.auth.invalidate()
                continue
            break
        if response.ok or response.status_code in accept:
            return response
        raise status_error(response, action)

    @staticmethod
    def body(response: requests.Response, action: str) -> Any:
        """The JSON body; a 2xx that is not JSON (a proxy's HTML page) fails the stream."""
        if not response.content:
            return None
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise StreamError(f"{action}: response is not JSON") from exc

    def close(self) -> None:
        self.session.close()


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)  # Decimal keeps its exact text


def dig(value: Any, path: str | None) -> Any:
    """``value`` at a dotted path (``data.items``); None or '' is the value itself; missing is None."""
    if not path:
        return value
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value
