"""Key sweep: find rows that were hard-deleted, for tables without a soft-delete column.

The caller streams the keys it saw before (the orchestrator's ID cross-reference holds them), and
the database answers, one ``IN (...)`` chunk at a time, which still exist; the rest come back as
tombstones. Memory stays flat however large the table, and no key ordering has to agree between
Python and the database's collation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import and_, literal, select, true

from connectors.base import Batch
from connectors.errors import ConnectorError, RecordError
from connectors.retry import RetryPolicy
from connectors.sql.client import SqlClient
from connectors.sql.errors import translate
from connectors.sql.streams import TableStream
from connectors.sql.writer import IN_CHUNK, key_in


def sweep_deletes(client: SqlClient, stream: TableStream, retry: RetryPolicy, known_keys: Iterable[str],
                  batch_size: int) -> Iterator[Batch]:
    """Batches of tombstones for the keys in ``known_keys`` that are gone (or soft-deleted)."""
    chunk: list[str] = []
    for key in known_keys:
        chunk.append(key)
        if len(chunk) >= batch_size:
            yield retry.call(_gone, client, stream, chunk)
            chunk = []
    if chunk:
        yield retry.call(_gone, client, stream, chunk)


def _normal(values: Iterable[Any]) -> tuple[Any, ...]:
    """Compare keys as the database holds them (CHAR(n) comes back blank-padded)."""
    return tuple(v.rstrip() if isinstance(v, str) else v for v in values)


def _gone(client: SqlClient, stream: TableStream, keys: list[str]) -> Batch:
    parsed: dict[str, tuple[Any, ...]] = {}
    errors = []
    for key in keys:
        try:
            parsed[key] = stream.parse_key(key)
        except ValueError:
            errors.append(RecordError("invalid_key", "key does not fit the primary key", key=key, payload=key))
    live = [] if stream.soft_delete is None else [
        (stream.soft_delete.is_(None)) | (stream.soft_delete != literal(stream.deleted_value, stream.soft_delete.type))]
    present: set[tuple[Any, ...]] = set()
    values = list(parsed.values())
    try:
        with client.connect() as conn:
            for start in range(0, len(values), IN_CHUNK):
                where = and_(true(), key_in(stream.key, values[start:start + IN_CHUNK]), *live)
                present.update(_normal(row) for row in conn.execute(select(*stream.key).where(where)))
    except ConnectorError:
        raise
    except Exception as exc:
        raise translate(exc, f"sql: key sweep {stream.name!r}") from exc
    gone = [key for key, value in parsed.items() if _normal(value) not in present]
    return Batch(records=[], tombstones=gone, errors=errors)
