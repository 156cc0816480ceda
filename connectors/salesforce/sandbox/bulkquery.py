"""Bulk API 2.0 query jobs: the result is written once, as a CSV file, when the job is created.

Like the real service, the job's result set is fixed when the job runs. SQLite builds every CSV line
itself (see QueryPlan.csv), the lines go to files with a row-offset index (resultfile.py), written by
parallel workers over rowid ranges of one snapshot when the query has no ORDER BY or LIMIT; a results
page (``locator``, ``maxRecords``) is then a byte range streamed to the client, so serving costs no
per-row work and memory stays flat whatever the size. Locators stay valid until the job is deleted
(clients re-request pages after transient errors).
"""

from __future__ import annotations

import base64
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from connectors.salesforce.objects import id_for

from .db import Database
from .errors import SalesforceApiError, not_found
from .httpserver import Response
from .queries import QueryEngine
from .resultfile import ResultPart, ResultSet
from .soql.compiler import QueryPlan
from .timefmt import Clock, from_epoch

DELIMITERS = {"COMMA": ",", "TAB": "\t", "SEMICOLON": ";", "PIPE": "|", "CARET": "^", "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
JOB_PREFIX = "750"
DEFAULT_WORKERS = min(4, os.cpu_count() or 1)
PARALLEL_MIN_ROWS = 50_000


@dataclass
class QueryJob:
    id: str
    operation: str
    object: str
    query: str
    created: str
    created_by: str
    delimiter: str
    line_ending: str
    version: str
    result: ResultSet = field(default_factory=ResultSet)
    state: str = "UploadComplete"
    header: bytes = b""
    processing_ms: int = 0

    @property
    def rows(self) -> int:
        return self.result.rows

    def info(self, detail: bool) -> dict[str, Any]:
        state = self.state
        body: dict[str, Any] = {
            "id": self.id, "operation": self.operation, "object": self.object, "createdById": self.created_by,
            "createdDate": self.created, "systemModstamp": self.created, "state": state,
            "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(self.version),
            "lineEnding": _key(LINE_ENDINGS, self.line_ending), "columnDelimiter": _key(DELIMITERS, self.delimiter),
        }
        if detail:
            body.update({"jobType": "V2Query", "numberRecordsProcessed": self.rows, "retries": 0,
                         "totalProcessingTime": self.processing_ms, "isPkChunkingSupported": True})
        return body


def _key(table: dict[str, str], value: str) -> str:
    return next(k for k, v in table.items() if v == value)


def encode_locator(row: int) -> str:
    return base64.b64encode(str(row).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int:
    try:
        return int(base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode())
    except (ValueError, UnicodeDecodeError):
        raise SalesforceApiError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}") from None


class BulkQueryJobs:
    def __init__(self, db: Database, engine: QueryEngine, work_dir: Path, clock: Clock, page_size: int,
                 workers: int = DEFAULT_WORKERS) -> None:
        self.workers = workers
        self.parallel_min_rows = PARALLEL_MIN_ROWS
        self.db = db
        self.engine = engine
        self.dir = work_dir / "bulk-query"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self.page_size = page_size
        self._jobs: dict[str, QueryJob] = {}
        self._lock = threading.Lock()
        self._counter = 0

    @property
    def jobs_created(self) -> int:
        """Query jobs created since start (deleted ones included)."""
        with self._lock:
            return self._counter

    def get(self, job_id: str) -> QueryJob:
        """A job by id (tests look at its result parts)."""
        return self._job(job_id)

    def _job(self, job_id: str) -> QueryJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise not_found()
        return job

    def create(self, body: dict[str, Any], user_id: str, version: str) -> dict[str, Any]:
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise SalesforceApiError(400, "INVALIDJOB", f"Invalid operation: {operation}")
        query = body.get("query")
        if not isinstance(query, str):
            raise SalesforceApiError(400, "INVALIDJOB", "Query is required for query jobs")
        delimiter = DELIMITERS.get(str(body.get("columnDelimiter", "COMMA")))
        line_ending = LINE_ENDINGS.get(str(body.get("lineEnding", "LF")))
        if delimiter is None or line_ending is None:
            raise SalesforceApiError(400, "INVALIDJOB", "Invalid columnDelimiter or lineEnding")
        plan = self.engine.plan(query, operation == "queryAll")
        plan.check_bulk()
        with self._lock:
            self._counter += 1
            job_id = id_for(JOB_PREFIX, self._counter)
        job = QueryJob(job_id, operation, plan.root.name, query, from_epoch(self.clock()), user_id, delimiter,
                       line_ending, version)
        started = self.clock()
        try:
            self._write_results(job, plan)
        except BaseException:
            job.result.remove()
            raise
        job.processing_ms = int((self.clock() - started) * 1000)
        with self._lock:
            self._jobs[job_id] = job
        return job.info(detail=False)

    def _write_results(self, job: QueryJob, plan: QueryPlan) -> None:
        """Write the job's CSV: one worker per rowid range when the query has no order or limit (the rows then
        come in rowid order anyway), all reading one snapshot; otherwise a single ordered pass."""
        sep = job.line_ending.encode()
        job.header = job.delimiter.join(f'"{h}"' for h in plan.csv_header).encode() + sep
        ranges = self._ranges(plan)
        if len(ranges) <= 1:
            sql = plan.csv(job.delimiter, job.line_ending)
            part = ResultPart(self.dir / f"{job.id}.0.csv", self.dir / f"{job.id}.0.idx")
            job.result.parts.append(part)
            with self.db.read() as conn:
                part.write(conn, sql.text, sql.params())
            return
        sql = plan.csv_range(job.delimiter, job.line_ending)
        job.result.parts.extend(ResultPart(self.dir / f"{job.id}.{i}.csv", self.dir / f"{job.id}.{i}.idx")
                                for i in range(len(ranges)))
        with self.db.snapshot(len(ranges)) as conns, ThreadPoolExecutor(len(ranges)) as pool:
            futures = [pool.submit(part.write, conn, sql.text, sql.params(rid_lo=a, rid_hi=b))
                       for part, conn, (a, b) in zip(job.result.parts, conns, ranges, strict=True)]
            for future in futures:
                future.result()

    def _ranges(self, plan: QueryPlan) -> list[tuple[int, int]]:
        """Rowid ranges for parallel writers (empty or one range: write in a single pass)."""
        if self.workers < 2 or self.db.memory or not plan.splittable:
            return []
        with self.db.read() as conn:
            sql = plan.rid_bounds
            low, high = conn.execute(sql.text, sql.params()).fetchone()
        if low is None or high - low < self.parallel_min_rows:
            return []
        size = (high - low) // self.workers + 1
        return [(a, min(a + size - 1, high)) for a in range(low, high + 1, size)]

    def info(self, job_id: str) -> dict[str, Any]:
        job = self._job(job_id)
        if job.state == "UploadComplete":
            job.state = "JobComplete"  # processing finished when the job was created
        return job.info(detail=True)

    def all_jobs(self) -> dict[str, Any]:
        with self._lock:
            jobs = list(self._jobs.values())
        return {"done": True, "records": [j.info(detail=False) for j in jobs], "nextRecordsUrl": None}

    def abort(self, job_id: str) -> dict[str, Any]:
        job = self._job(job_id)
        if job.state in ("JobComplete", "Failed", "Aborted"):
            raise SalesforceApiError(400, "INVALIDJOBSTATE", f"Job {job_id} is already {job.state}")
        job.state = "Aborted"
        return job.info(detail=True)

    def delete(self, job_id: str) -> None:
        job = self._job(job_id)
        with self._lock:
            self._jobs.pop(job_id, None)
        job.result.remove()

    def results(self, job_id: str, locator: str | None, max_records: int | None) -> Response:
        job = self._job(job_id)
        if job.state == "Aborted":
            raise SalesforceApiError(400, "INVALIDJOBSTATE", f"Job {job_id} was aborted")
        start = decode_locator(locator) if locator and locator != "null" else 0
        if start > job.rows:
            raise SalesforceApiError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}")
        count = min(max_records or self.page_size, job.rows - start)
        end = start + count
        next_locator = encode_locator(end) if end < job.rows else "null"
        headers = [("Sforce-Locator", next_locator), ("Sforce-NumberOfRecords", str(count))]
        body = chain((job.header,), job.result.stream(start, end))
        return Response(200, body, headers=headers, content_type="text/csv; charset=UTF-8")

    def close(self) -> None:
        with self._lock:
            jobs, self._jobs = list(self._jobs.values()), {}
        for job in jobs:
            job.result.remove()
