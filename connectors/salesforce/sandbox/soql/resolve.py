"""Field paths (``Name``, ``Account.Name``, ``Owner.Email``) -> SQL column expressions plus the joins they need.

Each relationship hop becomes one LEFT OUTER JOIN on the parent's unique ``Id``, shared by every path
through it. A polymorphic hop (``Owner`` on Lead is a User or a Group, ``Who`` on Task a Contact or a
Lead) joins each target the org has and coalesces them: ids carry their object's key prefix, so at most
one of the joins matches a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, FromClause, Table, func

from connectors.salesforce.objects import SField

from ..errors import SalesforceApiError
from ..schema import ObjectSchema, Schema
from . import nodes as n
from .parser import error_message


def invalid_field(text: str, pos: n.Pos, detail: str) -> SalesforceApiError:
    return SalesforceApiError(400, "INVALID_FIELD", error_message(text, pos.line, pos.column, detail))


def no_such_column(text: str, pos: n.Pos, name: str, obj: str) -> SalesforceApiError:
    return invalid_field(text, pos, (
        f"No such column '{name}' on entity '{obj}'. If you are attempting to use a custom field, be sure to "
        "append the '__c' after the custom field name. Please reference your WSDL or the describe call for "
        "the appropriate names."))


@dataclass
class Hop:
    """One joined relationship: the aliases of its target tables and the expression of the parent's Id."""

    key: tuple[str, ...]  # relationship names from the root, lower-cased
    name: str  # canonical relationship name (the JSON key)
    targets: list[tuple[ObjectSchema, FromClause]]
    onclauses: list[ColumnElement[bool]]
    parent: Hop | None

    @property
    def id_expr(self) -> ColumnElement[str]:
        ids = [alias.c.Id for _, alias in self.targets]
        return ids[0] if len(ids) == 1 else func.coalesce(*ids)

    @property
    def polymorphic(self) -> bool:
        return len(self.targets) > 1


@dataclass
class Resolved:
    """A resolved field path: its metadata, its SQL value, and the hops between the root and it."""

    field: SField
    expr: ColumnElement[object]
    hops: tuple[Hop, ...]
    owner: ObjectSchema  # the object that holds the field (the root or a parent)
    alias: FromClause | None  # the alias holding the field (None for a polymorphic coalesce)
    components: tuple[ColumnElement[object], ...] = ()  # compound fields: the component columns
    component_fields: tuple[SField, ...] = ()


@dataclass
class Resolver:
    """Resolves paths against one root object, remembering the joins they create (in first-use order)."""

    schema: Schema
    root: ObjectSchema
    text: str
    root_alias_name: str | None = None
    hops: dict[tuple[str, ...], Hop] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base: Table | FromClause = self.root.table.alias("t0")

    def resolve(self, ref: n.FieldRef) -> Resolved:
        path = list(ref.path)
        if self.root_alias_name and len(path) > 1 and path[0].lower() == self.root_alias_name.lower():
            path = path[1:]
        obj, alias, hops = self.root, self.base, []
        parent: Hop | None = None
        for i, rel in enumerate(path[:-1]):
            if parent is not None and parent.polymorphic:
                raise invalid_field(self.text, ref.pos, _bad_relationship(rel))
            ref_field = obj.relationship(rel)
            if ref_field is None:
                raise invalid_field(self.text, ref.pos, _bad_relationship(rel))
            parent = self._hop(tuple(p.lower() for p in path[: i + 1]), ref_field, alias, parent)
            hops.append(parent)
            if not parent.polymorphic:
                obj, alias = parent.targets[0]
        return self._leaf(ref, path[-1], obj, alias, tuple(hops))

    def _leaf(self, ref: n.FieldRef, name: str, obj: ObjectSchema, alias: FromClause,
              hops: tuple[Hop, ...]) -> Resolved:
        if hops and hops[-1].polymorphic:
            return self._polymorphic_leaf(ref, name, hops)
        f = obj.field(name)
        if f is None:
            raise no_such_column(self.text, ref.pos, name, obj.name)
        if f.is_compound:
            parts = obj.obj.components(f.name)
            return Resolved(f, alias.c.Id, hops, obj, alias, tuple(alias.c[p.name] for p in parts), parts)
        return Resolved(f, alias.c[f.name], hops, obj, alias)

    def _polymorphic_leaf(self, ref: n.FieldRef, name: str, hops: tuple[Hop, ...]) -> Resolved:
        hop = hops[-1]
        found = [(o, a, o.field(name)) for o, a in hop.targets if o.field(name) is not None]
        if not found:
            raise no_such_column(self.text, ref.pos, name, "Name")
        f = found[0][2]
        assert f is not None
        if f.is_compound:
            raise no_such_column(self.text, ref.pos, name, "Name")
        exprs = [a.c[g.name] for _, a, g in found if g is not None]
        expr = exprs[0] if len(exprs) == 1 else func.coalesce(*exprs)
        return Resolved(f, expr, hops, found[0][0], None)

    def _hop(self, key: tuple[str, ...], ref_field: SField, child: FromClause, parent: Hop | None) -> Hop:
        if key in self.hops:
            return self.hops[key]
        targets: list[tuple[ObjectSchema, FromClause]] = []
        onclauses: list[ColumnElement[bool]] = []
        for target_name in ref_field.reference_to:
            target = self.schema.get(target_name)
            if target is None:
                continue
            alias = target.table.alias(f"t{len(self.hops) + 1}_{len(targets)}")
            targets.append((target, alias))
            onclauses.append(alias.c.Id == child.c[ref_field.name])
        if not targets:
            raise invalid_field(self.text, n.Pos(1, 1), _bad_relationship(ref_field.relationship_name or ""))
        hop = Hop(key, ref_field.relationship_name or ref_field.name, targets, onclauses, parent)
        self.hops[key] = hop
        return hop

    def from_clause(self, needed: set[tuple[str, ...]] | None = None, base: FromClause | None = None) -> FromClause:
        """The root joined to every hop (or only to ``needed`` hops and their ancestors)."""
        keep = None if needed is None else {k[:i] for k in needed for i in range(1, len(k) + 1)}
        out = base if base is not None else self.base
        for key, hop in self.hops.items():
            if keep is not None and key not in keep:
                continue
            for (_, alias), on in zip(hop.targets, hop.onclauses, strict=True):
                out = out.outerjoin(alias, on)
        return out


def _bad_relationship(rel: str) -> str:
    return (f"Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom "
            "relationship, be sure to append the '__r' after the custom relationship name. Please reference "
            "your WSDL or the describe call for the appropriate names.")
