"""The runner end to end in-process: memory connectors, a small dict mapper, a SQLite state store."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import structlog
from pydantic import ValidationError

from connectors.base import Batch, Connector, Cursor, ReadRange
from connectors.errors import AuthenticationError, RetryableError
from connectors.memory import MemoryConnector, reset_store
from connectors.retry import NO_RETRY, RetryPolicy
from mappings.canonical import CanonicalModel, CanonicalRegistry
from mappings.errors import Reason, RecordRejection
from orchestrator import logging as crmlog
from orchestrator.config.models import ProjectConfig
from orchestrator.runner import run_sync
from orchestrator.runner.conflicts import ConflictRules, Side, resolve
from orchestrator.runner.observe import NullObserver
from orchestrator.runner.order import stream_order
from orchestrator.runner.services import Services
from orchestrator.state import StateStore

_STORES = itertools.count()


class DictMapper:
    """native field -> canonical field, plus references looked up through the context."""

    def __init__(self, registry: CanonicalRegistry, obj: str, entity: str, key: str, fields: Mapping[str, str],
                 refs: Mapping[str, tuple[str, str]] | None = None) -> None:
        self.model = registry.get(entity)
        self.spec = SimpleNamespace(object=obj, entity=entity, key=key, upsert_key=None)
        self.fields, self.refs = dict(fields), dict(refs or {})
        self.references = {canon: entity for canon, entity in self.refs.values()}
        self.native_references = {native: entity for native, (_, entity) in self.refs.items()}

    def native_key(self, record: Mapping[str, Any]) -> str:
        return str(record[self.spec.key])

    def map_batch(self, records: Sequence[Mapping[str, Any]], ctx: Any
                  ) -> tuple[list[tuple[int, CanonicalModel]], list[tuple[int, RecordRejection]]]:
        good, bad = [], []
        for i, record in enumerate(records):
            values = {canon: record.get(native) for native, canon in self.fields.items()}
            for native, (canon, entity) in self.refs.items():
                values[canon] = ctx.lookup(entity, record[native]) if record.get(native) else None
            try:
                good.append((i, self.model.model_validate(values)))
            except ValidationError as exc:
                bad.append((i, RecordRejection([Reason("invalid_value", ".".join(map(str, e["loc"])))
                                                for e in exc.errors()])))
        return good, bad

    def to_native(self, canonical: CanonicalModel, ctx: Any) -> dict[str, Any]:
        out = {native: getattr(canonical, canon) for native, canon in self.fields.items()}
        for native, (canon, entity) in self.refs.items():
            value = getattr(canonical, canon)
            out[native] = ctx.reverse_lookup(entity, value) if value else None
        return {k: (str(v) if v is not None and not isinstance(v, bool | int) else v) for k, v in out.items()}


class MapperSet:
    def __init__(self, mappers: Sequence[DictMapper]) -> None:
        self.by_entity = {m.spec.entity: m for m in mappers}

    def for_entity(self, entity: str) -> DictMapper:
        return self.by_entity[entity]


def erp_mappers(registry: CanonicalRegistry) -> MapperSet:
    return MapperSet([
        DictMapper(registry, "customers", "Account", "cust_no", {"cust_no": "account_number", "name": "name",
                                                                  "mail": "email"}),
        DictMapper(registry, "people", "Contact", "no", {"no": "external_ref", "last": "last_name", "mail": "email"},
                   {"cust_no": ("account_id", "Account")}),
    ])


def crm_mappers(registry: CanonicalRegistry) -> MapperSet:
    return MapperSet([
        DictMapper(registry, "Account", "Account", "AccountNumber", {"AccountNumber": "account_number",
                                                                     "Name": "name", "Email": "email"}),
        DictMapper(registry, "Contact", "Contact", "Ref", {"Ref": "external_ref", "LastName": "last_name",
                                                         "Email": "email"}, {"AccountId": ("account_id", "Account")}),
    ])


@pytest.fixture
def project(tmp_path: Path) -> Any:
    n = next(_STORES)
    erp, crm = f"erp{n}", f"crm{n}"
    config = ProjectConfig.model_validate({
        "version": 1,
        "systems": {
            "erp": {"connector": "memory", "mappings": str(tmp_path), "settings": {"store": erp, "batch_size": 3,
                    "streams": {"customers": {"primary_key": "cust_no"}, "people": {"primary_key": "no"}}}},
            "crm": {"connector": "memory", "mappings": str(tmp_path), "settings": {"store": crm, "streams": {
                "Account": {"primary_key": "AccountNumber"}, "Contact": {"primary_key": "Ref"}}}},
        },
        "syncs": {"erp-to-crm": {"from": "erp", "to": "crm", "objects": ["Contact", "Account"], "batch_size": 2,
                                 "delete_policy": "hard"}},
    })
    registry = config.registry()
    services = Services(config, context_factory=SimpleNamespace,
                        load_mappings=lambda directory, reg: pytest.fail("mapping sets are given"))
    services._mappings = {"erp": erp_mappers(registry), "crm": crm_mappers(registry)}
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    erp_conn = MemoryConnector(MemoryConnector.config_model.model_validate(config.system("erp").settings), NO_RETRY)
    crm_conn = MemoryConnector(MemoryConnector.config_model.model_validate(config.system("crm").settings), NO_RETRY)
    yield SimpleNamespace(config=config, services=services, store=store, erp=erp_conn, crm=crm_conn)
    store.close()
    reset_store(erp)
    reset_store(crm)


def rows(connector: MemoryConnector, stream: str) -> dict[str, dict[str, Any]]:
    return {str(r[next(iter(connector.config.streams[stream].primary_key.split()))]): r
            for b in connector.read(stream) for r in b.records}


class Order(NullObserver):
    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []

    def stream_started(self, sync: str, stream: str) -> None:
        self.started.append(stream)

    def stream_finished(self, report: Any) -> None:
        self.finished.append(report.stream)


def seed(p: Any) -> None:
    p.erp.write("customers", [{"cust_no": f"C{i}", "name": f"Firm {i}", "mail": f"a{i}@example.com"}
                              for i in range(5)])
    p.erp.write("people", [{"no": "P1", "last": "Diaz", "mail": "d@example.com", "cust_no": "C1"},
                           {"no": "P2", "last": "Ng", "mail": "not-an-email", "cust_no": "C2"},
                           {"no": "P3", "last": "Roe", "mail": None, "cust_no": "C3"}])


def test_sync_writes_parents_first_resolves_references_and_quarantines(project: Any) -> None:
    seed(project)
    order = Order()
    summary = run_sync(project.config, project.store, "erp-to-crm", services=project.services, observer=order)
    assert summary.status == "succeeded", summary.reason
    assert order.finished.index("Account") < order.started.index("Contact")
    accounts, contacts = rows(project.crm, "Account"), rows(project.crm, "Contact")
    assert sorted(accounts) == [f"C{i}" for i in range(5)]
    assert sorted(contacts) == ["P1", "P3"]
    assert contacts["P1"]["AccountId"] == "C1"  # the canonical id went back to the CRM's own key
    bad = project.store.list_quarantine("erp-to-crm")
    assert [(q.native_key, q.stage, q.reasons[0].field) for q in bad] == [("P2", "map", "email")]
    totals = summary.totals()
    assert (totals["read"], totals["written"], totals["quarantined"]) == (8, 7, 1)
    again = run_sync(project.config, project.store, "erp-to-crm", services=project.services)
    assert again.totals().get("read", 0) == 0  # cursors stored: nothing new to read


def test_tombstones_follow_the_delete_policy_and_dry_run_changes_nothing(project: Any) -> None:
    seed(project)
    run_sync(project.config, project.store, "erp-to-crm", services=project.services)
    project.erp.write("customers", [], deletes=["C4"])
    project.erp.write("customers", [{"cust_no": "C9", "name": "New", "mail": None}])
    dry = run_sync(project.config, project.store, "erp-to-crm", services=project.services, dry_run=True)
    assert dry.totals()["would_create"] == 1 and dry.totals()["would_delete"] == 1
    assert "C9" not in rows(project.crm, "Account") and "C4" in rows(project.crm, "Account")
    real = run_sync(project.config, project.store, "erp-to-crm", services=project.services)
    assert real.totals()["deleted"] == 1
    assert sorted(rows(project.crm, "Account")) == ["C0", "C1", "C2", "C3", "C9"]


def test_a_failing_stream_makes_the_run_partial_and_others_go_on(project: Any) -> None:
    seed(project)
    project.services._mappings["crm"].by_entity.pop("Contact")
    summary = run_sync(project.config, project.store, "erp-to-crm", services=project.services)
    assert summary.status == "partial" and int(summary.exit_code) == 3
    by = {s.stream: s for s in summary.streams}
    assert by["Account"].status == "succeeded" and by["Contact"].status == "failed"
    assert "no mapping for entity Contact" in by["Contact"].reason
    run = project.store.get_run(summary.run_id)
    assert run is not None and run.status == "partial"


def test_stream_order_waves() -> None:
    assert stream_order(["Contact", "Account", "Opportunity"], {
        "Contact": {"Account"}, "Opportunity": {"Account", "Contact"}, "Account": {"Account"}}) == [
        ["Account"], ["Contact"], ["Opportunity"]]


def test_conflict_rules_merge_one_sided_changes_and_settle_collisions() -> None:
    base = {"name": "A", "phone": "1", "email": "x@e.com"}
    crm = Side("crm", {"name": "A2", "phone": "1", "email": "y@e.com"})
    erp = Side("erp", {"name": "A", "phone": "2", "email": "z@e.com"})
    merged = resolve(base, crm, erp, ConflictRules("erp", {"email": "crm"}))
    assert merged.merged == {"name": "A2", "phone": "2", "email": "y@e.com"}
    assert [(c.field, c.winner) for c in merged.collisions] == [("email", "crm")]
    held = resolve(base, crm, erp, ConflictRules("manual"))
    assert held.held and [c.field for c in held.collisions] == ["email"]


def test_two_way_edits_flow_both_ways_and_conflicts_follow_the_policy(project: Any) -> None:
    sync = project.config.syncs["erp-to-crm"]
    project.config.syncs["both"] = sync.model_copy(update={
        "direction": "two_way", "conflict": type(sync.resolution())(default="erp", fields={"email": "manual"})})
    seed(project)
    first = run_sync(project.config, project.store, "both", services=project.services)
    assert first.status == "succeeded", first.reason
    project.crm.write("Account", [{"AccountNumber": "C0", "Name": "Crm Zero"},  # crm only: flows to erp
                                  {"AccountNumber": "C1", "Name": "Crm One"},  # both: erp wins by default
                                  {"AccountNumber": "C2", "Email": "crm2@example.com"}])  # both on email: held
    project.erp.write("customers", [{"cust_no": "C1", "name": "Erp One"}, {"cust_no": "C2", "mail": "erp2@example.com"},
                                    {"cust_no": "C3", "name": "Erp Three"}])  # erp only: flows to crm
    second = run_sync(project.config, project.store, "both", services=project.services)
    assert second.status == "succeeded", second.reason
    erp, crm = rows(project.erp, "customers"), rows(project.crm, "Account")
    assert erp["C0"]["name"] == "Crm Zero" and crm["C3"]["Name"] == "Erp Three"
    assert erp["C1"]["name"] == crm["C1"]["Name"] == "Erp One"
    assert (erp["C2"]["mail"], crm["C2"]["Email"]) == ("erp2@example.com", "crm2@example.com")  # held, untouched
    conflicts = {(c["canonical_id"], c["outcome"], tuple(c["fields"])) for c in second.conflicts}
    assert {(o, f) for _, o, f in conflicts} == {("resolved", ("name",)), ("held", ("email",))}
    findings = project.store.list_findings("sync:both", code="conflict")
    assert len(findings) == 2
    assert len(rows(project.erp, "customers")) == len(rows(project.crm, "Account")) == 5  # nothing duplicated
    third = run_sync(project.config, project.store, "both", services=project.services)
    assert third.totals().get("written", 0) == 0  # echoes of our own writes are recognised and skipped


def test_quarantine_retry_lands_records_after_the_mapping_is_fixed(project: Any) -> None:
    from orchestrator.runner.quarantine_retry import retry_quarantine

    seed(project)
    run_sync(project.config, project.store, "erp-to-crm", services=project.services)
    [bad] = project.store.list_quarantine("erp-to-crm")
    still = retry_quarantine(project.config, project.store, sync="erp-to-crm", services=project.services)
    assert (still.resolved, still.failed) == ([], [bad.id])
    assert project.store.get_quarantine(bad.id).attempts == 1  # type: ignore[union-attr]
    fixed = project.services._mappings["erp"].by_entity["Contact"]
    fixed.fields.pop("mail")  # the "fix": this ERP's mail column is not trusted for contacts
    report = retry_quarantine(project.config, project.store, reason="invalid_value", services=project.services)
    assert report.resolved == [bad.id]
    assert project.store.get_quarantine(bad.id).status == "resolved"  # type: ignore[union-attr]
    assert rows(project.crm, "Contact")["P2"]["AccountId"] == "C2"


SECRET = "s3cr3t-token-value-XYZ"


class Flaky:
    """A memory connector whose reads fail once (retried through the policy), or whose login is refused."""

    def __init__(self, inner: MemoryConnector, retry: RetryPolicy, refuse_login: bool) -> None:
        self.inner, self.retry, self.refuse, self.failures = inner, retry, refuse_login, 1
        self.capabilities = inner.capabilities

    def _pages(self, stream: str, cursor: Cursor | None) -> list[Batch]:
        if self.refuse:
            raise AuthenticationError(f"INVALID_LOGIN: login refused (session {SECRET})")
        if self.failures:
            self.failures -= 1
            raise RetryableError("SERVER_UNAVAILABLE", code="SERVER_UNAVAILABLE", retry_after=0.01)
        return list(self.inner.read(stream, cursor))

    def read(self, stream: str, cursor: Cursor | None = None, range: ReadRange | None = None) -> Any:
        yield from self.retry.call(self._pages, stream, cursor)

    def write(self, stream: str, records: Any, deletes: Any = (), upsert_key: str | None = None) -> Any:
        return self.inner.write(stream, records, deletes, upsert_key)

    def discover(self) -> Any:
        return self.inner.discover()

    def check(self) -> Any:
        return self.inner.check()

    def close(self) -> None:
        self.inner.close()


def test_log_lines_carry_context_and_never_values_or_secrets(project: Any) -> None:
    seed(project)
    refuse = {"crm": False}
    base = project.services.connector

    def connector(system: str, retry: RetryPolicy) -> Connector:
        inner = base(system, retry)
        return Flaky(inner, retry, refuse_login=refuse["crm"]) if system == "erp" else inner  # type: ignore[return-value]

    project.services.connector = connector
    project.config.syncs["erp-to-crm"].retry.initial_wait = 0.001
    out = io.StringIO()
    crmlog.MASKER.add([SECRET])
    crmlog.configure(json=True, stream=out)
    try:
        run_sync(project.config, project.store, "erp-to-crm", services=project.services)
        refuse["crm"] = True
        project.erp.write("customers", [{"cust_no": "C7", "name": "Later", "mail": "later@example.com"}])
        failed = run_sync(project.config, project.store, "erp-to-crm", services=project.services)
    finally:
        structlog.reset_defaults()
    assert failed.status == "failed" and int(failed.exit_code) == 2
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    names = {e["event"] for e in events}
    assert {"run.started", "run.finished", "stream.started", "stream.finished", "sync.batch.written",
            "retry.scheduled", "auth.failed", "record.quarantined"} <= names
    assert all(e.get("run_id") and e.get("sync") == "erp-to-crm" for e in events)
    assert all(e.get("stream") for e in events if e["event"].startswith(("stream.", "sync.batch", "record.")))
    quarantined = next(e for e in events if e["event"] == "record.quarantined")
    assert quarantined["native_key"] == "P2" and quarantined["fields"] == ["email"]
    text = out.getvalue()
    for value in (SECRET, "not-an-email", "d@example.com", "Diaz", "Firm 1", "later@example.com"):
        assert value not in text, value


def test_an_object_filter_moves_only_the_records_it_names(project: Any) -> None:
    seed(project)
    config = project.config.model_copy(deep=True)
    config.syncs["erp-to-crm"].objects[1].filter = {"name": ["Firm 1", "Firm 3"]}  # Account
    summary = run_sync(config, project.store, "erp-to-crm", services=project.services)
    assert summary.status == "succeeded", summary.reason
    assert sorted(rows(project.crm, "Account")) == ["C1", "C3"]
    account = next(s for s in summary.streams if s.stream == "Account")
    assert account.counts["filtered"] == 3 and account.counts["written"] == 2
    assert project.store.canonical_ids("erp", "customers", ["C0", "C1"]).keys() == {"C1"}  # left out: no id
    assert not [q for q in project.store.list_quarantine("erp-to-crm") if q.object == "customers"]


def test_a_record_filter_compares_enums_by_value_and_reaches_into_groups() -> None:
    from mappings.canonical.entities import Account
    from orchestrator.runner.record_filter import RecordFilter

    keep = RecordFilter.from_config({"type": "customer", "billing_address.country": ["ES", "PT"]})
    assert keep is not None and RecordFilter.from_config({}) is None
    spain = Account.model_validate({"name": "A", "type": "customer", "billing_address": {"country": "ES"}})
    france = Account.model_validate({"name": "B", "type": "customer", "billing_address": {"country": "FR"}})
    no_address = Account.model_validate({"name": "C", "type": "customer"})
    assert [keep.keeps(m) for m in (spain, france, no_address)] == [True, False, False]
    assert RecordFilter.from_config({"billing_address.country": None}).keeps(no_address)  # type: ignore[union-attr]


def test_config_validation_names_a_filter_field_the_entity_lacks(project: Any) -> None:
    from orchestrator.config.references import check

    config = project.config.model_copy(deep=True)
    config.syncs["erp-to-crm"].objects[1].filter = {"nmae": "Firm 1", "billing_address.town": "Madrid",
                                                    "billing_address.city": "Madrid"}
    problems = check(config, check_environment=False)
    assert [(p.path, p.message) for p in problems] == [
        (("syncs", "erp-to-crm", "objects", 1, "filter", "nmae"), "Account has no canonical field 'nmae'"),
        (("syncs", "erp-to-crm", "objects", 1, "filter", "billing_address.town"),
         "Account has no canonical field 'billing_address.town'")]


def test_create_in_lets_a_two_way_sync_update_but_not_create_records_in_the_other_system(project: Any) -> None:
    sync = project.config.syncs["erp-to-crm"]
    objects = [o.model_copy(update={"create_in": ["crm"]}) for o in sync.objects]
    project.config.syncs["both"] = sync.model_copy(update={"direction": "two_way", "objects": objects,
                                                           "delete_policy": "ignore"})
    seed(project)
    assert run_sync(project.config, project.store, "both", services=project.services).status == "succeeded"
    project.crm.write("Account", [{"AccountNumber": "N1", "Name": "Prospect"},  # CRM only: not created in erp
                                  {"AccountNumber": "C1", "Name": "Renamed in CRM"}])  # linked: updated in erp
    project.erp.write("customers", [{"cust_no": "C7", "name": "New customer"}])  # created in crm as usual
    second = run_sync(project.config, project.store, "both", services=project.services)
    assert second.status == "succeeded", second.reason
    erp, crm = rows(project.erp, "customers"), rows(project.crm, "Account")
    assert "N1" not in erp and erp["C1"]["name"] == "Renamed in CRM" and crm["C7"]["Name"] == "New customer"
    account = next(s for s in second.streams if s.stream == "Account")
    assert account.counts.get("not_created") == 1
    assert not [q for q in project.store.list_quarantine("both") if q.native_key == "N1"]
    third = run_sync(project.config, project.store, "both", services=project.services)
    assert "N1" not in rows(project.erp, "customers") and third.totals().get("written", 0) == 0


def test_create_in_must_name_a_system_of_the_sync(project: Any) -> None:
    from orchestrator.config.references import check

    config = project.config.model_copy(deep=True)
    config.syncs["erp-to-crm"].objects[0].create_in = ["crm", "ledger"]
    assert [(p.path, p.message) for p in check(config, check_environment=False)] == [
        (("syncs", "erp-to-crm", "objects", 0, "create_in"), "'ledger' is not a system of this sync (erp, crm)")]
