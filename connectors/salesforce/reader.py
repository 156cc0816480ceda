"""Incremental reads: windows over the cursor field, REST or Bulk per window, cursors that never skip.

The query is ``cursor >= lower AND cursor < upper`` (closed lower bound), the upper bound never
later than the run's start. REST windows are ordered by (cursor, Id), so each batch carries the
cursor of its last record plus the Ids already emitted at that value (``Cursor.seen_keys``): records
sharing one SystemModstamp across a page or run boundary are re-read and skipped, never lost.
Bulk API 2.0 cannot order, so a bulk window hands out its starting cursor (plus the job and locator
to resume from) until the window is complete, then the highest value it saw. A QUERY_TIMEOUT splits
what is left of the window into halves.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import structlog

from connectors.base import Batch, Cursor, KeyRange, ReadRange, TimeWindow
from connectors.errors import StreamError
from connectors.salesforce import query, soql
from connectors.salesforce.bulk import BulkQuery, QueryJob, parse_csv
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.errors import BulkNotSupportedError, QueryTimeoutError
from connectors.salesforce.prefetch import ahead
from connectors.salesforce.schema import ObjectShape

log = structlog.get_logger(__name__)
PARSE_CHUNK = 500  # records parsed ahead per hand-off to the reading thread
Window = tuple[datetime | None, datetime | None]


def parse_stamp(value: str) -> datetime:
    """A Salesforce datetime (``...000+0000`` or ``...000Z``) as an aware datetime."""
    return datetime.fromisoformat(value)


@dataclass(slots=True)
class Position:
    """The highest cursor value emitted so far and the Ids emitted at exactly that value."""

    value: datetime | None = None
    seen: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, cursor: Cursor | None) -> Position:
        if cursor is None or cursor.value is None:
            return cls()
        value = cursor.value if isinstance(cursor.value, datetime) else parse_stamp(str(cursor.value))
        return cls(value, set(cursor.seen_keys))

    def cursor(self, extra: dict[str, Any] | None = None) -> Cursor:
        return Cursor(value=self.value, seen_keys=tuple(sorted(self.seen)), extra=extra or {})

    def already(self, record_id: str, stamp: str | None) -> bool:
        """Emitted before: its Id is among those seen at the current value, and so is its stamp."""
        return record_id in self.seen and stamp is not None and parse_stamp(stamp) == self.value

    def merge(self, stamp: str | None, ids: list[str]) -> None:
        """Take the highest stamp of a chunk and the Ids at it; never move backwards."""
        if not stamp:
            return
        value = parse_stamp(stamp)
        if self.value is None or value > self.value:
            self.value, self.seen = value, set(ids)
        elif value == self.value:
            self.seen.update(ids)


class Reader:
    """Reads one object; built per ``read`` call from the connector's shared client."""

    def __init__(self, client: SalesforceClient, config: SalesforceConfig, shape: ObjectShape,
                 now: Callable[[], datetime], bulk: BulkQuery) -> None:
        self.client = client
        self.config = config
        self.shape = shape
        self.now = now
        self.bulk = bulk
        self.cf = shape.spec.cursor_field
        self.deleted = shape.soft_deletes and config.include_deleted
        self.conditions: list[str] = []

    # -- planning --------------------------------------------------------------------------------

    def read(self, cursor: Cursor | None, read_range: ReadRange | None) -> Iterator[Batch]:
        position = Position.of(cursor)
        if isinstance(read_range, KeyRange):
            key = self.config.upsert_keys.get(self.shape.name, "Id")
            self.conditions = soql.key_range(read_range.start, read_range.end, key)
        if self.cf is None:
            yield from self._window(None, None, Position(), self._prepare(None, None))
            return
        upper = self.now()
        lower = position.value - self.config.lookback if position.value else _aware(self.config.start_date)
        if isinstance(read_range, TimeWindow):
            if read_range.end is not None:
                upper = min(upper, _aware(read_range.end))
            if read_range.start is not None:
                lower = max(lower, _aware(read_range.start)) if lower else _aware(read_range.start)
        resume = cursor.extra.get("bulk") if cursor else None
        if resume:
            resumed_end = yield from self._resume(resume, position)
            lower = resumed_end if resumed_end is not None else lower
        yield from self._windows(lower, upper, position)

    def _windows(self, lower: datetime | None, upper: datetime, position: Position) -> Iterator[Batch]:
        """Windows in order; the next window's Bulk job is prepared while this one is read.

        A Bulk job is work the org does on its own: starting the next one while the current one's
        results are downloaded overlaps the two (the job's own requests are still one at a time).
        """
        plan = WindowPlan(lower, upper, self.config.window, self._earliest)
        early: dict[Window, Future[QueryJob | None]] = {}
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="salesforce-bulk-job") as worker:
            try:
                while (window := plan.pop()) is not None:
                    following = plan.peek()
                    if self.config.prefetch and following is not None and following not in early:
                        early[following] = worker.submit(self._prepare, *following)
                    before, emitted = position.value, False
                    try:
                        job = early.pop(window).result() if window in early else self._prepare(*window)
                        for batch in self._window(*window, position, job):
                            emitted = emitted or bool(batch.records or batch.tombstones)
                            yield batch
                    except QueryTimeoutError:
                        # Only what is left: from the last value emitted in this window, or all of it.
                        left = position.value if position.value != before else window[0]
                        plan.split(left, window[1], self.config.min_window, self.shape.name)
                        continue
                    if not emitted:
                        plan.skip_empty()
            finally:
                self._discard(early)

    def _discard(self, early: dict[Window, Future[QueryJob | None]]) -> None:
        """Delete jobs prepared for windows this read never reached (it stopped early or skipped them)."""
        for future in early.values():
            if not future.cancel() and future.exception() is None and (job := future.result()) is not None:
                self.bulk.delete(job)

    def _earliest(self, lower: datetime | None, upper: datetime) -> datetime | None:
        """The first cursor value in ``[lower, upper)``, or None when there is none."""
        assert self.cf is not None
        statement = soql.select(self.shape.name, [self.cf], self.cf, lower, upper, limit=1,
                                conditions=self.conditions)
        first = query.first(self.client, statement, include_deleted=self.deleted)
        return parse_stamp(first[self.cf]) if first and first.get(self.cf) else None

    # -- one window ------------------------------------------------------------------------------

    def _prepare(self, start: datetime | None, end: datetime | None) -> QueryJob | None:
        """A completed Bulk job for the window, or None when it is read through REST."""
        if not self._use_bulk(start, end):
            return None
        statement = soql.select(self.shape.name, self.shape.select, self.cf, start, end, ordered=False,
                                conditions=self.conditions)
        try:
            job = self.bulk.start(statement, include_deleted=self.deleted)
        except BulkNotSupportedError as exc:
            log.warning("salesforce.read.bulk_refused", stream=self.shape.name, error=exc.code)
            return None
        self.bulk.wait(job)
        return job

    def _window(self, start: datetime | None, end: datetime | None, position: Position,
                job: QueryJob | None) -> Iterator[Batch]:
        if job is not None:
            yield from self._bulk_window(start, end, position, job)
            return
        statement = soql.select(self.shape.name, self.shape.select, self.cf, start, end,
                                conditions=self.conditions)
        size = min(self.config.page_size, max(200, self.config.batch_size))
        pages = query.pages(self.client, statement, include_deleted=self.deleted, page_size=size)
        for records in ahead(pages, self.config.prefetch):
            for chunk_start in range(0, len(records), self.config.batch_size):
                yield self._rest_batch(records[chunk_start:chunk_start + self.config.batch_size], position)

    def _use_bulk(self, start: datetime | None, end: datetime | None) -> bool:
        threshold = self.config.bulk_read_threshold
        if not self.shape.bulk or threshold is None:
            return False
        if threshold == 0:
            return True
        statement = soql.count(self.shape.name, self.cf, start, end, self.conditions)
        size = query.total(self.client, statement, include_deleted=self.deleted)
        log.info("salesforce.read.window", stream=self.shape.name, records=size, bulk=size >= threshold)
        return size >= threshold

    def _rest_batch(self, records: list[dict[str, Any]], position: Position) -> Batch:
        """Records and tombstones of a REST page (ordered by cursor, Id) and the cursor after it."""
        cf, seen = self.cf, position.seen
        out: list[dict[str, Any]] = []
        tombstones: list[str] = []
        deleted: list[dict[str, Any]] = []
        for record in records:
            del record["attributes"]
            record_id = record["Id"]
            if seen and record_id in seen and position.already(record_id, record[cf] if cf else None):
                continue
            if record.get("IsDeleted"):
                tombstones.append(record_id)
                deleted.append(record)
            else:
                out.append(record)
        if cf is None or not records:
            return Batch(out, None, tombstones, deleted_records=deleted)
        last = records[-1][cf]
        position.merge(last, [r["Id"] for r in _tail(records, cf, last)])
        return Batch(out, position.cursor(), tombstones, deleted_records=deleted)

    def _bulk_window(self, start: datetime | None, end: datetime | None, position: Position,
                     job: QueryJob) -> Iterator[Batch]:
        """An unordered window: batches carry the starting cursor plus resume data until it completes."""
        top, top_ids = "", list[str]()  # highest stamp in the window (one format: a plain string compare)
        cf, size, held = self.cf, self.config.batch_size, None
        out: list[dict[str, Any]] = []
        tombstones: list[str] = []
        deleted: list[dict[str, Any]] = []
        for record, resume in self._bulk_records(job, start, end):
            record_id = record["Id"]
            stamp = record[cf] if cf else None
            if position.seen and position.already(record_id, stamp):
                continue
            if stamp is not None and stamp >= top:
                if stamp > top:
                    top, top_ids = stamp, []
                top_ids.append(record_id)
            if record.get("IsDeleted"):
                tombstones.append(record_id)
                deleted.append(record)
            else:
                out.append(record)
            if len(out) + len(tombstones) >= size:
                if held is not None:
                    yield held
                held = Batch(out, None if cf is None else position.cursor(resume), tombstones,
                             deleted_records=deleted)
                out, tombstones, deleted = [], [], []
        if cf is not None:
            position.merge(top, top_ids)
        final = None if cf is None else position.cursor()
        if out or tombstones:
            if held is not None:
                yield held
            yield Batch(out, final, tombstones, deleted_records=deleted)
        elif held is not None:
            held.cursor = final
            yield held
        self.bulk.delete(job)

    def _bulk_records(self, job: QueryJob, start: datetime | None,
                      end: datetime | None) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Each record of the job's pages with its page's resume data.

        Pages are downloaded and parsed one chunk ahead in the prefetch thread: the CSV parsing was
        the caller's largest cost of a read, while the prefetch thread mostly waited for the caller.
        """
        for records, resume in ahead(self._parsed(job, start, end), self.config.prefetch):
            for record in records:
                yield record, resume

    def _parsed(self, job: QueryJob, start: datetime | None,
                end: datetime | None) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
        """The job's records in chunks of at most PARSE_CHUNK (memory stays flat), parsed as each page streams;
        the next page downloads in its own thread meanwhile, as it did while the caller parsed."""
        for body, locator in ahead(self.bulk.pages(job), self.config.prefetch):
            resume = self._resume_data(job.id, locator, start, end)
            with body:
                records = parse_csv(body, self.shape.types)
                while chunk := list(islice(records, PARSE_CHUNK)):
                    yield chunk, resume

    def _resume_data(self, job: str, locator: str | None, start: datetime | None,
                     end: datetime | None) -> dict[str, Any]:
        return {"bulk": {"job": job, "locator": locator,
                         "start": start.isoformat() if start else None, "end": end.isoformat() if end else None}}

    def _resume(self, data: dict[str, Any], position: Position) -> Generator[Batch, None, datetime | None]:
        """Continue a bulk window from the page an earlier run stopped at, if its job still exists."""
        job_id = str(data.get("job") or "")
        if not job_id or not data.get("end") or not self.bulk.exists(job_id):
            return None
        start = datetime.fromisoformat(data["start"]) if data.get("start") else None
        end = datetime.fromisoformat(data["end"])
        log.info("salesforce.read.bulk_resumed", stream=self.shape.name, job=job_id)
        yield from self._bulk_window(start, end, position, QueryJob(job_id, data.get("locator")))
        return end


class WindowPlan:
    """The windows of one read over ``[lower, upper)``: pieces of ``size``, split halves first.

    Pieces are made as the read goes, so a long range costs nothing up front, and after a piece
    that held nothing the next one starts at the next record (one query instead of a query per
    empty piece).
    """

    def __init__(self, lower: datetime | None, upper: datetime, size: timedelta | None,
                 earliest: Callable[[datetime | None, datetime], datetime | None]) -> None:
        self.upper, self.size, self.earliest = upper, size, earliest
        self.halves: list[Window] = []
        self.whole: Window | None = (lower, upper) if size is None and (lower is None or lower < upper) else None
        self.next = earliest(lower, upper) if size is not None and lower is None else lower

    def peek(self) -> Window | None:
        if self.halves:
            return self.halves[-1]
        if self.size is None:
            return self.whole
        if self.next is None or self.next >= self.upper:
            return None
        return (self.next, min(self.next + self.size, self.upper))

    def pop(self) -> Window | None:
        window = self.peek()
        if window is None or self.halves:
            return self.halves.pop() if self.halves else None
        if self.size is None:
            self.whole = None
        else:
            self.next = window[1]
        return window

    def skip_empty(self) -> None:
        if self.size is not None and not self.halves and self.next is not None and self.next < self.upper:
            self.next = self.earliest(self.next, self.upper)

    def split(self, start: datetime | None, end: datetime | None, smallest: timedelta, name: str) -> None:
        """Put the two halves of ``[start, end)`` first (QUERY_TIMEOUT); too small a window fails the stream."""
        assert end is not None
        start = start or self.earliest(None, end)
        if start is None:
            return
        if end - start <= smallest:
            raise StreamError(f"{name}: QUERY_TIMEOUT on a window of {end - start}; "
                              "add a selective index or narrow the fields", code="QUERY_TIMEOUT")
        middle = start + (end - start) / 2
        self.halves.extend([(middle, end), (start, middle)])
        log.info("salesforce.read.window_split", stream=name, start=start.isoformat(), end=end.isoformat())


def _tail(records: list[dict[str, Any]], cf: str, stamp: str) -> Iterator[dict[str, Any]]:
    """The trailing records that share ``stamp`` (the page is ordered by cursor)."""
    for record in reversed(records):
        if record[cf] != stamp:
            return
        yield record



def _aware(value: datetime | None) -> Any:
    """Naive datetimes in settings and ranges are UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
