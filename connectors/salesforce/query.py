"""REST query paging: ``/query`` or ``/queryAll`` then ``nextRecordsUrl``, one retried request per page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.errors import StreamError
from connectors.salesforce.client import SalesforceClient


def pages(client: SalesforceClient, soql: str, *, include_deleted: bool, page_size: int) -> Iterator[list[Any]]:
    """The records of each page, in order. A failed page is fetched again from the URL already held."""
    headers = {"Sforce-Query-Options": f"batchSize={page_size}"}
    url = client.url("queryAll/" if include_deleted else "query/")
    data = client.json("GET", url, params={"q": soql}, headers=headers)
    while True:
        records = data.get("records") if isinstance(data, dict) else None
        if records is None:
            raise StreamError("query response without records", code="bad_response")
        yield records
        next_url = data.get("nextRecordsUrl")
        if data.get("done", True) or not next_url:
            return
        data = client.json("GET", client.absolute(next_url), headers=headers)


def total(client: SalesforceClient, soql: str, *, include_deleted: bool) -> int:
    """``totalSize`` of a ``SELECT COUNT()`` query."""
    url = client.url("queryAll/" if include_deleted else "query/")
    data = client.json("GET", url, params={"q": soql})
    return int(data.get("totalSize", 0))


def first(client: SalesforceClient, soql: str, *, include_deleted: bool) -> dict[str, Any] | None:
    """The first record of a (LIMIT 1) query, or None."""
    for records in pages(client, soql, include_deleted=include_deleted, page_size=200):
        return records[0] if records else None
    return None
