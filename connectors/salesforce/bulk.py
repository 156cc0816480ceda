"""Bulk API 2.0: query jobs read as CSV pages by locator, ingest jobs for large upserts.

Each results page is downloaded whole inside one retried request (spooled to disk past 4 MB) and
then parsed by the csv module as a stream, so memory stays flat however large the result and a
dropped connection re-fetches that page with the locator in hand. CSV values are turned back into
the JSON types the REST API returns, so a record looks the same whichever API read it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

import structlog

from connectors.errors import ConnectorError, StreamError
from connectors.salesforce import errors
from connectors.salesforce.client import SalesforceClient

log = structlog.get_logger(__name__)

DONE_STATES = frozenset({"JobComplete", "Failed", "Aborted"})
csv.field_size_limit(1 << 27)  # long text areas (131,072 chars) and rich text exceed the 128 KB default


def _int(value: str) -> int:
    return int(value) if "." not in value else int(float(value))


def _datetime(value: str) -> str:
    # Bulk writes 2024-01-01T00:00:00.000Z, REST 2024-01-01T00:00:00.000+0000: keep the REST form.
    return value[:-1] + "+0000" if value.endswith("Z") else value


_EMPTY: dict[str, None] = {"": None}
_BOOLEAN: dict[str, bool] = {"true": True, "false": False}

CONVERTERS: dict[str, Callable[[str], Any]] = {
    "boolean": _BOOLEAN.__getitem__,
    "int": _int, "long": _int,
    "double": float, "currency": float, "percent": float,
    "datetime": _datetime,
}


def parse_csv(stream: IO[bytes], types: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """Records from a Bulk CSV body: empty cells are null, typed columns converted."""
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None:
        return
    converters = [(name, CONVERTERS[types[name]]) for name in header if types.get(name) in CONVERTERS]
    empty = _EMPTY.get  # a C-level call per cell: "" -> None, anything else as it is
    for row in reader:
        record = dict(zip(header, map(empty, row, row), strict=False))
        for name, convert in converters:
            value = record[name]
            if value is not None:
                record[name] = convert(value)
        yield record


@dataclass(slots=True)
class QueryJob:
    """A Bulk 2.0 query job and where its results reading got to."""

    id: str
    locator: str | None = None  # None: first page not read yet
    done: bool = False


class BulkQuery:
    """Create, wait for, page through and delete Bulk 2.0 query jobs."""

    def __init__(self, client: SalesforceClient, *, max_records: int, poll_interval: float, poll_timeout: float,
                 sleep: Callable[[float], None], clock: Callable[[], float]) -> None:
        self.client = client
        self.max_records = max_records
        self.poll_interval = poll_interval
        self.poll_timeout = poll_timeout
        self.sleep = sleep
        self.clock = clock

    def start(self, soql: str, *, include_deleted: bool) -> QueryJob:
        body = {"operation": "queryAll" if include_deleted else "query", "query": soql,
                "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"}
        job = self.client.json("POST", self.client.url("jobs/query"), json=body)
        log.info("salesforce.bulk.query.created", job=job["id"])
        return QueryJob(str(job["id"]))

    def wait(self, job: QueryJob) -> None:
        """Poll until the job completes; a Failed job with QUERY_TIMEOUT raises QueryTimeoutError."""
        deadline = self.clock() + self.poll_timeout
        while True:
            info = self.client.json("GET", self.client.url(f"jobs/query/{job.id}"))
            state = info.get("state")
            if state == "JobComplete":
                return
            if state in DONE_STATES:
                raise _failed(job.id, str(state), str(info.get("errorMessage") or ""))
            if self.clock() > deadline:
                self.abort(job)
                raise StreamError(f"Bulk query job {job.id} still {state} after {self.poll_timeout:.0f}s",
                                  code="bulk_timeout")
            self.sleep(self.poll_interval)

    def pages(self, job: QueryJob) -> Iterator[tuple[IO[bytes], str | None]]:
        """(CSV body, the locator that fetched it) per results page, from ``job.locator`` on.

        The caller parses the body (``parse_csv``) and closes it.
        """
        locator = job.locator
        while not job.done:
            params: dict[str, Any] = {"maxRecords": self.max_records}
            if locator:
                params["locator"] = locator
            body, headers = self.client.download(self.client.url(f"jobs/query/{job.id}/results"), params)
            following = headers.get("Sforce-Locator")
            yield body, locator
            locator = None if following in (None, "", "null") else following
            job.done = locator is None

    def delete(self, job: QueryJob) -> None:
        """Delete the job and its results (best effort: a failure here loses no data)."""
        try:
            self.client.request("DELETE", self.client.url(f"jobs/query/{job.id}"))
        except ConnectorError as exc:
            log.warning("salesforce.bulk.query.delete_failed", job=job.id, error=exc.code)

    def abort(self, job: QueryJob) -> None:
        try:
            self.client.request("PATCH", self.client.url(f"jobs/query/{job.id}"), json={"state": "Aborted"})
        except ConnectorError as exc:
            log.warning("salesforce.bulk.query.abort_failed", job=job.id, error=exc.code)

    def exists(self, job_id: str) -> bool:
        """Whether a job from an earlier run can still serve results (resumption)."""
        try:
            info = self.client.json("GET", self.client.url(f"jobs/query/{job_id}"))
        except (StreamError, errors.BulkNotSupportedError):
            return False
        return info.get("state") == "JobComplete"


def _failed(job_id: str, state: str, message: str) -> ConnectorError:
    if "QUERY_TIMEOUT" in message.upper() or "timed out" in message.lower():
        return errors.QueryTimeoutError(f"Bulk query job {job_id} {state}: QUERY_TIMEOUT")
    return StreamError(f"Bulk query job {job_id} {state}: {message[:200]}", code=f"bulk_{state.lower()}")


# -- ingest -------------------------------------------------------------------------------------------


def csv_value(value: Any) -> str:
    """A value as Bulk ingest CSV wants it: null is ``#N/A`` (an empty cell would leave the field as it is)."""
    if value is None:
        return "#N/A"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def to_csv(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    """The upload body: a header row, then one row per record in order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([csv_value(record[c]) if c in record else "" for c in columns])
    return out.getvalue().encode()


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """One result row of an ingest job, with the row's original cells."""

    sf_id: str | None
    created: bool | None
    error: str | None  # "CODE:message" as sf__Error has it; None on success
    cells: dict[str, str]


class BulkIngest:
    """One Bulk 2.0 upsert job: create, upload, close, wait, then read the three result sets."""

    def __init__(self, query: BulkQuery) -> None:
        self.q = query
        self.client = query.client

    def upsert(self, obj: str, external_id: str, body: bytes) -> Iterator[IngestOutcome]:
        job = self.client.json("POST", self.client.url("jobs/ingest"), json={
            "object": obj, "operation": "upsert", "externalIdFieldName": external_id,
            "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"})
        job_id = str(job["id"])
        url = self.client.url(f"jobs/ingest/{job_id}")
        self.client.request("PUT", f"{url}/batches", data=body,
                            headers={"Content-Type": "text/csv; charset=UTF-8"})
        self.client.request("PATCH", url, json={"state": "UploadComplete"})
        self._wait(job_id, url)
        yield from self._results(f"{url}/successfulResults", ok=True)
        yield from self._results(f"{url}/failedResults", ok=False)
        yield from self._results(f"{url}/unprocessedrecords", ok=False, unprocessed=True)

    def _wait(self, job_id: str, url: str) -> None:
        deadline = self.q.clock() + self.q.poll_timeout
        while True:
            info = self.client.json("GET", url)
            state = info.get("state")
            if state == "JobComplete":
                return
            if state in ("Failed", "Aborted"):
                # Failed jobs still report per-row results; the caller reads them.
                log.warning("salesforce.bulk.ingest.failed", job=job_id, state=state)
                return
            if self.q.clock() > deadline:
                raise StreamError(f"Bulk ingest job {job_id} still {state}", code="bulk_timeout")
            self.q.sleep(self.q.poll_interval)

    def _results(self, url: str, *, ok: bool, unprocessed: bool = False) -> Iterator[IngestOutcome]:
        body, _ = self.client.download(url, {})
        try:
            reader = csv.reader(io.TextIOWrapper(body, encoding="utf-8", newline=""))
            header = next(reader, None) or []
            for row in reader:
                cells = dict(zip(header, row, strict=False))
                if unprocessed:
                    yield IngestOutcome(None, None, "UNPROCESSED:record not processed before the job ended", cells)
                    continue
                sf_id = cells.pop("sf__Id", "") or None
                created = cells.pop("sf__Created", None)
                error = cells.pop("sf__Error", None)
                yield IngestOutcome(sf_id, None if created is None else created == "true",
                                    None if ok else (error or "UNKNOWN_ERROR:"), cells)
        finally:
            body.close()
