"""Pagination strategies as objects: each says what the first page request is and what comes next.

``next`` sees the request just made, the response and its records, and returns the next request
or None when the collection is exhausted. Page numbers and offsets stop at the first short page;
a cursor token stops when the body has none; Link headers when there is no ``rel="next"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from connectors.rest.client import dig
from connectors.rest.config import (
    CursorPagination,
    LinkHeaderPagination,
    NoPagination,
    OffsetPagination,
    PageNumberPagination,
    PaginationConfig,
)


@dataclass(frozen=True)
class PageRequest:
    target: str  # a path under base_url, or an absolute URL from a Link header
    params: dict[str, Any] = field(default_factory=dict)


class Paginator(Protocol):
    def first(self, path: str, params: dict[str, Any]) -> PageRequest: ...

    def next(self, request: PageRequest, response: requests.Response, body: Any,
             records: list[Any]) -> PageRequest | None: ...


class Single:
    """One request returns everything."""

    def first(self, path: str, params: dict[str, Any]) -> PageRequest:
        return PageRequest(path, params)

    def next(self, request: PageRequest, response: requests.Response, body: Any,
             records: list[Any]) -> PageRequest | None:
        return None


class PageNumbers:
    def __init__(self, config: PageNumberPagination) -> None:
        self.config = config

    def first(self, path: str, params: dict[str, Any]) -> PageRequest:
        sized = {self.config.size_param: self.config.page_size} if self.config.size_param else {}
        return PageRequest(path, {**params, **sized, self.config.page_param: self.config.first_page})

    def next(self, request: PageRequest, response: requests.Response, body: Any,
             records: list[Any]) -> PageRequest | None:
        if len(records) < self.config.page_size:
            return None
        page = int(request.params[self.config.page_param]) + 1
        return PageRequest(request.target, {**request.params, self.config.page_param: page})


class Offsets:
    def __init__(self, config: OffsetPagination) -> None:
        self.config = config

    def first(self, path: str, params: dict[str, Any]) -> PageRequest:
        config = self.config
        return PageRequest(path, {**params, config.offset_param: 0, config.limit_param: config.page_size})

    def next(self, request: PageRequest, response: requests.Response, body: Any,
             records: list[Any]) -> PageRequest | None:
        if len(records) < self.config.page_size:
            return None
        offset = int(request.params[self.config.offset_param]) + len(records)
        return PageRequest(request.target, {**request.params, self.config.offset_param: offset})


class CursorTokens:
    def __init__(self, config: CursorPagination) -> None:
        self.config = config

    def first(self, path: str, params: dict[str, Any]) -> PageRequest:
        sized = {self.config.size_param: self.config.page_size} if self.config.size_param else {}
        return PageRequest(path, {**params, **sized})

    def next(self, request: PageRequest, response: requests.Response, body: Any,
             records: list[Any]) -> PageRequest | None:
        token = dig(body, self.config.next_path)
        if token in (None, "") or not records:
            return None
        return PageRequest(request.target, {**request.params, self.config.cursor_param: token})


class LinkHeaders:
    def __init__(self, config: LinkHeaderPagination) -> None:
        self.config = config

    def first(self, path: str, params: dict[str, Any]) -> PageRequest:
        sized = {self.config.size_param: self.config.page_size} if self.config.size_param else {}
        return PageRequest(path, {**params, **sized})

    def next(self, request: PageRequest, response: requests.Response, body: Any,
             records: list[Any]) -> PageRequest | None:
        url = response.links.get(self.config.rel, {}).get("url")
        return PageRequest(url) if url else None


def paginator(config: PaginationConfig) -> Paginator:
    """The strategy object for a stream's pagination settings."""
    if isinstance(config, PageNumberPagination):
        return PageNumbers(config)
    if isinstance(config, OffsetPagination):
        return Offsets(config)
    if isinstance(config, CursorPagination):
        return CursorTokens(config)
    if isinstance(config, LinkHeaderPagination):
        return LinkHeaders(config)
    assert isinstance(config, NoPagination)
    return Single()
