"""Bulk API 2.0 ingest jobs: upload CSV, close, and the rows are applied with per-row results.

Open -> (PUT batches, answered 201) -> UploadComplete -> processed in chunks of 200 rows, each chunk one
transaction, every row validated like a REST write -> JobComplete. Results are CSV files:
successfulResults (``sf__Id, sf__Created`` + the row), failedResults (``sf__Id, sf__Error`` + the row)
and unprocessedrecords (rows of an aborted job). An empty cell leaves a field unchanged, ``#N/A``
sets it to null (reference §7). A header naming an unknown field fails the whole job, as Salesforce
fails it.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.salesforce.objects import id_for

from .bulkquery import DELIMITERS, JOB_PREFIX, LINE_ENDINGS
from .db import Database
from .errors import FieldError, RecordErrors, SalesforceApiError, not_found
from .schema import ObjectSchema, Schema
from .store import MultipleMatches, Store
from .timefmt import Clock, from_epoch

OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
CHUNK = 200
TERMINAL = ("JobComplete", "Failed", "Aborted")
INGEST_ID_BASE = 100_000_000  # ingest and query jobs share the 750 key prefix but never an id


@dataclass
class IngestJob:
    id: str
    operation: str
    object: ObjectSchema
    external_id: str | None
    created: str
    created_by: str
    delimiter: str
    line_ending: str
    version: str
    upload: Path
    state: str = "Open"
    processed: int = 0
    failed: int = 0
    error: str | None = None
    processing_ms: int = 0

    def path(self, kind: str) -> Path:
        return self.upload.with_suffix(f".{kind}.csv")

    def info(self, detail: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id, "operation": self.operation, "object": self.object.name, "createdById": self.created_by,
            "createdDate": self.created, "systemModstamp": self.created, "state": self.state,
            "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(self.version),
            "contentUrl": f"services/data/v{self.version}/jobs/ingest/{self.id}/batches",
            "lineEnding": next(k for k, v in LINE_ENDINGS.items() if v == self.line_ending),
            "columnDelimiter": next(k for k, v in DELIMITERS.items() if v == self.delimiter),
        }
        if self.external_id:
            body["externalIdFieldName"] = self.external_id
        if detail:
            body.update({"jobType": "V2Ingest", "numberRecordsProcessed": self.processed,
                         "numberRecordsFailed": self.failed, "retries": 0, "totalProcessingTime": self.processing_ms,
                         "apiActiveProcessingTime": self.processing_ms, "apexProcessingTime": 0})
            if self.error:
                body["errorMessage"] = self.error
        return body


class BulkIngestJobs:
    def __init__(self, db: Database, schema: Schema, store: Store, work_dir: Path, clock: Clock) -> None:
        self.db, self.schema, self.store, self.clock = db, schema, store, clock
        self.dir = work_dir / "bulk-ingest"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._jobs: dict[str, IngestJob] = {}
        self._lock = threading.Lock()
        self._counter = 0

    def _job(self, job_id: str) -> IngestJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise not_found()
        return job

    def create(self, body: dict[str, Any], user_id: str, version: str) -> dict[str, Any]:
        operation = body.get("operation")
        if operation not in OPERATIONS:
            raise SalesforceApiError(400, "INVALIDJOB", f"Invalid operation: {operation}")
        obj = self.schema.get(str(body.get("object", "")))
        if obj is None:
            raise SalesforceApiError(400, "INVALIDJOB", f"Entity '{body.get('object')}' is not supported by the "
                                     "Bulk API.")
        external = body.get("externalIdFieldName")
        if operation == "upsert":
            if not external:
                raise SalesforceApiError(400, "INVALIDJOB", "External ID was blank for upsert")
            f = obj.field(str(external))
            if f is None or not (f.external_id or f.name == "Id"):
                raise SalesforceApiError(400, "INVALIDJOB", f"Field name not found or not an external ID : {external}")
        delimiter = DELIMITERS.get(str(body.get("columnDelimiter", "COMMA")))
        line_ending = LINE_ENDINGS.get(str(body.get("lineEnding", "LF")))
        if delimiter is None or line_ending is None:
            raise SalesforceApiError(400, "INVALIDJOB", "Invalid columnDelimiter or lineEnding")
        with self._lock:
            self._counter += 1
            job_id = id_for(JOB_PREFIX, INGEST_ID_BASE + self._counter)
        job = IngestJob(job_id, str(operation), obj, str(external) if external else None, from_epoch(self.clock()),
                        user_id, delimiter, line_ending, version, self.dir / f"{job_id}.upload")
        job.upload.write_bytes(b"")
        with self._lock:
            self._jobs[job_id] = job
        return job.info(detail=False)

    def upload(self, job_id: str, data: bytes) -> None:
        job = self._job(job_id)
        if job.state != "Open":
            raise SalesforceApiError(400, "INVALIDJOBSTATE", f"Job {job_id} is not Open; its state is {job.state}")
        with open(job.upload, "ab") as out:
            out.write(data)

    def set_state(self, job_id: str, state: str, user_id: str) -> dict[str, Any]:
        job = self._job(job_id)
        if state == "Aborted":
            if job.state in TERMINAL:
                raise SalesforceApiError(400, "INVALIDJOBSTATE", f"Job {job_id} is already {job.state}")
            job.state = "Aborted"
        elif state == "UploadComplete":
            if job.state != "Open":
                raise SalesforceApiError(400, "INVALIDJOBSTATE", f"Job {job_id} is not Open")
            job.state = "UploadComplete"
            info = job.info(detail=False)
            self._process(job, user_id)
            return info
        else:
            raise SalesforceApiError(400, "INVALIDJOBSTATE", f"Invalid state: {state}")
        return job.info(detail=False)

    def info(self, job_id: str) -> dict[str, Any]:
        return self._job(job_id).info(detail=True)

    def all_jobs(self) -> dict[str, Any]:
        with self._lock:
            jobs = list(self._jobs.values())
        return {"done": True, "records": [j.info(detail=False) for j in jobs], "nextRecordsUrl": None}

    def delete(self, job_id: str) -> None:
        job = self._job(job_id)
        if job.state not in TERMINAL:
            raise SalesforceApiError(400, "INVALIDJOBSTATE", f"Job {job_id} must be completed or aborted")
        with self._lock:
            self._jobs.pop(job_id, None)
        self._remove_files(job)

    def _remove_files(self, job: IngestJob) -> None:
        for path in (job.upload, job.path("success"), job.path("failed")):
            path.unlink(missing_ok=True)

    def results(self, job_id: str, kind: str) -> Iterator[bytes] | bytes:
        """A result file, streamed in chunks (result files can be as large as the upload)."""
        job = self._job(job_id)
        if kind == "unprocessedrecords":
            return _chunks(job.upload) if job.state == "Aborted" else self._header_only(job)
        if job.state not in ("JobComplete", "Failed"):
            raise SalesforceApiError(400, "INVALIDJOBSTATE", "Job is not complete")
        path = job.path("success" if kind == "successfulresults" else "failed")
        return _chunks(path) if path.exists() else b""

    def _header_only(self, job: IngestJob) -> bytes:
        with open(job.upload, "rb") as upload:
            first = upload.readline()
        return first.rstrip(b"\r\n") + job.line_ending.encode() if first else b""

    # ----------------------------------------------------------------------------- processing
    def _process(self, job: IngestJob, user_id: str) -> None:
        started = self.clock()
        with open(job.upload, newline="", encoding="utf-8-sig") as upload:
            reader = csv.reader(upload, delimiter=job.delimiter)
            header = next(reader, None)
            problem = self._check_header(job, header)
            if problem or header is None:
                job.state, job.error = "Failed", problem or "InvalidBatch : Empty CSV"
                return
            self._apply_rows(job, header, reader, user_id)
        job.processing_ms = int((self.clock() - started) * 1000)
        job.state = "JobComplete"

    def _apply_rows(self, job: IngestJob, header: list[str], reader: Iterator[list[str]], user_id: str) -> None:
        """Apply the rows in chunks of 200, writing each row's result as it goes (memory stays flat)."""
        with open(job.path("success"), "w", newline="", encoding="utf-8") as ok_file, \
                open(job.path("failed"), "w", newline="", encoding="utf-8") as bad_file:
            ok = csv.writer(ok_file, lineterminator=job.line_ending, quoting=csv.QUOTE_ALL)
            bad = csv.writer(bad_file, lineterminator=job.line_ending, quoting=csv.QUOTE_ALL)
            ok.writerow(["sf__Id", "sf__Created", *header])
            bad.writerow(["sf__Id", "sf__Error", *header])
            chunk: list[list[str]] = []
            for row in reader:
                if not row:  # a blank line, not a record
                    continue
                chunk.append(row)
                if len(chunk) == CHUNK:
                    self._apply_chunk(job, header, chunk, user_id, ok, bad)
                    chunk = []
            if chunk:
                self._apply_chunk(job, header, chunk, user_id, ok, bad)

    def _check_header(self, job: IngestJob, header: list[str] | None) -> str | None:
        if not header:
            return None
        for name in header:
            if job.object.field(name) is None and name.lower() != "id":
                return f"InvalidBatch : Field name not found : {name}"
        if job.operation in ("update", "delete", "hardDelete") and "id" not in {h.lower() for h in header}:
            return "InvalidBatch : Field name not found : Id"
        return None

    def _apply_chunk(self, job: IngestJob, header: list[str], rows: list[list[str]], user_id: str,
                     ok: Any, bad: Any) -> None:
        with self.db.write() as conn:
            for row in rows:
                job.processed += 1
                conn.execute("SAVEPOINT ingest_row")
                try:
                    sfid, created = self._apply_row(conn, job, header, row, user_id)
                except RecordErrors as exc:
                    conn.execute("ROLLBACK TO ingest_row")
                    job.failed += 1
                    bad.writerow(["", exc.errors[0].bulk_text(), *row])
                except MultipleMatches as exc:
                    conn.execute("ROLLBACK TO ingest_row")
                    job.failed += 1
                    bad.writerow(["", f"DUPLICATE_EXTERNAL_ID:{exc.field}: more than one record found for "
                                  f"external id field: {exc.ids}:{exc.field} --", *row])
                else:
                    ok.writerow([sfid, "true" if created else "false", *row])
                conn.execute("RELEASE ingest_row")

    def _apply_row(self, conn: Any, job: IngestJob, header: list[str], row: list[str],
                   user_id: str) -> tuple[str, bool]:
        values: dict[str, Any] = {}
        for name, cell in zip(header, row, strict=False):
            if cell == "":
                continue  # an empty cell leaves the field as it is
            values[name] = None if cell == "#N/A" else cell
        record_id = next((v for k, v in values.items() if k.lower() == "id"), None)
        body = {k: v for k, v in values.items() if k.lower() != "id"}
        obj, op = job.object, job.operation
        if op == "insert":
            return self.store.insert(conn, obj, body, user_id, "csv"), True
        if op == "upsert":
            assert job.external_id is not None
            ext = next((v for k, v in values.items() if k.lower() == job.external_id.lower()), None)
            return self.store.upsert(conn, obj, job.external_id, ext, body, user_id, "csv")
        if record_id is None:
            raise RecordErrors([_missing_id()])
        if op == "update":
            self.store.update(conn, obj, str(record_id), body, user_id, "csv")
            return str(record_id), False
        if op == "delete":
            return self.store.delete(conn, obj, str(record_id), user_id), False
        return self.store.hard_delete(conn, obj, str(record_id)), False

    def close(self) -> None:
        with self._lock:
            jobs, self._jobs = list(self._jobs.values()), {}
        for job in jobs:
            self._remove_files(job)


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as data:
        while chunk := data.read(1 << 20):
            yield chunk


def _missing_id() -> FieldError:
    return FieldError("MISSING_ARGUMENT", "Id not specified in an update call", ("Id",))
