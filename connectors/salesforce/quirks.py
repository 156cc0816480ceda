"""Salesforce objects that do not behave like the rest: one data table, each entry saying why.

Everything not listed here follows the defaults: cursor = the first of CURSOR_PREFERENCE that the
object has, Bulk API 2.0 allowed, filterable on its cursor, soft deletes visible through queryAll.
"""

from __future__ import annotations

from dataclasses import dataclass

CURSOR_PREFERENCE: tuple[str, ...] = ("SystemModstamp", "LastModifiedDate", "CreatedDate", "LoginTime")
"""SystemModstamp moves on every write, system ones included (LastModifiedDate misses those); objects
without it fall back to the next field they have (history rows only have CreatedDate)."""

SKIPPED_SUFFIXES: tuple[str, ...] = ("ChangeEvent", "__e", "__x", "__mdt", "__b")
"""Change events and platform events are streamed, not queried; external (__x), custom metadata (__mdt)
and big objects (__b) do not support SystemModstamp filters or queryAll."""


@dataclass(frozen=True, slots=True)
class Quirk:
    """How one object departs from the defaults."""

    cursor_field: str | None = None  # overrides CURSOR_PREFERENCE when set
    incremental: bool = True  # False: the object rejects WHERE on its date fields; read it whole
    bulk: bool = True  # False: Bulk API 2.0 refuses the object (INVALIDENTITY); always REST
    soft_deletes: bool = True  # False: rows vanish without a Recycle Bin entry; no tombstones
    streamable: bool = True  # False: cannot be queried without a parent filter; not offered


QUIRKS: dict[str, Quirk] = {
    # LoginHistory has no SystemModstamp/LastModifiedDate; LoginTime is when the row was written.
    "LoginHistory": Quirk(cursor_field="LoginTime", soft_deletes=False),
    # Status/lookup tables the Bulk API rejects with INVALIDENTITY (they are tiny: REST is fine).
    "CaseStatus": Quirk(bulk=False),
    "TaskStatus": Quirk(bulk=False),
    "TaskPriority": Quirk(bulk=False),
    "ContractStatus": Quirk(bulk=False),
    "OrderStatus": Quirk(bulk=False),
    "SolutionStatus": Quirk(bulk=False),
    "PartnerRole": Quirk(bulk=False),
    "RecentlyViewed": Quirk(bulk=False, incremental=False),  # per-user view, no usable cursor
    # Attachment bodies are base64 blobs: Bulk cannot select them and REST returns them one by one.
    "Attachment": Quirk(bulk=False),
    # Event relation views are derived from EventRelation and unsupported by Bulk.
    "AcceptedEventRelation": Quirk(bulk=False),
    "DeclinedEventRelation": Quirk(bulk=False),
    "UndecidedEventRelation": Quirk(bulk=False),
    # Knowledge versions must be filtered by PublishStatus/Language and are refused by Bulk.
    "KnowledgeArticleVersion": Quirk(bulk=False, streamable=False),
    # ContentDocumentLink must be filtered by ContentDocumentId or LinkedEntityId.
    "ContentDocumentLink": Quirk(streamable=False),
    # UserRecordAccess needs UserId and RecordId in the WHERE clause.
    "UserRecordAccess": Quirk(streamable=False),
    # Junction rows that Salesforce hard-deletes (no Recycle Bin): tombstones never arrive,
    # deletes must be found by a key sweep (reconciliation's presence diff).
    "CampaignMember": Quirk(soft_deletes=False),
    "OpportunityContactRole": Quirk(soft_deletes=False),
    "AccountContactRelation": Quirk(soft_deletes=False),
    # Users and groups are deactivated, never deleted: they have no IsDeleted column.
    "User": Quirk(soft_deletes=False),
    "Group": Quirk(soft_deletes=False),
    # Event-log style objects that reject filters on their date fields.
    "FormulaFunction": Quirk(incremental=False, bulk=False),
    "FormulaFunctionAllowedType": Quirk(incremental=False, bulk=False),
    "FormulaFunctionCategory": Quirk(incremental=False, bulk=False),
    "EmbeddedServiceDetail": Quirk(incremental=False, bulk=False),
}

DEFAULT = Quirk()


def quirk(name: str) -> Quirk:
    """The object's entry, or the defaults."""
    return QUIRKS.get(name, DEFAULT)


def offered(name: str, queryable: bool) -> bool:
    """Whether discovery offers the object as a stream."""
    return queryable and quirk(name).streamable and not name.endswith(SKIPPED_SUFFIXES)


def cursor_field(name: str, field_names: set[str]) -> str | None:
    """The object's cursor field: the quirk's own, else the first preferred field it has, else None."""
    entry = quirk(name)
    if not entry.incremental:
        return None
    if entry.cursor_field is not None:
        return entry.cursor_field if entry.cursor_field in field_names else None
    return next((f for f in CURSOR_PREFERENCE if f in field_names), None)
