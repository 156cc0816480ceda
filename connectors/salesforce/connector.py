"""The Salesforce connector: discover from describe, incremental reads, upserts and deletes.

Built on simple-salesforce (session, URLs, describe, SOQL quoting) with the hot paths (query pages,
Bulk CSV, collections) sent through the same requests session and parsed with orjson. The clock is
injectable so tests and cassettes can pin the run's start; sleeping (Bulk polls) uses the retry
policy's sleep, so a test that injects one sleep controls both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import requests
import structlog
from pydantic import BaseModel

from connectors.base import (
    Batch,
    Capabilities,
    CheckItem,
    CheckReport,
    Cursor,
    NativeRecord,
    ReadRange,
    StreamSpec,
    WriteResult,
)
from connectors.errors import AuthenticationError, ConfigurationError, ConnectorError
from connectors.retry import RetryPolicy
from connectors.salesforce import quirks, soql
from connectors.salesforce.bulk import BulkIngest, BulkQuery
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.reader import Reader
from connectors.salesforce.schema import ObjectShape, narrow, shape
from connectors.salesforce.writer import Writer

log = structlog.get_logger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class SalesforceConnector:
    """One Salesforce org. Streams are sObjects by API name (Account, Contact, Custom__c)."""

    type_name: ClassVar[str] = "salesforce"
    config_model: ClassVar[type[BaseModel]] = SalesforceConfig

    def __init__(self, config: SalesforceConfig, retry: RetryPolicy, *, now: Callable[[], datetime] = utc_now,
                 session: requests.Session | None = None) -> None:
        self.config = config
        self.retry = retry
        self.now = now
        self.client = SalesforceClient(config, retry, now, session)
        self.bulk = BulkQuery(self.client, max_records=config.bulk_max_records,
                              poll_interval=config.bulk_poll_interval, poll_timeout=config.bulk_poll_timeout,
                              sleep=retry.sleep, clock=retry.clock)
        self.writer = Writer(self.client, BulkIngest(self.bulk), config.bulk_write_threshold)
        self.capabilities = Capabilities(incremental=True, upsert=True, deletes=True, bulk=True, ranges=True,
                                         max_batch=config.batch_size)
        self._shapes: dict[str, ObjectShape] = {}

    # -- metadata --------------------------------------------------------------------------------

    def object_names(self) -> list[str]:
        """Objects offered as streams: the configured list, or every queryable object describe lists."""
        if self.config.objects is not None:
            return list(self.config.objects)
        timeout = self.config.timeout
        listing = self.client.call_sf(lambda sf: sf.describe(timeout=timeout)) or {}
        return [str(o["name"]) for o in listing.get("sobjects", ())
                if quirks.offered(str(o["name"]), bool(o.get("queryable")))]

    def shape(self, name: str) -> ObjectShape:
        """The object's describe-derived shape (cached for the connector's life)."""
        if name not in self._shapes:
            try:
                path = f"sobjects/{soql.ident(name)}/describe"
            except ValueError as exc:
                raise ConfigurationError(f"not a Salesforce object name: {name!r}") from exc
            timeout = self.config.timeout
            describe = self.client.call_sf(lambda sf: sf.restful(path, timeout=timeout))
            if not isinstance(describe, dict):
                raise ConfigurationError(f"describe of {name} returned nothing")
            shaped = shape(describe)
            if name in self.config.fields:
                try:
                    shaped = narrow(shaped, self.config.fields[name])
                except ValueError as exc:
                    raise ConfigurationError(f"fields: {exc}") from exc
            self._shapes[name] = shaped
        return self._shapes[name]

    def check(self) -> CheckReport:
        report = CheckReport()
        try:
            self.client.sf  # noqa: B018 - the login itself
            report.items.append(CheckItem("login", True))
        except ConnectorError as exc:
            report.items.append(CheckItem("login", False, str(exc)))
            return report
        if self.config.objects is None:
            try:
                report.items.append(CheckItem("objects", True, f"{len(self.object_names())} queryable objects"))
            except (ConfigurationError, AuthenticationError) as exc:
                report.items.append(CheckItem("objects", False, str(exc)))
        for name in self.config.objects or ():
            try:
                fields = len(self.shape(name).select)
                report.items.append(CheckItem(f"object {name}", True, f"{fields} readable fields"))
            except (ConfigurationError, AuthenticationError) as exc:
                report.items.append(CheckItem(f"object {name}", False, str(exc)))
        self._check_budget(report)
        return report

    def _check_budget(self, report: CheckReport) -> None:
        timeout = self.config.timeout
        limits = self.client.call_sf(lambda sf: sf.limits(timeout=timeout)) or {}
        daily = limits.get("DailyApiRequests") or {}
        total, remaining = daily.get("Max"), daily.get("Remaining")
        if total and remaining is not None:
            used = int(total) - int(remaining)
            ok = used <= self.config.budget_share * int(total)
            report.items.append(CheckItem("api budget", ok, f"{used}/{total} daily requests used"))

    def discover(self) -> list[StreamSpec]:
        return [self.shape(name).spec for name in self.object_names()]

    # -- data ------------------------------------------------------------------------------------

    def read(self, stream: str, cursor: Cursor | None = None, range: ReadRange | None = None) -> Iterator[Batch]:
        reader = Reader(self.client, self.config, self.shape(stream), self.now, self.bulk)
        return reader.read(cursor, range)

    def write(self, stream: str, records: Sequence[NativeRecord], deletes: Sequence[str] = (),
              upsert_key: str | None = None) -> WriteResult:
        result = WriteResult()
        key = self.upsert_key(stream, upsert_key) if records or deletes else "Id"
        if records:
            result.results = self.writer.upsert(stream, key, records)
        if deletes:
            result.deleted = self.writer.delete(stream, deletes, key, self.shape(stream).key_prefix)
        log.info("salesforce.write.done", stream=stream, records=len(records), deletes=len(deletes),
                 failed=len(result.failed))
        return result

    def upsert_key(self, stream: str, explicit: str | None) -> str:
        """The external id to upsert on: given, configured, the object's only external id, else Id."""
        if explicit or stream in self.config.upsert_keys:
            return soql.ident(explicit or self.config.upsert_keys[stream])
        external = self.shape(stream).spec.external_id_fields
        return external[0] if len(external) == 1 else "Id"

    def close(self) -> None:
        self.client.close()

    def api_usage(self) -> dict[str, Any]:
        """Daily API usage as last reported by Sforce-Limit-Info."""
        return {"used": self.client.budget.used, "total": self.client.budget.total}
