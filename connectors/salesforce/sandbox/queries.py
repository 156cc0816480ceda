"""REST query and queryAll with server-side cursors that page over a snapshot.

When a query runs, the rowids it matches are appended, in result order, to the cursor table in the
same transaction as the read: that block of rows *is* the cursor. A page is then a rowid range of
the block joined back to the data, so pages are as fast at offset 900,000 as at 0, memory holds one
page at a time, and writes after the query neither shift pages nor make a record appear twice or
not at all (a record updated meanwhile is returned once, with its current values).
Locators are ``<cursor id>-<offset>`` as Salesforce's are; a cursor lives ``cursor_ttl`` seconds
after its last use.

While a client parses one page, the next is rendered in the background (clients read pages one after
the other, so server and client work then overlap on two cores). A prefetched page is used only if no
write was committed since it was started (``Database.version``), so a page never shows older values
than one rendered on request would.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import bindparam, func, select

from connectors.salesforce.objects import id_for

from .db import Database, compile_sql
from .errors import SalesforceApiError
from .schema import Schema
from .soql.compiler import QueryPlan, compile_query
from .timefmt import Clock

CURSOR_PREFIX = "01g"


MAX_PREFETCHED = 16
_FIRST = itemgetter(0)


@dataclass
class _Ahead:
    offset: int
    version: int
    future: Future[bytes]


@dataclass
class Cursor:
    id: str
    plan: QueryPlan
    first_seq: int
    total: int
    batch_size: int
    include_deleted: bool
    version: str
    last_used: float


def invalid_locator() -> SalesforceApiError:
    return SalesforceApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")


class QueryEngine:
    def __init__(self, db: Database, schema: Schema, clock: Clock, cursor_ttl: float) -> None:
        self.db = db
        self.schema = schema
        self.clock = clock
        self.cursor_ttl = cursor_ttl
        self._cursors: dict[str, Cursor] = {}
        self._plans: OrderedDict[tuple[str, bool, str], QueryPlan] = OrderedDict()
        self._lock = threading.Lock()
        self._counter = 0
        self._ahead: dict[str, _Ahead] = {}
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sandbox-prefetch")
        rows = schema.cursor_rows
        self._max_seq = compile_sql(select(func.coalesce(func.max(rows.c.seq), 0)))
        self._drop = compile_sql(rows.delete().where(rows.c.seq.between(
            bindparam("lo", required=False), bindparam("hi", required=False))))

    def today(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).date().isoformat()

    def plan(self, text: str, include_deleted: bool) -> QueryPlan:
        """The plan of a query text, cached (date literals make the plan depend on today's date)."""
        key = (text, include_deleted, self.today())
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
                return plan
        plan = compile_query(self.schema, text, include_deleted, datetime.fromisoformat(key[2]).date())
        with self._lock:
            self._plans[key] = plan
            while len(self._plans) > 256:
                self._plans.popitem(last=False)
        return plan

    # ----------------------------------------------------------------------------- running
    def run(self, text: str, include_deleted: bool, batch_size: int, version: str) -> bytes:
        """Run a query and return its first page (the REST response body, JSON)."""
        self.purge_expired()
        plan = self.plan(text, include_deleted)
        if plan.is_aggregate:
            return self._aggregate(plan)
        with self.db.write() as conn:
            first = conn.execute(self._max_seq.text, self._max_seq.params()).fetchone()[0] + 1
            total = conn.execute(plan.cursor_insert.text, plan.cursor_insert.params()).rowcount
            cursor = self._new_cursor(plan, first, max(total, 0), batch_size, include_deleted, version)
            body, done = self._page(conn, cursor, 0)
            if done:
                self._forget(conn, cursor)
            else:
                with self._lock:
                    self._cursors[cursor.id] = cursor
        if not done:
            self._prefetch(cursor, batch_size)
        return body

    def more(self, locator: str, version: str) -> bytes:
        """The page a ``nextRecordsUrl`` locator names."""
        cursor_id, _, offset_text = locator.rpartition("-")
        with self._lock:
            cursor = self._cursors.get(cursor_id)
        if cursor is None or not offset_text.isdigit() or int(offset_text) >= cursor.total:
            raise invalid_locator()
        cursor.last_used = self.clock()
        offset = int(offset_text)
        body = self._prefetched(cursor.id, offset)
        if body is None:
            body = self._render(cursor, offset)
        self._prefetch(cursor, offset + cursor.batch_size)
        return body

    def _render(self, cursor: Cursor, offset: int) -> bytes:
        with self.db.read() as conn:
            return self._page(conn, cursor, offset)[0]

    def _prefetch(self, cursor: Cursor, offset: int) -> None:
        """Start rendering the page at ``offset`` in the background (at most one page ahead per cursor)."""
        if offset >= cursor.total:
            return
        with self._lock:
            if len(self._ahead) >= MAX_PREFETCHED and cursor.id not in self._ahead:
                return
            version = self.db.version
            self._ahead[cursor.id] = _Ahead(offset, version, self._pool.submit(self._render, cursor, offset))

    def _prefetched(self, cursor_id: str, offset: int) -> bytes | None:
        """The page rendered ahead, if it is this one and nothing was written since it was started."""
        with self._lock:
            ahead = self._ahead.pop(cursor_id, None)
        if ahead is None or ahead.offset != offset:
            return None
        try:
            body = ahead.future.result()
        except Exception:  # rendered again on request, which reports the error properly
            return None
        return body if ahead.version == self.db.version else None

    def _new_cursor(self, plan: QueryPlan, first: int, total: int, batch_size: int, include_deleted: bool,
                    version: str) -> Cursor:
        with self._lock:
            self._counter += 1
            cursor_id = id_for(CURSOR_PREFIX, self._counter)
        return Cursor(cursor_id, plan, first, total, batch_size, include_deleted, version, self.clock())

    def _page(self, conn: Any, cursor: Cursor, offset: int) -> tuple[bytes, bool]:
        """The page at ``offset`` as the REST body; SQLite writes each record's JSON (see soql/render.py)."""
        lo = cursor.first_seq + offset
        hi = min(lo + cursor.batch_size, cursor.first_seq + cursor.total) - 1
        sql = cursor.plan.page
        url = f"/services/data/v{cursor.version}/sobjects/"
        rows = conn.execute(sql.text, sql.params(lo=lo, hi=hi, sobjects_url=url)).fetchall()
        end = offset + cursor.batch_size
        head: dict[str, Any] = {"totalSize": cursor.total, "done": end >= cursor.total}
        if end < cursor.total:
            resource = "queryAll" if cursor.include_deleted else "query"
            head["nextRecordsUrl"] = f"/services/data/v{cursor.version}/{resource}/{cursor.id}-{end}"
        records = b",".join(map(_FIRST, rows))
        return b"".join((orjson.dumps(head)[:-1], b',"records":[', records, b"]}")), end >= cursor.total

    def _aggregate(self, plan: QueryPlan) -> bytes:
        with self.db.read() as conn:
            values = conn.execute(plan.count.text, plan.count.params()).fetchone()
        if plan.is_count:
            return orjson.dumps({"totalSize": int(values[0]), "done": True, "records": []})
        record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        for (key, _), value in zip(plan.counts, values, strict=True):
            record[key] = int(value)
        return orjson.dumps({"totalSize": 1, "done": True, "records": [record]})

    # ----------------------------------------------------------------------------- lifecycle
    def _forget(self, conn: Any, cursor: Cursor) -> None:
        if cursor.total:
            conn.execute(self._drop.text, self._drop.params(lo=cursor.first_seq,
                                                            hi=cursor.first_seq + cursor.total - 1))

    def purge_expired(self) -> int:
        """Drop cursors unused for ``cursor_ttl`` seconds; returns how many."""
        now = self.clock()
        with self._lock:
            expired = [c for c in self._cursors.values() if now - c.last_used > self.cursor_ttl]
            for c in expired:
                del self._cursors[c.id]
                self._ahead.pop(c.id, None)
        if expired:
            with self.db.write() as conn:
                for c in expired:
                    self._forget(conn, c)
        return len(expired)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def open_cursors(self) -> int:
        with self._lock:
            return len(self._cursors)
