"""The planner: watches a reconciliation run and turns each healable finding into plan items.

- field_mismatch, stale, conflict: the survivorship rule picks the winning value per field, written
  to the other record (``manual`` rules leave a manual item);
- missing: the record is created in the other system from its canonical form;
- duplicate: the group merges into a survivor (empty fields filled from the others), children of the
  losers are re-linked to it, then the losers are deleted;
- picklist_drift: with a value map for the value, the mapped value is written;
- invalid_value: when a normalising rule fixes the value, the fixed value is written;
- deleted_one_side: by the delete policy (propagate the delete, restore the record, or leave it).
Everything else (merged, orphans, owners, formula and schema drift) is reported for a person.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mappings.canonical import ENTITIES, CanonicalModel
from orchestrator.heal import natives
from orchestrator.heal.fixers import fix
from orchestrator.heal.plan import PlanItem
from orchestrator.heal.survivorship import Rules, survivor, winner
from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.context import EntityContext
from orchestrator.reconcile.detectors.orphans import REF_PREFIX
from orchestrator.reconcile.detectors.picklist import PICKLIST_PREFIX
from orchestrator.reconcile.finding import Finding, jsonable
from orchestrator.reconcile.identities import Identities
from orchestrator.reconcile.observer import Observer
from orchestrator.reconcile.records import CRecord, Pair, Rejection
from orchestrator.reconcile.salvage import native_sources
from orchestrator.reconcile.sides import OBJECT, ROW, SideSpec, reference_fields

DIVERGENCE = {FindingCode.FIELD_MISMATCH, FindingCode.STALE, FindingCode.CONFLICT}


class HealSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delete_policy: Literal["propagate", "restore", "ignore"] = "propagate"
    value_maps: dict[str, dict[str, dict[str, str]]] = Field(default_factory=dict)  # entity -> field -> old -> new
    create_missing: bool = True
    merge_duplicates: bool = True
    fix_invalid: bool = True
    phone_region: str | None = None
    trust_tombstones: bool = False  # act on one-sided deletes known only by a tombstone (may be merges)


@dataclass
class Planner(Observer):
    sides: Mapping[str, SideSpec]
    rules: Rules
    settings: HealSettings = field(default_factory=HealSettings)
    identities: Identities = field(default_factory=lambda: Identities(inverse=True))
    models: Mapping[str, type[CanonicalModel]] = field(default_factory=lambda: dict(ENTITIES))
    items: list[PlanItem] = field(default_factory=list)
    keep_native: bool = True
    _updates: dict[tuple[str, str, str], PlanItem] = field(default_factory=dict)
    _groups: dict[str, Finding] = field(default_factory=dict)
    _members: dict[str, list[CRecord]] = field(default_factory=dict)
    _matched: set[str] = field(default_factory=set)
    _relink: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # (system, entity): loser -> kept
    _fixes: dict[tuple[str, str], dict[str, tuple[Any, Finding]]] = field(default_factory=dict)
    _partner: dict[str, CRecord] = field(default_factory=dict)  # duplicate member -> its counterpart
    _planned: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (system, entity, identity) -> new key
    _equivalents: dict[str, dict[str, str]] = field(default_factory=dict)  # path -> value -> the other's word

    # ------------------------------------------------------------------ observer hooks
    def entity_started(self, ctx: EntityContext, duplicates: Sequence[Finding]) -> None:
        self._groups, self._members, self._matched = {}, {}, set()
        self._equivalents = {path: {k.strip().casefold(): v for k, v in table.items()}
                             for path, table in ctx.normalisers.config.equivalents.items()}
        if self.settings.merge_duplicates:
            for finding in duplicates:
                for ref in finding.records:
                    self._groups[f"{ref.system}\x1f{ref.key}"] = finding

    def record(self, record: CRecord, findings: Sequence[Finding]) -> None:
        self._relink_children(record)
        for finding in findings:
            if finding.code is FindingCode.PICKLIST_DRIFT:
                self._picklist(record, finding)

    def rejection(self, rejection: Rejection, findings: Sequence[Finding]) -> None:
        side = self.sides[rejection.system]
        mapper = _first(side.mappers(rejection.entity))
        if mapper is None:
            return
        sources = native_sources(mapper)
        for finding in findings:
            path = finding.fields[0]
            native_field = next(iter(sources.get(path) or ()), None)
            value = rejection.native_values.get(path)
            new = self._fixed(finding, rejection.entity, path, value)
            if native_field is None or new is None:
                self._manual(finding, rejection.system, rejection.entity, str(mapper.spec.object), rejection.key,
                             "no rule fixes this value")
                continue
            item = self._update(rejection.system, rejection.entity, str(mapper.spec.object), rejection.key,
                                natives.key_field(mapper))
            item.native[native_field] = new
            item.before.setdefault(native_field, value)
            item.fields[path] = {"from": jsonable(value), "to": new}
            item.fingerprints.append(finding.fingerprint)
            item.code = item.code or finding.code.value
            item.rule = "value_map" if finding.code is FindingCode.PICKLIST_DRIFT else "normalise"
            self._fixes.setdefault((rejection.system, rejection.key), {})[path] = (new, finding)

    def pair(self, pair: Pair, findings: Sequence[Finding]) -> None:
        for record, other in ((pair.left, pair.right), (pair.right, pair.left)):
            ref = f"{record.system}\x1f{record.key}"
            self._matched.add(ref)
            self._collect(record)
            if ref in self._groups:
                self._partner[ref] = other
            self._settle_fixes(record, other)
        for finding in findings:
            if finding.code in DIVERGENCE:
                self._divergence(pair, finding)
            elif finding.code is FindingCode.DELETED_ONE_SIDE:
                self._deleted(pair, finding)
            else:
                self._manual(finding, pair.left.system, pair.left.entity, _object(pair.left), pair.left.key,
                             "needs a person")

    def alone(self, record: CRecord, finding: Finding | None) -> None:
        self._collect(record)
        if finding is not None and finding.code is FindingCode.MISSING and self.settings.create_missing:
            other = next(s for s in self.sides if s != record.system)
            self._create(record, other, finding)

    def entity_finished(self, ctx: EntityContext) -> None:
        done: set[int] = set()
        for finding in self._groups.values():
            if id(finding) in done:
                continue
            done.add(id(finding))
            members = [r for ref in finding.records for r in self._members.get(f"{ref.system}\x1f{ref.key}", [])]
            if len(members) >= 2:
                self._merge(ctx.entity, members, finding)

    # ------------------------------------------------------------------ findings -> items
    def _divergence(self, pair: Pair, finding: Finding) -> None:
        path = finding.fields[0]
        rule = self.rules.rule(path)
        chosen = winner(rule, path, pair.left, pair.right)
        if chosen is None:
            self._manual(finding, pair.left.system, pair.left.entity, _object(pair.left), pair.left.key,
                         f"survivorship for {path} is {rule}")
            return
        target = pair.right if chosen is pair.left else pair.left
        self._set(target, {path: chosen.get(path)}, finding, rule)

    def _set(self, target: CRecord, values: Mapping[str, Any], finding: Finding, rule: str) -> None:
        side = self.sides[target.system]
        mapper = _first(side.mappers(target.entity))
        if mapper is None:
            return
        after = {**target.values, **{path: self._translate(path, value) for path, value in values.items()}}
        ctx = natives.context(target.system, side.timezone, self._reverse(target.system))
        try:
            changed = natives.changes(mapper, self.models[target.entity], ctx, target.values, after)
        except Exception as exc:  # the target mapping cannot render the value: a person decides
            self._manual(finding, target.system, target.entity, _object(target), target.key,
                         f"cannot render for {target.system}: {type(exc).__name__}")
            return
        if not changed:
            return
        row = target.native.get(ROW) or {}
        item = self._update(target.system, target.entity, _object(target), target.key, natives.key_field(mapper))
        item.canonical_id = item.canonical_id or target.canonical_id
        for name, value in changed.items():
            item.native[name] = value
            item.before.setdefault(name, row.get(name))
        for path, value in values.items():
            item.fields[path] = {"from": jsonable(target.get(path)), "to": jsonable(value)}
        item.fingerprints.append(finding.fingerprint)
        item.code = item.code or finding.code.value
        item.rule = item.rule or rule

    def _deleted(self, pair: Pair, finding: Finding) -> None:
        gone, live = (pair.left, pair.right) if pair.left.deleted else (pair.right, pair.left)
        policy = self.settings.delete_policy
        if finding.detail.get("may_be_merge") and not self.settings.trust_tombstones:
            self._manual(finding, live.system, live.entity, _object(live), live.key,
                         "deleted on one side, but only a tombstone came back: it may be a merge")
            return
        if policy == "propagate":
            self._delete(live, finding, "delete_policy: propagate")
        elif policy == "restore":
            self._create(live, gone.system, finding, rule="delete_policy: restore")
        else:
            self._manual(finding, live.system, live.entity, _object(live), live.key, "delete_policy: ignore")

    def _create(self, record: CRecord, system: str, finding: Finding, rule: str = "create") -> None:
        side, source = self.sides[system], self.sides[record.system]
        mapper, source_mapper = _first(side.mappers(record.entity)), _first(source.mappers(record.entity))
        row = record.native.get(ROW)
        if mapper is None or source_mapper is None or row is None:
            self._manual(finding, system, record.entity, "", None, "no mapping to create it with")
            return
        try:
            canonical = source_mapper.to_canonical(row, natives.read_context(
                record.system, source.timezone, self._lookup(record.system)))
            canonical = canonical.model_copy(update={p: self._translate(p, getattr(canonical, p))
                                                     for p in self._equivalents if hasattr(canonical, p)})
            native = mapper.to_native(canonical, natives.context(system, side.timezone, self._reverse(system)))
        except Exception as exc:
            self._manual(finding, system, record.entity, str(mapper.spec.object), None,
                         f"cannot render for {system}: {type(exc).__name__}")
            return
        identity = self.identities(record.system, record.entity, record.key)
        new_key = native.get(natives.key_field(mapper))
        if identity and new_key not in (None, ""):  # children created in this plan point at it
            self._planned[(system, record.entity, identity)] = str(new_key)
        self.items.append(PlanItem(
            "create", finding.code.value, record.entity, system, str(mapper.spec.object), None, native=native,
            fields={"record": {"from": None, "to": f"{record.system}:{record.key}"}},
            fingerprints=[finding.fingerprint], canonical_id=record.canonical_id, rule=rule,
            source={"system": record.system, "object": _object(record), "key": record.key}))

    def _delete(self, record: CRecord, finding: Finding, rule: str) -> None:
        mapper = _first(self.sides[record.system].mappers(record.entity))
        key_field = natives.key_field(mapper) if mapper is not None else "key"
        self.items.append(PlanItem(
            "delete", finding.code.value, record.entity, record.system, _object(record), record.key,
            native={key_field: record.key}, before=dict(record.native.get(ROW) or {}),
            fields={"record": {"from": f"{record.system}:{record.key}", "to": None}},
            fingerprints=[finding.fingerprint], canonical_id=record.canonical_id, rule=rule))

    def _picklist(self, record: CRecord, finding: Finding) -> None:
        """Value maps name native values: what to write in the system where the value drifted."""
        path, value = finding.fields[0], finding.subject
        new = self.settings.value_maps.get(record.entity, {}).get(path, {}).get(value)
        mapper = _first(self.sides[record.system].mappers(record.entity))
        native_field = path if PICKLIST_PREFIX + path in record.native else next(
            iter(native_sources(mapper).get(path) or ()), None) if mapper is not None else None
        if new is None or mapper is None or native_field is None:
            self._manual(finding, record.system, record.entity, _object(record), record.key,
                         f"no value map entry for {value!r}")
            return
        item = self._update(record.system, record.entity, _object(record), record.key, natives.key_field(mapper))
        item.native[native_field] = new
        item.before.setdefault(native_field, (record.native.get(ROW) or {}).get(native_field, value))
        item.fields[path] = {"from": value, "to": new}
        item.fingerprints.append(finding.fingerprint)
        item.code, item.rule = item.code or finding.code.value, item.rule or "value_map"

    def _fixed(self, finding: Finding, entity: str, path: str, value: Any) -> str | None:
        if finding.code is FindingCode.PICKLIST_DRIFT:
            return self.settings.value_maps.get(entity, {}).get(path, {}).get(str(value))
        if finding.code is FindingCode.INVALID_VALUE and self.settings.fix_invalid:
            return fix(str(finding.detail.get("reason", "")), value, self.settings.phone_region)
        return None

    def _settle_fixes(self, record: CRecord, other: CRecord) -> None:
        """A value fixed on one side must also agree with the other side afterwards: an empty counterpart is
        filled with it, a different one is settled by the survivorship rule."""
        for path, (fixed, finding) in self._fixes.pop((record.system, record.key), {}).items():
            theirs = other.get(path)
            if jsonable(theirs) == jsonable(fixed):
                continue
            if theirs in (None, ""):
                self._set(other, {path: fixed}, finding, "fill with the fixed value")
                continue
            candidate = CRecord(record.system, record.entity, record.key, {**record.values, path: fixed},
                                record.canonical_id, record.updated_at, record.deleted, record.native)
            chosen = winner(self.rules.rule(path), path, candidate, other)
            if chosen is other:
                self._set(record, {path: theirs}, finding, self.rules.rule(path))
            elif chosen is candidate:
                self._set(other, {path: fixed}, finding, self.rules.rule(path))

    # ------------------------------------------------------------------ duplicates
    def _collect(self, record: CRecord) -> None:
        ref = f"{record.system}\x1f{record.key}"
        if ref in self._groups:
            self._members.setdefault(ref, []).append(record)

    def _merge(self, entity: str, members: list[CRecord], finding: Finding) -> None:
        keep = survivor(members, {k.split("\x1f", 1)[1] for k in self._matched})
        losers = [r for r in members if r is not keep]
        partner = self._partner.get(f"{keep.system}\x1f{keep.key}")
        filled = {path: value for loser in losers for path, value in loser.values.items()
                  if value not in (None, "") and keep.get(path) in (None, "") and not path.endswith("_id")
                  and (partner is None or partner.get(path) in (None, "", value))}
        if filled:
            # The survivor's counterpart gets the same values where it had none, so merging adds no difference.
            self._set(keep, filled, finding, "merge: fill empty fields")
            if partner is not None:
                gaps = {p: v for p, v in filled.items() if partner.get(p) in (None, "")}
                if gaps:
                    self._set(partner, gaps, finding, "merge: fill empty fields")
        relink = self._relink.setdefault((keep.system, entity), {})
        for loser in losers:
            relink[loser.key] = keep.key
            self._delete(loser, finding, f"merge into {keep.key}")

    def _relink_children(self, record: CRecord) -> None:
        if not self._relink:
            return
        mapper = _first(self.sides[record.system].mappers(record.entity))
        if mapper is None:
            return
        targets = getattr(mapper, "references", None) or {}
        for path, native_field in reference_fields(mapper).items():
            moved = self._relink.get((record.system, targets.get(path, "")), {})
            old = record.native.get(REF_PREFIX + path)
            if old is not None and str(old) in moved:
                item = self._update(record.system, record.entity, _object(record), record.key,
                                    natives.key_field(mapper))
                item.native[native_field] = moved[str(old)]
                item.before.setdefault(native_field, old)
                item.fields[path] = {"from": str(old), "to": moved[str(old)]}
                item.code, item.rule = item.code or "duplicate", item.rule or "merge: re-link"

    # ------------------------------------------------------------------ helpers
    def _translate(self, path: str, value: Any) -> Any:
        """A value in the vocabulary the other system understands (job's ``equivalents``: Apparel -> Retail)."""
        table = self._equivalents.get(path)
        if not table or not isinstance(value, str):
            return value
        return table.get(value.strip().casefold(), value)

    def _update(self, system: str, entity: str, obj: str, key: str, key_field: str) -> PlanItem:
        found = self._updates.get((system, entity, key))
        if found is None:
            found = PlanItem("update", "", entity, system, obj, key, native={key_field: key})
            self._updates[(system, entity, key)] = found
            self.items.append(found)
        return found

    def _manual(self, finding: Finding, system: str, entity: str, obj: str, key: str | None, note: str) -> None:
        self.items.append(PlanItem("update", finding.code.value, entity, system, obj, key,
                                   fields={f: dict(v) for f, v in finding.values.items()},
                                   fingerprints=[finding.fingerprint], status="manual", note=note))

    def _reverse(self, system: str) -> Any:
        def reverse(entity: str, identity: str) -> str | None:
            found = self.identities.native(system, entity, str(identity))
            return found if found is not None else self._planned.get((system, entity, str(identity)))
        return reverse

    def _lookup(self, system: str) -> Any:
        def lookup(entity: str, native_id: str) -> str | None:
            return self.identities(system, entity, str(native_id))
        return lookup


def _first(mappers: list[Any]) -> Any | None:
    return mappers[0] if len(mappers) == 1 else None


def _object(record: CRecord) -> str:
    return str(record.native.get(OBJECT, ""))
