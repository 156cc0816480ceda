"""Writes: upsert by external id (sObject collections, or Bulk 2.0 ingest for large batches) and deletes.

Every record gets a RecordResult in input order, with Salesforce's own statusCode and message as the
RecordError when it was refused: one bad record never fails its batch (``allOrNone=false``). Rows
that lost a row-lock race are sent again in a later call; a request-level 400 is bisected until the
record that causes it stands alone.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import structlog

from connectors.base import NativeRecord, RecordResult
from connectors.errors import ConfigurationError, RecordError, StreamError
from connectors.salesforce import query, soql
from connectors.salesforce.bulk import BulkIngest, IngestOutcome, csv_value, to_csv
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.errors import item_error_code
from connectors.salesforce.objects import is_valid_id

log = structlog.get_logger(__name__)

COLLECTION_SIZE = 200  # Salesforce's limit per sObject collections call
BULK_JOB_RECORDS = 100_000  # well under the 150 MB a Bulk 2.0 upload may hold
RETRY_ITEM_CODES = frozenset({"UNABLE_TO_LOCK_ROW"})  # per-record faults that clear by themselves
ITEM_PASSES = 3
ALREADY_DELETED = frozenset({"ENTITY_IS_DELETED"})  # deleting twice is the same outcome: success


class Writer:
    """Upserts and deletes for one connector; stateless between calls."""

    def __init__(self, client: SalesforceClient, ingest: BulkIngest, bulk_threshold: int) -> None:
        self.client = client
        self.ingest = ingest
        self.bulk_threshold = bulk_threshold

    def upsert(self, obj: str, key: str, records: Sequence[NativeRecord]) -> list[RecordResult]:
        if len(records) >= self.bulk_threshold:
            return self._bulk_upsert(obj, key, records)
        results: list[RecordResult | None] = [None] * len(records)
        todo = list(range(len(records)))
        for attempt in range(ITEM_PASSES):
            todo = self._collections_pass(obj, key, records, todo, results, last=attempt == ITEM_PASSES - 1)
            if not todo:
                break
        return [r if r is not None else _missing(i, records[i], key) for i, r in enumerate(results)]

    # -- sObject collections ---------------------------------------------------------------------

    def _collections_pass(self, obj: str, key: str, records: Sequence[NativeRecord], todo: list[int],
                          results: list[RecordResult | None], *, last: bool) -> list[int]:
        """Send ``todo`` in chunks of 200; return the indices to send again (row-lock losers)."""
        again: list[int] = []
        for start in range(0, len(todo), COLLECTION_SIZE):
            for index, item in self._send(obj, key, records, todo[start:start + COLLECTION_SIZE]):
                result = _item_result(index, records[index], key, item)
                if result.error is not None and result.error.code in RETRY_ITEM_CODES and not last:
                    again.append(index)
                else:
                    results[index] = result
        return again

    def _send(self, obj: str, key: str, records: Sequence[NativeRecord],
              indices: list[int]) -> Iterator[tuple[int, dict[str, Any]]]:
        """(index, SaveResult) per record; a request-level 400 is split until it names one record."""
        body = {"allOrNone": False,
                "records": [{**records[i], "attributes": {"type": obj}} for i in indices]}
        try:
            items = self.client.json("PATCH", self.client.url(f"composite/sobjects/{obj}/{key}"), json=body)
        except ConfigurationError:
            raise
        except StreamError as exc:
            if len(indices) == 1:
                yield indices[0], {"success": False, "errors": [{"statusCode": exc.code, "message": str(exc)}]}
                return
            middle = len(indices) // 2
            yield from self._send(obj, key, records, indices[:middle])
            yield from self._send(obj, key, records, indices[middle:])
            return
        if not isinstance(items, list) or len(items) != len(indices):
            raise StreamError(f"composite upsert answered {len(items) if isinstance(items, list) else 0} results "
                              f"for {len(indices)} records", code="bad_response")
        yield from zip(indices, items, strict=True)

    # -- Bulk 2.0 ingest -------------------------------------------------------------------------

    def _bulk_upsert(self, obj: str, key: str, records: Sequence[NativeRecord]) -> list[RecordResult]:
        """Ingest jobs of at most BULK_JOB_RECORDS rows; result rows matched back to the rows sent."""
        results: list[RecordResult] = []
        for start in range(0, len(records), BULK_JOB_RECORDS):
            chunk = records[start:start + BULK_JOB_RECORDS]
            results.extend(replace(r, index=r.index + start) for r in self._bulk_job(obj, key, chunk))
        return results

    def _bulk_job(self, obj: str, key: str, records: Sequence[NativeRecord]) -> list[RecordResult]:
        columns = list(dict.fromkeys(f for r in records for f in r if f != "attributes"))
        if key not in columns:
            columns.insert(0, key)
        rows = RowMatcher(records, columns, key)
        results: list[RecordResult | None] = [None] * len(records)
        for outcome in self.ingest.upsert(obj, key, to_csv(records, columns)):
            index = rows.take(outcome.cells)
            if index is None:
                log.warning("salesforce.bulk.ingest.unmatched_result", stream=obj)
                continue
            results[index] = _outcome_result(index, records[index], key, outcome)
        log.info("salesforce.write.bulk", stream=obj, records=len(records),
                 failed=sum(1 for r in results if r is None or r.error))
        return [r if r is not None else _missing(i, records[i], key) for i, r in enumerate(results)]

    # -- deletes ---------------------------------------------------------------------------------

    def delete(self, obj: str, keys: Sequence[str], key_field: str, prefix: str | None) -> list[RecordResult]:
        """Delete by Salesforce Id, or by ``key_field`` value (looked up first) for keys that are not Ids.

        A key that no longer matches anything, like an Id already deleted, is a success: deletes replay.
        """
        ids = self._resolve(obj, keys, key_field, prefix)
        results: list[RecordResult] = []
        for start in range(0, len(keys), COLLECTION_SIZE):
            chunk = list(range(start, min(start + COLLECTION_SIZE, len(keys))))
            sent = [i for i in chunk if ids[i] is not None]
            items = self.client.json("DELETE", self.client.url("composite/sobjects"), params={
                "ids": ",".join(str(ids[i]) for i in sent), "allOrNone": "false"}) if sent else []
            outcome = dict(zip(sent, items or [], strict=False))
            for index in chunk:
                results.append(_delete_result(index, keys[index], ids[index], outcome.get(index)))
        return results

    def _resolve(self, obj: str, keys: Sequence[str], key_field: str, prefix: str | None) -> list[str | None]:
        """The record Id of each key: Ids as they are, other keys through ``key_field IN (...)`` queries."""
        ids: list[str | None] = [k if _is_id(k, prefix) else None for k in keys]
        lookup = sorted({k for k, i in zip(keys, ids, strict=True) if i is None})
        if not lookup:
            return ids
        if key_field == "Id":
            raise ConfigurationError(f"{obj}: delete keys that are not Salesforce Ids need an upsert key "
                                     "(upsert_keys) to look them up")
        found: dict[str, str] = {}
        for start in range(0, len(lookup), COLLECTION_SIZE):
            statement = soql.select(obj, ["Id", key_field], None, ordered=False,
                                    conditions=[soql.format_soql("{:literal} IN {}", soql.ident(key_field),
                                                                 lookup[start:start + COLLECTION_SIZE])])
            for records in query.pages(self.client, statement, include_deleted=False, page_size=2000):
                found.update((str(r[key_field]), str(r["Id"])) for r in records)
        return [i if i is not None else found.get(k) for k, i in zip(keys, ids, strict=True)]


class RowMatcher:
    """Finds the input row of a Bulk result row: Salesforce returns each row's cells as sent, in no set order.

    Rows are matched on all their cells; where the org returned a cell changed, on the external id.
    Identical rows are taken in input order, so each result maps to exactly one row.
    """

    def __init__(self, records: Sequence[NativeRecord], columns: Sequence[str], key: str) -> None:
        self.columns, self.key = list(columns), key
        self.by_row: dict[tuple[str, ...], deque[int]] = defaultdict(deque)
        self.by_key: dict[str, deque[int]] = defaultdict(deque)
        for index, record in enumerate(records):
            cells = tuple(csv_value(record[c]) if c in record else "" for c in columns)
            self.by_row[cells].append(index)
            self.by_key[cells[self.columns.index(key)]].append(index)
        self.taken: set[int] = set()

    def take(self, cells: dict[str, str]) -> int | None:
        for queue in (self.by_row.get(tuple(cells.get(c, "") for c in self.columns)),
                      self.by_key.get(cells.get(self.key, ""))):
            while queue:
                index = queue.popleft()
                if index not in self.taken:
                    self.taken.add(index)
                    return index
        return None


def _is_id(key: str, prefix: str | None) -> bool:
    return is_valid_id(key) and (prefix is None or key.startswith(prefix))


def _delete_result(index: int, key: str, record_id: str | None, item: dict[str, Any] | None) -> RecordResult:
    if record_id is None:  # nothing carries this key any more: already deleted
        return RecordResult(index, key)
    if item is None:
        return RecordResult(index, record_id, error=RecordError("missing_result", "no result for the delete",
                                                                key=key))
    code, message, fields = item_error_code(item.get("errors") or [])
    ok = item.get("success") or code in ALREADY_DELETED
    return RecordResult(index, record_id, error=None if ok else RecordError(code, message, fields, key=key))


def _item_result(index: int, record: NativeRecord, key: str, item: dict[str, Any]) -> RecordResult:
    if item.get("success"):
        return RecordResult(index, item.get("id"), created=item.get("created"))
    code, message, fields = item_error_code(item.get("errors") or [])
    return RecordResult(index, item.get("id"), error=RecordError(code, message, fields, key=_key(record, key),
                                                                payload=record))


def _outcome_result(index: int, record: NativeRecord, key: str, outcome: IngestOutcome) -> RecordResult:
    if outcome.error is None:
        return RecordResult(index, outcome.sf_id, created=outcome.created)
    code, message, fields = bulk_error(outcome.error)
    return RecordResult(index, outcome.sf_id, error=RecordError(code, message, fields, key=_key(record, key),
                                                               payload=record))


def bulk_error(text: str) -> tuple[str, str, tuple[str, ...]]:
    """``CODE:message[:Field1, Field2 --]`` as sf__Error writes it, split into its parts."""
    code, _, rest = text.partition(":")
    message, fields = rest, tuple[str, ...]()
    head, sep, tail = rest.rpartition(":")
    if sep and tail.rstrip().endswith("--"):
        message = head
        fields = tuple(f.strip() for f in tail.rstrip()[:-2].split(",") if f.strip())
    return code.strip() or "UNKNOWN_ERROR", message.strip(), fields


def _key(record: NativeRecord, key: str) -> str | None:
    value = record.get(key)
    return None if value is None else str(value)


def _missing(index: int, record: NativeRecord, key: str) -> RecordResult:
    return RecordResult(index, error=RecordError("missing_result", "Salesforce returned no result for the record",
                                                 key=_key(record, key), payload=record))
