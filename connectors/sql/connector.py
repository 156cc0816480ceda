"""The SQL connector: tables of PostgreSQL, MySQL/MariaDB or SQLite as streams (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import ClassVar

import structlog
from pydantic import BaseModel
from sqlalchemy import select, text

from connectors.base import (
    Batch,
    Capabilities,
    CheckItem,
    CheckReport,
    Cursor,
    KeyRange,
    NativeRecord,
    RangeChecksum,
    ReadRange,
    StreamSpec,
    WriteResult,
)
from connectors.errors import ConfigurationError, ConnectorError
from connectors.retry import RetryPolicy
from connectors.sql.checksums import range_checksums
from connectors.sql.client import SqlClient
from connectors.sql.config import SqlConfig
from connectors.sql.errors import translate
from connectors.sql.reader import read_batches
from connectors.sql.streams import TableStream, resolve
from connectors.sql.sweep import sweep_deletes
from connectors.sql.writer import Writer

log = structlog.get_logger(__name__)


class SqlConnector:
    """Reads by keyset on (updated_at, key), upserts per dialect, checksums key ranges in place."""

    type_name: ClassVar[str] = "sql"
    config_model: ClassVar[type[BaseModel]] = SqlConfig

    def __init__(self, config: SqlConfig, retry: RetryPolicy) -> None:
        self.config, self.retry = config, retry
        self.client = SqlClient(config)
        self.capabilities = Capabilities(
            incremental=True, upsert=True, deletes=True, bulk=self.client.family == "postgresql",
            checksums=True, ranges=True, max_batch=config.batch_size,
        )
        self._streams: dict[str, TableStream] = {}

    # -- streams ---------------------------------------------------------------------------------

    def stream(self, name: str) -> TableStream:
        """The stream ``name`` resolved against its reflected table (cached)."""
        if name not in self._streams:
            if self.config.streams and name not in self.config.streams:
                raise ConfigurationError(f"sql: no stream {name!r} configured (have {sorted(self.config.streams)})")
            settings = self.config.stream(name)
            table = self.retry.call(self.client.table, settings.table or name)
            self._streams[name] = resolve(name, settings, table)
        return self._streams[name]

    def _stream_names(self) -> list[str]:
        return list(self.config.streams) or self.retry.call(self.client.table_names)

    # -- contract --------------------------------------------------------------------------------

    def check(self) -> CheckReport:
        try:
            with self.client.connect() as conn:
                conn.execute(select(text("1")))
        except Exception as exc:
            reason = str(translate(exc, "connect"))
            return CheckReport([CheckItem(f"connect {self.client.display_url}", False, reason)])
        items = [CheckItem(f"connect {self.client.display_url}", True)]
        for name in self.config.streams:
            items.extend(self._check_stream(name))
        return CheckReport(items)

    def _check_stream(self, name: str) -> list[CheckItem]:
        try:
            stream = self.stream(name)
            with self.client.connect() as conn:
                conn.execute(select(*stream.key).select_from(stream.table).limit(1)).all()
        except ConnectorError as exc:
            return [CheckItem(f"stream {name}", False, str(exc))]
        except Exception as exc:
            return [CheckItem(f"stream {name}", False, str(translate(exc, f"read {name!r}")))]
        items = [CheckItem(f"stream {name}", True)]
        if stream.updated_at is not None:
            nullable = bool(stream.updated_at.nullable)
            items.append(CheckItem(f"stream {name} cursor column {stream.updated_at.name} is NOT NULL", not nullable,
                                   "rows whose cursor column is NULL are never read" if nullable else ""))
        return items

    def discover(self) -> list[StreamSpec]:
        specs = []
        for name in self._stream_names():
            try:
                specs.append(self.stream(name).spec())
            except ConfigurationError:
                if self.config.streams:
                    raise
                log.info("sql.discover.table_skipped", table=name, reason="no primary key")
        return specs

    def read(self, stream: str, cursor: Cursor | None = None, range: ReadRange | None = None) -> Iterator[Batch]:
        return read_batches(self.client, self.stream(stream), self.retry, cursor, range,
                            self.config.batch_size, self.config.rows_per_query)

    def write(self, stream: str, records: Sequence[NativeRecord], deletes: Sequence[str] = (),
              upsert_key: str | None = None) -> WriteResult:
        writer = Writer(self.client, self.stream(stream), self.retry, self.config.batch_size,
                        self.config.copy_threshold)
        result = WriteResult(results=writer.upsert(records, upsert_key) if records else [])
        if deletes:
            result.deleted = writer.delete(deletes)
        log.info("sql.write.done", stream=stream, records=len(records), deletes=len(deletes),
                 failed=len(result.failed))
        return result

    def range_checksums(self, stream: str, columns: Sequence[str], ranges: Sequence[KeyRange]) -> list[RangeChecksum]:
        """Count and order-independent hash of ``columns`` per key range, computed in the database."""
        table_stream = self.stream(stream)
        return self.retry.call(self._checksums, table_stream, columns, ranges)

    def _checksums(self, stream: TableStream, columns: Sequence[str], ranges: Sequence[KeyRange]
                   ) -> list[RangeChecksum]:
        try:
            return range_checksums(self.client, stream, columns, ranges)
        except ConnectorError:
            raise
        except Exception as exc:
            raise translate(exc, f"sql: checksum {stream.name!r}") from exc

    def sweep_deletes(self, stream: str, known_keys: Iterable[str]) -> Iterator[Batch]:
        """Tombstones for ``known_keys`` (keys the caller saw before) that are no longer in the table.

        For tables that hard-delete: the caller streams the keys it holds (the orchestrator's ID
        cross-reference), the database answers which still exist, in chunks, so memory stays flat.
        """
        return sweep_deletes(self.client, self.stream(stream), self.retry, known_keys, self.config.batch_size)

    def close(self) -> None:
        self.client.dispose()


