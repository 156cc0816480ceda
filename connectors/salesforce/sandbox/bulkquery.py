"""Bulk API 2.0 query jobs: the result is written once, as a CSV file, when the job is created.

Like the real service, the job's result set is fixed when the job runs. SQLite builds every CSV line
itself (one string column per row, see QueryPlan.csv), the lines are streamed to a file, and a
sidecar file records where each row starts; a results page (``locator``, ``maxRecords``) is then a
byte range of the file streamed to the client, so serving costs no per-row work and memory stays
flat whatever the size. Locators stay valid until the job is deleted (clients re-request pages
after transient errors).
"""

from __future__ import annotations

import base64
import threading
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

from connectors.salesforce.objects import id_for

from .db import Database
from .errors import SalesforceApiError, not_found
from .httpserver import Response
from .queries import QueryEngine
from .timefmt import Clock, from_epoch

DELIMITERS = {"COMMA": ",", "TAB": "\t", "SEMICOLON": ";", "PIPE": "|", "CARET": "^", "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
JOB_PREFIX = "750"
_CHUNK = 1 << 20


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
    data_path: Path
    offsets_path: Path
    state: str = "UploadComplete"
    rows: int = 0
    header: bytes = b""
    processing_ms: int = 0

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
    def __init__(self, db: Database, engine: QueryEngine, work_dir: Path, clock: Clock, page_size: int) -> None:
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
                       line_ending, version, self.dir / f"{job_id}.csv", self.dir / f"{job_id}.idx")
        started = self.clock()
        self._write_results(job, plan.csv(delimiter), plan.csv_header)
        job.processing_ms = int((self.clock() - started) * 1000)
        with self._lock:
            self._jobs[job_id] = job
        return job.info(detail=False)

    def _write_results(self, job: QueryJob, sql: Any, header: list[str]) -> None:
        """Stream the job's CSV lines from SQLite to its data file, recording where each row starts."""
        sep = job.line_ending
        job.header = (job.delimiter.join(f'"{h}"' for h in header) + sep).encode()
        position = 0
        with open(job.data_path, "wb") as data, open(job.offsets_path, "wb") as index, self.db.read() as conn:
            cur = conn.execute(sql.text, sql.params())
            while rows := cur.fetchmany(10_000):
                encoded = [(r[0] + sep).encode() for r in rows]
                starts = array("Q", accumulate(map(len, encoded[:-1]), initial=position))
                starts.tofile(index)
                chunk = b"".join(encoded)
                data.write(chunk)
                position += len(chunk)
                job.rows += len(rows)

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
        for path in (job.data_path, job.offsets_path):
            path.unlink(missing_ok=True)

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
        body = self._stream(job, start, end)
        return Response(200, body, headers=headers, content_type="text/csv; charset=UTF-8")

    def _offset(self, job: QueryJob, row: int) -> int:
        if row >= job.rows:
            return job.data_path.stat().st_size
        with open(job.offsets_path, "rb") as index:
            index.seek(row * 8)
            values = array("Q")
            values.frombytes(index.read(8))
            return int(values[0])

    def _stream(self, job: QueryJob, start: int, end: int) -> Iterator[bytes]:
        first, last = self._offset(job, start), self._offset(job, end)

        def chunks() -> Iterator[bytes]:
            yield job.header
            with open(job.data_path, "rb") as data:
                data.seek(first)
                remaining = last - first
                while remaining > 0:
                    chunk = data.read(min(_CHUNK, remaining))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    yield chunk

        return chunks()

    def close(self) -> None:
        with self._lock:
            jobs, self._jobs = list(self._jobs.values()), {}
        for job in jobs:
            for path in (job.data_path, job.offsets_path):
                path.unlink(missing_ok=True)
