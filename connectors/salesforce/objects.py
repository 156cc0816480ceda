"""Salesforce org metadata: the standard objects crmsync syncs, described the way a real org describes them.

One table of objects and fields serves three users: the local sandbox (what describe returns and what
its SQLite store holds), the test-data generator (which fields to fill, with which types and picklist
values) and the reconciliation checks (restricted picklists, formula definitions, owner prefixes).

Ids are real Salesforce ids: a 3-character key prefix, 12 base-62 characters and the case-safe
3-character suffix, so 15- vs 18-character and case handling can be tested against the real algorithm.

Custom objects and fields are added from config with :func:`extend_objects`, which returns a new
mapping and never mutates :data:`OBJECTS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from connectors.errors import ConfigurationError

FIELD_TYPES = frozenset({
    "id", "string", "textarea", "picklist", "multipicklist", "combobox", "reference", "email", "phone", "url",
    "encryptedstring", "boolean", "int", "long", "double", "currency", "percent", "date", "datetime", "time",
    "base64", "address", "location", "anyType",
})
"""Describe types accepted by every client we serve (airbyte and tap abort discovery on anything else)."""

SOAP_TYPES: dict[str, str] = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int", "long": "xsd:long",
    "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double", "date": "xsd:date",
    "datetime": "xsd:dateTime", "time": "xsd:time", "base64": "xsd:base64Binary", "address": "urn:address",
    "location": "urn:location", "anyType": "xsd:anyType",
}
"""soapType per describe type; every other (string-like) type is ``xsd:string``."""

COMPOUND_TYPES = frozenset({"address", "location"})

ADDRESS_PARTS = ("Street", "City", "State", "PostalCode", "Country", "Latitude", "Longitude", "GeocodeAccuracy")
"""Component suffixes of an address compound, in describe order; the REST value uses their camelCase keys."""


# --------------------------------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class PicklistValue:
    value: str
    label: str
    active: bool = True
    default: bool = False


@dataclass(frozen=True, slots=True)
class SField:
    """One field as describe reports it. Defaults are those of an ordinary nillable, writable field."""

    name: str
    type: str
    label: str = ""
    length: int = 0
    precision: int = 0
    scale: int = 0
    digits: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    unique: bool = False
    external_id: bool = False
    id_lookup: bool = False
    calculated: bool = False
    formula: str | None = None
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    child_relationship: str | None = None  # the parent's name for the children (Account.Contacts)
    picklist_values: tuple[PicklistValue, ...] = ()
    restricted_picklist: bool = False
    defaulted_on_create: bool = False
    default_value: Any = None
    compound_field_name: str | None = None
    name_field: bool = False
    filterable: bool = True
    sortable: bool = True
    cascade_delete: bool = False

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    @property
    def is_compound(self) -> bool:
        return self.type in COMPOUND_TYPES

    @property
    def required(self) -> bool:
        """Must be given on create (what the UI marks with a red bar)."""
        return not self.nillable and self.createable and not self.defaulted_on_create

    @property
    def active_values(self) -> tuple[str, ...]:
        return tuple(p.value for p in self.picklist_values if p.active)

    @property
    def polymorphic(self) -> bool:
        return len(self.reference_to) > 1


@dataclass(frozen=True)
class SObject:
    """An sObject: name, key prefix, fields in describe order, and the object-level describe flags."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: tuple[SField, ...]
    custom: bool = False
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    queryable: bool = True
    mergeable: bool = False
    by_name: Mapping[str, SField] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    def field(self, name: str) -> SField:
        return self.by_name[name]

    def has(self, name: str) -> bool:
        return name in self.by_name

    @property
    def stored_fields(self) -> tuple[SField, ...]:
        """Fields with their own storage: compound address/location values are built from components."""
        return tuple(f for f in self.fields if not f.is_compound)

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def components(self, compound: str) -> tuple[SField, ...]:
        return tuple(f for f in self.fields if f.compound_field_name == compound and f.name != compound)


# --------------------------------------------------------------------------------------------------- ids

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_PAIRS = [a + b for a in _BASE62 for b in _BASE62]  # 62**2 = 3844 two-digit strings: id_for is hot
_PAIR_UPPER = [("A" <= p[0] <= "Z") | ("A" <= p[1] <= "Z") << 1 for p in _PAIRS]  # case bits of each pair
_HEADS: dict[str, tuple[str, str]] = {}  # prefix -> (first 5 characters, their suffix character)
_ID_RE = re.compile(r"^[0-9A-Za-z]{15}(?:[A-Za-z0-5]{3})?$")
INSTANCE = "8d"
"""Characters 4-5 of generated ids (the pod/instance part); character 6 is reserved and always 0."""
MAX_ID_NUMBER = 62**9 - 1


_UPPER_FLAGS = str.maketrans({**{c: "0" for c in _BASE62}, **{c: "1" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}})


def _suffix(id15: str) -> str:
    """The case-safe suffix: per 5-character chunk, a bit per upper-case letter (first character = bit 0)."""
    flags = id15.translate(_UPPER_FLAGS)
    return (_SUFFIX[int(flags[4::-1], 2)] + _SUFFIX[int(flags[9:4:-1], 2)]
            + _SUFFIX[int(flags[14:9:-1], 2)])


def is_valid_id(sfid: str) -> bool:
    """A 15-character id, or an 18-character one whose suffix matches the case of its first 15 characters."""
    if not isinstance(sfid, str) or not _ID_RE.match(sfid):
        return False
    return len(sfid) == 15 or _suffix(sfid[:15]) == sfid[15:].upper()


def to_15(sfid: str) -> str:
    """The case-sensitive 15-character id. An 18-character id has its case restored from the suffix,
    so an id lower-cased by a case-insensitive system still resolves to the right record."""
    if len(sfid) == 15 and _ID_RE.match(sfid):
        return sfid
    if len(sfid) != 18 or not _ID_RE.match(sfid):
        raise ValueError(f"not a Salesforce id: {sfid!r}")
    chars = list(sfid[:15])
    for chunk, code in enumerate(sfid[15:].upper()):
        bits = _SUFFIX.index(code)
        for pos in range(5):
            i = chunk * 5 + pos
            chars[i] = chars[i].upper() if bits & (1 << pos) else chars[i].lower()
    return "".join(chars)


def to_18(sfid: str) -> str:
    """The case-safe 18-character id (15-character base plus the checksum suffix)."""
    if len(sfid) == 18 and _ID_RE.match(sfid) and _suffix(sfid[:15]) == sfid[15:]:
        return sfid  # already in its case-safe form, as nearly every id a system sends (reconcile keys each one)
    base = to_15(sfid)
    return base + _suffix(base)


def same_id(a: str | None, b: str | None) -> bool:
    """Whether two ids name the same record, whatever their length (case matters in the 15-char form)."""
    if not a or not b:
        return a == b
    try:
        return to_18(a) == to_18(b)
    except ValueError:
        return a == b


def id_for(prefix: str, n: int) -> str:
    """The 18-character id number ``n`` of the object with key ``prefix``; string order follows ``n``."""
    if len(prefix) != 3 or not 0 <= n <= MAX_ID_NUMBER:
        raise ValueError(f"bad id request: prefix={prefix!r} n={n}")
    n, p4 = divmod(n, 3844)
    n, p3 = divmod(n, 3844)
    n, p2 = divmod(n, 3844)
    n, p1 = divmod(n, 3844)
    head = _HEADS.get(prefix)
    if head is None:
        head = _HEADS[prefix] = (prefix + INSTANCE, _SUFFIX[int((prefix + INSTANCE).translate(_UPPER_FLAGS)[::-1], 2)])
    # characters 6-10 are "0", n, p1 (2 chars), first of p2; 11-15 are second of p2, p3, p4 (see _suffix)
    up = _PAIR_UPPER
    second = ((n >= 10) & (n < 36)) << 1 | up[p1] << 2 | (up[p2] & 1) << 4
    third = up[p2] >> 1 | up[p3] << 1 | up[p4] << 3
    return (head[0] + "0" + _BASE62[n] + _PAIRS[p1] + _PAIRS[p2] + _PAIRS[p3] + _PAIRS[p4]
            + head[1] + _SUFFIX[second] + _SUFFIX[third])


def id_number(sfid: str) -> int:
    """Inverse of :func:`id_for` for ids it made: the record number."""
    n = 0
    for ch in to_15(sfid)[6:]:
        n = n * 62 + _BASE62.index(ch)
    return n


def object_for_id(sfid: str, objects: Mapping[str, SObject] | None = None) -> str | None:
    """The object name an id's key prefix belongs to, or None."""
    prefix = sfid[:3]
    for obj in (objects if objects is not None else OBJECTS).values():
        if obj.key_prefix == prefix:
            return obj.name
    return None


# --------------------------------------------------------------------------------------------------- describe JSON


def _picklist_json(p: PicklistValue) -> dict[str, Any]:
    return {"active": p.active, "defaultValue": p.default, "label": p.label, "validFor": None, "value": p.value}


def describe_field_json(f: SField) -> dict[str, Any]:
    """One entry of ``fields`` in ``/sobjects/{X}/describe``, with every key a real org returns."""
    text_like = f.type not in SOAP_TYPES
    return {
        "aggregatable": f.type not in ("textarea", "address", "location", "base64", "multipicklist"),
        "aiPredictionField": False, "autoNumber": False,
        "byteLength": f.length * 3 if text_like or f.type in ("id", "reference") else 0,
        "calculated": f.calculated, "calculatedFormula": f.formula, "cascadeDelete": f.cascade_delete,
        "caseSensitive": False, "compoundFieldName": f.compound_field_name, "controllerName": None,
        "createable": f.createable, "custom": f.custom,
        "defaultValue": f.default_value, "defaultValueFormula": None, "defaultedOnCreate": f.defaulted_on_create,
        "dependentPicklist": False, "deprecatedAndHidden": False, "digits": f.digits,
        "displayLocationInDecimal": False, "encrypted": False, "externalId": f.external_id,
        "extraTypeInfo": _extra_type_info(f), "filterable": f.filterable, "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": f.calculated and f.type in ("double", "currency", "percent", "int"),
        "groupable": f.filterable and f.type not in ("double", "currency", "percent", "textarea", "datetime"),
        "highScaleNumber": False, "htmlFormatted": False,
        "idLookup": f.id_lookup, "inlineHelpText": None, "label": f.label, "length": f.length,
        "mask": None, "maskType": None, "name": f.name, "nameField": f.name_field, "namePointing": f.polymorphic,
        "nillable": f.nillable, "permissionable": f.nillable and not f.calculated and f.updateable,
        "picklistValues": [_picklist_json(p) for p in f.picklist_values],
        "polymorphicForeignKey": f.polymorphic, "precision": f.precision, "queryByDistance": False,
        "referenceTargetField": None, "referenceTo": list(f.reference_to), "relationshipName": f.relationship_name,
        "relationshipOrder": None, "restrictedDelete": False, "restrictedPicklist": f.restricted_picklist,
        "scale": f.scale, "searchPrefilterable": False, "soapType": SOAP_TYPES.get(f.type, "xsd:string"),
        "sortable": f.sortable, "type": f.type, "unique": f.unique, "updateable": f.updateable,
        "writeRequiresMasterRead": False,
    }


def _extra_type_info(f: SField) -> str | None:
    if f.type == "reference" and f.name in ("OwnerId", "CreatedById", "LastModifiedById"):
        return None
    if f.type == "textarea":
        return "plaintextarea"
    if f.type == "url" and f.name.endswith("PhotoUrl"):
        return "imageurl"
    return None


def _urls(name: str, version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{name}"
    return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}


def describe_global_entry(obj: SObject, version: str = "62.0") -> dict[str, Any]:
    """One entry of ``sobjects`` in ``GET /sobjects`` (describeGlobal)."""
    return {
        "activateable": False, "associateEntityType": None, "associateParentEntity": None,
        "createable": obj.createable, "custom": obj.custom, "customSetting": False,
        "deepCloneable": False, "deletable": obj.deletable, "deprecatedAndHidden": False,
        "feedEnabled": not obj.custom, "hasSubtypes": False, "isInterface": False, "isSubtype": False,
        "keyPrefix": obj.key_prefix, "label": obj.label, "labelPlural": obj.label_plural, "layoutable": True,
        "mergeable": obj.mergeable, "mruEnabled": True, "name": obj.name, "queryable": obj.queryable,
        "replicateable": True, "retrieveable": True, "searchable": obj.name not in ("Group",),
        "triggerable": True, "undeletable": obj.deletable, "updateable": obj.updateable,
        "urls": _urls(obj.name, version),
    }


def describe_global_json(objects: Mapping[str, SObject] | None = None, version: str = "62.0") -> dict[str, Any]:
    """The whole ``GET /sobjects`` body."""
    objs = (objects if objects is not None else OBJECTS).values()
    return {"encoding": "UTF-8", "maxBatchSize": 200,
            "sobjects": [describe_global_entry(o, version) for o in objs]}


def child_relationships(obj: SObject, objects: Mapping[str, SObject] | None = None) -> list[dict[str, Any]]:
    """``childRelationships``: every reference field elsewhere that points at ``obj``."""
    out = []
    for child in (objects if objects is not None else OBJECTS).values():
        for f in child.fields:
            if f.type == "reference" and obj.name in f.reference_to:
                out.append({
                    "cascadeDelete": f.cascade_delete, "childSObject": child.name, "deprecatedAndHidden": False,
                    "field": f.name, "junctionIdListNames": [], "junctionReferenceTo": [],
                    "relationshipName": f.child_relationship, "restrictedDelete": False,
                })
    return out


def describe_sobject_json(obj: SObject, objects: Mapping[str, SObject] | None = None,
                          version: str = "62.0") -> dict[str, Any]:
    """The whole ``GET /sobjects/{X}/describe`` body."""
    body = describe_global_entry(obj, version)
    master = "012000000000000AAA"
    body.update({
        "actionOverrides": [], "childRelationships": child_relationships(obj, objects),
        "compactLayoutable": True, "defaultImplementation": None, "extendedBy": None, "extendsInterfaces": None,
        "fields": [describe_field_json(f) for f in obj.fields], "implementedBy": None, "implementsInterfaces": None,
        "listviewable": None, "lookupLayoutable": None, "namedLayoutInfos": [], "networkScopeFieldName": None,
        "recordTypeInfos": [{
            "active": True, "available": True, "defaultRecordTypeMapping": True, "developerName": "Master",
            "master": True, "name": "Master", "recordTypeId": master,
            "urls": {"layout": f"/services/data/v{version}/sobjects/{obj.name}/describe/layouts/{master}"},
        }],
        "searchLayoutable": True, "sobjectDescribeOption": "FULL", "supportedScopes": [
            {"label": "All " + obj.label_plural.lower(), "name": "everything"},
            {"label": "My " + obj.label_plural.lower(), "name": "mine"},
        ],
    })
    body["urls"] = {**_urls(obj.name, version),
                    "compactLayouts": f"/services/data/v{version}/sobjects/{obj.name}/describe/compactLayouts",
                    "layouts": f"/services/data/v{version}/sobjects/{obj.name}/describe/layouts"}
    return body


def address_value(record: Mapping[str, Any], obj: SObject, compound: str) -> dict[str, Any] | None:
    """The REST value of an address compound built from its stored components (None when all are empty)."""
    prefix = compound[: -len("Address")]
    value: dict[str, Any] = {}
    for part in ADDRESS_PARTS:
        key = part[0].lower() + part[1:]
        value[key] = record.get(prefix + part) if obj.has(prefix + part) else None
    return value if any(v is not None for v in value.values()) else None


# --------------------------------------------------------------------------------------------------- formulas

HEALTH_SCORE_FORMULA = (
    'CASE(Rating, "Hot", 60, "Warm", 40, "Cold", 20, 0) + '
    "IF(ISBLANK(AnnualRevenue), 0, IF(AnnualRevenue >= 10000000, 40, IF(AnnualRevenue >= 1000000, 25, 10)))"
)
_RATING_POINTS = {"Hot": 60, "Warm": 40, "Cold": 20}


def health_score(record: Mapping[str, Any]) -> float:
    """Account.Health_Score__c as the org computes it (see HEALTH_SCORE_FORMULA)."""
    score = _RATING_POINTS.get(record.get("Rating") or "", 0)
    revenue = record.get("AnnualRevenue")
    if revenue is not None:
        score += 40 if revenue >= 10_000_000 else 25 if revenue >= 1_000_000 else 10
    return float(score)


def expected_revenue(record: Mapping[str, Any]) -> float | None:
    """Opportunity.ExpectedRevenue = Amount * Probability / 100."""
    amount, probability = record.get("Amount"), record.get("Probability")
    if amount is None or probability is None:
        return None
    return round(float(amount) * float(probability) / 100, 2)


FORMULAS: dict[tuple[str, str], Callable[[Mapping[str, Any]], Any]] = {
    ("Account", "Health_Score__c"): health_score,
    ("Opportunity", "ExpectedRevenue"): expected_revenue,
}
"""Python evaluators of the formula fields, so reconciliation can recompute them (formula_drift)."""


# --------------------------------------------------------------------------------------------------- builders


def _label(name: str) -> str:
    base = name[:-3] if name.endswith("__c") else name
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", base).replace("_", " ").split()
    return " ".join("ID" if w == "Id" else w for w in words)


def _f(name: str, type_: str, **kw: Any) -> SField:
    kw.setdefault("label", _label(name))
    return SField(name=name, type=type_, **kw)


def _s(name: str, length: int, **kw: Any) -> SField:
    return _f(name, kw.pop("type", "string"), length=length, **kw)


def _pick(name: str, values: Iterable[str], default: str | None = None, **kw: Any) -> SField:
    vals = tuple(PicklistValue(v, v, True, v == default) for v in values)
    return _f(name, kw.pop("type", "picklist"), length=kw.pop("length", 255), picklist_values=vals,
              defaulted_on_create=default is not None, default_value=default, **kw)


def _ref(name: str, to: Iterable[str], rel: str, children: str | None = None, **kw: Any) -> SField:
    return _f(name, "reference", length=18, reference_to=tuple(to), relationship_name=rel,
              child_relationship=children, **kw)


def _bool(name: str, default: bool = False, **kw: Any) -> SField:
    return _f(name, "boolean", nillable=False, defaulted_on_create=True, default_value=default, **kw)


def _num(name: str, type_: str, precision: int, scale: int = 0, **kw: Any) -> SField:
    if type_ == "int":
        return _f(name, "int", digits=precision, **kw)
    return _f(name, type_, precision=precision, scale=scale, **kw)


def _ro(f: SField) -> SField:
    return replace(f, createable=False, updateable=False)


def _id_field(label: str) -> SField:
    return _f("Id", "id", label=f"{label} ID", length=18, nillable=False, createable=False, updateable=False,
              id_lookup=True, defaulted_on_create=True)


def _audit_fields() -> list[SField]:
    def ts(name: str) -> SField:
        return _f(name, "datetime", nillable=False, createable=False, updateable=False, defaulted_on_create=True)

    def by(name: str, rel: str) -> SField:
        return _ro(_ref(name, ["User"], rel, nillable=False, defaulted_on_create=True))

    return [ts("CreatedDate"), by("CreatedById", "CreatedBy"), ts("LastModifiedDate"),
            by("LastModifiedById", "LastModifiedBy"), ts("SystemModstamp")]


def _is_deleted() -> SField:
    return _ro(_bool("IsDeleted", label="Deleted"))


def _master(obj: str) -> SField:
    return _ro(_ref("MasterRecordId", [obj], "MasterRecord", label="Master Record ID"))


def _owner(to: Iterable[str] = ("User",), children: str | None = None) -> SField:
    return _ref("OwnerId", to, "Owner", children, nillable=False, defaulted_on_create=True)


def _address(prefix: str, label: str) -> list[SField]:
    """The components of an address compound, then the compound itself (read-only, built from them)."""
    compound = f"{prefix}Address"
    parts = [
        _s(f"{prefix}Street", 255, type="textarea", label=f"{label} Street"),
        _s(f"{prefix}City", 40, label=f"{label} City"),
        _s(f"{prefix}State", 80, label=f"{label} State/Province"),
        _s(f"{prefix}PostalCode", 20, label=f"{label} Zip/Postal Code"),
        _s(f"{prefix}Country", 80, label=f"{label} Country"),
        _num(f"{prefix}Latitude", "double", 18, 15, label=f"{label} Latitude"),
        _num(f"{prefix}Longitude", "double", 18, 15, label=f"{label} Longitude"),
        _pick(f"{prefix}GeocodeAccuracy", ["Address", "NearAddress", "Block", "Street", "ExtendedZip", "Zip",
                                            "Neighborhood", "City", "County", "State", "Unknown"],
              label=f"{label} Geocode Accuracy", restricted_picklist=True, length=40),
    ]
    parts = [replace(p, compound_field_name=compound, label=p.label.strip()) for p in parts]
    whole = _ro(_f(compound, "address", label=f"{label} Address".strip(), filterable=False, sortable=False))
    return [*parts, whole]


def _currency() -> SField:
    # Present on every object of a multi-currency org; the demo org trades in EUR, GBP and USD.
    return _pick("CurrencyIsoCode", CURRENCIES, default="EUR", label="Currency ISO Code", nillable=False,
                 restricted_picklist=True, length=3)


def _person_name(required_last: bool = True) -> list[SField]:
    return [
        _s("LastName", 80, nillable=not required_last, compound_field_name="Name"),
        _s("FirstName", 40, compound_field_name="Name"),
        _pick("Salutation", ["Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx."], compound_field_name="Name", length=40),
        _ro(_s("Name", 121, label="Full Name", nillable=False, name_field=True, defaulted_on_create=True)),
    ]


# --------------------------------------------------------------------------------------------------- picklists

ACCOUNT_TYPES = ("Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller",
                 "Installation Partner", "Technology Partner", "Other")
INDUSTRIES = ("Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction",
              "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment", "Environmental",
              "Finance", "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance", "Machinery",
              "Manufacturing", "Media", "Not For Profit", "Recreation", "Retail", "Shipping", "Technology",
              "Telecommunications", "Transportation", "Utilities", "Other")
RATINGS = ("Hot", "Warm", "Cold")
SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted")
OPPORTUNITY_STAGES: dict[str, tuple[int, bool, bool, str]] = {
    # stage: (default probability, IsClosed, IsWon, ForecastCategoryName) as in a new org's stage setup
    "Prospecting": (10, False, False, "Pipeline"),
    "Qualification": (10, False, False, "Pipeline"),
    "Needs Analysis": (20, False, False, "Pipeline"),
    "Value Proposition": (50, False, False, "Pipeline"),
    "Id. Decision Makers": (60, False, False, "Pipeline"),
    "Perception Analysis": (70, False, False, "Pipeline"),
    "Proposal/Price Quote": (75, False, False, "Pipeline"),
    "Negotiation/Review": (90, False, False, "Commit"),
    "Closed Won": (100, True, True, "Closed"),
    "Closed Lost": (0, True, False, "Omitted"),
}
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
TIME_ZONES = ("Europe/Madrid", "Europe/Berlin", "Europe/Paris", "Europe/London", "Europe/Rome", "Europe/Amsterdam",
              "America/New_York", "America/Chicago", "America/Los_Angeles", "GMT")
LOCALES = ("es_ES", "de_DE", "fr_FR", "en_GB", "it_IT", "nl_NL", "en_US")
LANGUAGES = ("en_US", "de", "es", "fr", "it", "nl_NL")
CURRENCIES = ("EUR", "GBP", "USD", "CHF")
GROUP_TYPES = ("Regular", "Role", "RoleAndSubordinates", "Organization", "Queue", "Manager",
               "ManagerAndSubordinatesInternal", "AllCustomerPortal", "PRMOrganization")


# --------------------------------------------------------------------------------------------------- objects


def _account() -> SObject:
    return SObject("Account", "Account", "Accounts", "001", mergeable=True, fields=(
        _id_field("Account"), _is_deleted(), _master("Account"),
        _s("Name", 255, label="Account Name", nillable=False, name_field=True),
        _pick("Type", ACCOUNT_TYPES, label="Account Type"),
        _ref("ParentId", ["Account"], "Parent", "ChildAccounts", label="Parent Account ID"),
        *_address("Billing", "Billing"), *_address("Shipping", "Shipping"),
        _s("Phone", 40, type="phone", label="Account Phone"), _s("Fax", 40, type="phone", label="Account Fax"),
        _s("AccountNumber", 40), _s("Website", 255, type="url"), _s("Sic", 20, label="SIC Code"),
        _pick("Industry", INDUSTRIES),
        _num("AnnualRevenue", "currency", 18, 0), _num("NumberOfEmployees", "int", 8, label="Employees"),
        _pick("Ownership", ("Public", "Private", "Subsidiary", "Other")),
        _s("TickerSymbol", 20), _s("Description", 32000, type="textarea", label="Account Description"),
        _pick("Rating", RATINGS, label="Account Rating"), _s("Site", 80, label="Account Site"),
        _currency(), _owner(children="Accounts"), *_audit_fields(),
        _ro(_f("LastActivityDate", "date")), _pick("AccountSource", SOURCES),
        _s("ERP_Customer_No__c", 10, label="ERP Customer No", external_id=True, unique=True, id_lookup=True),
        _s("VAT_Number__c", 20, label="VAT Number"),
        _ro(_num("Health_Score__c", "double", 4, 1, calculated=True, formula=HEALTH_SCORE_FORMULA)),
    ))


def _contact() -> SObject:
    return SObject("Contact", "Contact", "Contacts", "003", mergeable=True, fields=(
        _id_field("Contact"), _is_deleted(), _master("Contact"),
        _ref("AccountId", ["Account"], "Account", "Contacts"),
        *_person_name(),
        *_address("Other", "Other"), *_address("Mailing", "Mailing"),
        _s("Phone", 40, type="phone", label="Business Phone"), _s("Fax", 40, type="phone", label="Business Fax"),
        _s("MobilePhone", 40, type="phone"), _s("HomePhone", 40, type="phone"),
        _s("OtherPhone", 40, type="phone"), _s("AssistantPhone", 40, type="phone", label="Asst. Phone"),
        _ref("ReportsToId", ["Contact"], "ReportsTo", "ReportsTo"),
        _s("Email", 80, type="email", id_lookup=True), _s("Title", 128), _s("Department", 80),
        _s("AssistantName", 40, label="Assistant's Name"), _pick("LeadSource", SOURCES),
        _f("Birthdate", "date"), _s("Description", 32000, type="textarea", label="Contact Description"),
        _currency(), _owner(children="Contacts"), _bool("HasOptedOutOfEmail", label="Email Opt Out"),
        _bool("DoNotCall"), *_audit_fields(), _ro(_f("LastActivityDate", "date")),
        _ro(_s("EmailBouncedReason", 255)), _ro(_f("EmailBouncedDate", "datetime")),
        _s("ERP_Contact_No__c", 10, label="ERP Contact No", external_id=True, unique=True, id_lookup=True),
    ))


def _lead() -> SObject:
    return SObject("Lead", "Lead", "Leads", "00Q", mergeable=True, fields=(
        _id_field("Lead"), _is_deleted(), _master("Lead"), *_person_name(),
        _s("Title", 128), _s("Company", 255, nillable=False),
        *_address("", ""),
        _s("Phone", 40, type="phone"), _s("MobilePhone", 40, type="phone"), _s("Fax", 40, type="phone"),
        _s("Email", 80, type="email", id_lookup=True), _s("Website", 255, type="url"),
        _s("Description", 32000, type="textarea"), _pick("LeadSource", SOURCES),
        _pick("Status", LEAD_STATUSES, default="Open - Not Contacted", nillable=False, restricted_picklist=True),
        _pick("Industry", INDUSTRIES), _pick("Rating", RATINGS),
        _num("AnnualRevenue", "currency", 18, 0), _num("NumberOfEmployees", "int", 8, label="Employees"),
        _currency(), _owner(("Group", "User"), children="Leads"),
        _bool("HasOptedOutOfEmail", label="Email Opt Out"), _ro(_bool("IsConverted", label="Converted")),
        _ro(_f("ConvertedDate", "date")),
        _ro(_ref("ConvertedAccountId", ["Account"], "ConvertedAccount", "ConvertedLeads")),
        _ro(_ref("ConvertedContactId", ["Contact"], "ConvertedContact", "ConvertedLeads")),
        _ro(_ref("ConvertedOpportunityId", ["Opportunity"], "ConvertedOpportunity", "ConvertedLeads")),
        _bool("IsUnreadByOwner", label="Unread By Owner"), _bool("DoNotCall"),
        *_audit_fields(), _ro(_f("LastActivityDate", "date")),
    ))


def _opportunity() -> SObject:
    return SObject("Opportunity", "Opportunity", "Opportunities", "006", fields=(
        _id_field("Opportunity"), _is_deleted(), _ref("AccountId", ["Account"], "Account", "Opportunities"),
        _bool("IsPrivate", label="Private"), _s("Name", 120, nillable=False, name_field=True),
        _s("Description", 32000, type="textarea"),
        _pick("StageName", OPPORTUNITY_STAGES, label="Stage", nillable=False, restricted_picklist=True),
        _num("Amount", "currency", 18, 2), _num("Probability", "percent", 3, 0, label="Probability (%)"),
        _ro(_num("ExpectedRevenue", "currency", 18, 2, label="Expected Amount", calculated=True,
                 formula="Amount * Probability / 100")),
        _num("TotalOpportunityQuantity", "double", 18, 2, label="Quantity"),
        _f("CloseDate", "date", nillable=False),
        _pick("Type", ("Existing Customer - Upgrade", "Existing Customer - Replacement",
                       "Existing Customer - Downgrade", "New Customer"), label="Opportunity Type"),
        _s("NextStep", 255), _pick("LeadSource", SOURCES),
        _ro(_bool("IsClosed", label="Closed")), _ro(_bool("IsWon", label="Won")),
        _ro(_pick("ForecastCategory", ("Omitted", "Pipeline", "BestCase", "Forecast", "Closed"),
                  nillable=False, restricted_picklist=True)),
        _pick("ForecastCategoryName", ("Omitted", "Pipeline", "Best Case", "Commit", "Closed"),
              label="Forecast Category", restricted_picklist=True),
        _currency(), _owner(children="Opportunities"), *_audit_fields(), _ro(_f("LastActivityDate", "date")),
        _ro(_num("FiscalQuarter", "int", 11)), _ro(_num("FiscalYear", "int", 11)),
        _ro(_s("Fiscal", 6, label="Fiscal Period")),
        _s("ERP_Order_No__c", 12, label="ERP Order No", external_id=True, unique=True, id_lookup=True),
    ))


_WHAT = ("Account", "Opportunity")
_WHO = ("Contact", "Lead")


def _activity_common(children: str) -> list[SField]:
    return [
        _ref("WhoId", _WHO, "Who", children, label="Name ID"),
        _ref("WhatId", _WHAT, "What", children, label="Related To ID"),
        _s("Subject", 255, type="combobox", picklist_values=tuple(
            PicklistValue(v, v) for v in ("Call", "Send Letter", "Send Quote", "Other"))),
        _ro(_ref("AccountId", ["Account"], "Account", None)),
        _s("Description", 32000, type="textarea"),
    ]


def _task() -> SObject:
    return SObject("Task", "Task", "Tasks", "00T", fields=(
        _id_field("Activity"), *_activity_common("Tasks"),
        _f("ActivityDate", "date", label="Due Date Only"),
        _pick("Status", TASK_STATUSES, default="Not Started", nillable=False, restricted_picklist=True),
        _pick("Priority", ("High", "Normal", "Low"), default="Normal", nillable=False),
        _ro(_bool("IsHighPriority", label="High Priority")),
        _owner(("Group", "User"), children="Tasks"), _is_deleted(), _ro(_bool("IsClosed", label="Closed")),
        *_audit_fields(), _ro(_bool("IsArchived", label="Archived")),
        _num("CallDurationInSeconds", "int", 8, label="Call Duration"),
        _pick("CallType", ("Internal", "Inbound", "Outbound"), length=40),
        _bool("IsReminderSet", label="Reminder Set"), _f("ReminderDateTime", "datetime", label="Reminder Date/Time"),
        _pick("TaskSubtype", ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"),
              updateable=False, restricted_picklist=True),
        _ro(_f("CompletedDateTime", "datetime", label="Completed Date/Time")),
    ))


def _event() -> SObject:
    return SObject("Event", "Event", "Events", "00U", fields=(
        _id_field("Activity"), *_activity_common("Events"), _s("Location", 255),
        _bool("IsAllDayEvent", label="All-Day Event"),
        _f("ActivityDateTime", "datetime", label="Due Date Time"), _f("ActivityDate", "date", label="Due Date Only"),
        _num("DurationInMinutes", "int", 8, label="Duration"),
        _f("StartDateTime", "datetime", label="Start Date Time"), _f("EndDateTime", "datetime", label="End Date Time"),
        _ro(_f("EndDate", "date", label="End Date Only")),
        _owner(("Calendar", "User"), children="Events"), _pick("Type", ("Call", "Email", "Meeting", "Other")),
        _bool("IsPrivate", label="Private"),
        _pick("ShowAs", ("Busy", "OutOfOffice", "Free", "WorkingElsewhere"), default="Busy",
              label="Show Time As", restricted_picklist=True),
        _is_deleted(), *_audit_fields(), _ro(_bool("IsArchived", label="Archived")),
        _pick("EventSubtype", ("Event",), updateable=False, restricted_picklist=True),
    ))


def _user() -> SObject:
    def restricted(name: str, values: Iterable[str], default: str) -> SField:
        return _pick(name, values, default=default, nillable=False, restricted_picklist=True, length=40)

    return SObject("User", "User", "Users", "005", deletable=False, fields=(
        _id_field("User"), _s("Username", 80, nillable=False, unique=True, id_lookup=True),
        *_person_name(), _s("CompanyName", 80), _s("Division", 80), _s("Department", 80), _s("Title", 80),
        *_address("", ""),
        _s("Email", 128, type="email", nillable=False), _s("Phone", 40, type="phone"),
        _s("MobilePhone", 40, type="phone", label="Mobile"), _s("Alias", 8, nillable=False),
        _s("CommunityNickname", 40, label="Nickname", unique=True, defaulted_on_create=True, nillable=False),
        _bool("IsActive", True, label="Active"),
        restricted("TimeZoneSidKey", TIME_ZONES, "Europe/Madrid"), restricted("LocaleSidKey", LOCALES, "es_ES"),
        restricted("EmailEncodingKey", ("UTF-8", "ISO-8859-1"), "UTF-8"),
        restricted("LanguageLocaleKey", LANGUAGES, "en_US"),
        _ro(_pick("UserType", ("Standard", "PowerPartner", "CsnOnly", "Guest"), default="Standard",
                  restricted_picklist=True)),
        _s("EmployeeNumber", 20), _ref("ManagerId", ["User"], "Manager", "ManagedUsers"),
        _ro(_f("LastLoginDate", "datetime")), *_audit_fields(),
    ))


def _group() -> SObject:
    return SObject("Group", "Group", "Groups", "00G", fields=(
        _id_field("Group"), _s("Name", 40, nillable=False, name_field=True),
        _s("DeveloperName", 80, label="Developer Name", nillable=False),
        _ro(_ref("RelatedId", ["User"], "Related", None, label="Related ID")),
        _pick("Type", GROUP_TYPES, nillable=False, restricted_picklist=True, updateable=False, length=40),
        _s("Email", 255, type="email"), _ref("OwnerId", ["Organization", "User"], "Owner", None,
                                             nillable=False, defaulted_on_create=True),
        _bool("DoesSendEmailToMembers", label="Send Email to Members"),
        _bool("DoesIncludeBosses", label="Include Bosses"), *_audit_fields(),
    ))


OBJECTS: dict[str, SObject] = {o.name: o for o in (
    _account(), _contact(), _lead(), _opportunity(), _task(), _event(), _user(), _group()
)}
"""The standard objects, in the order describeGlobal lists them."""


# --------------------------------------------------------------------------------------------------- config

_FIELD_KEYS = frozenset(SField.__dataclass_fields__) - {"name", "type", "picklist_values"}


def field_from_spec(spec: Mapping[str, Any]) -> SField:
    """A field from config: SField's attribute names, plus ``values`` (strings or {value,label,active,default})
    for picklists and ``restricted`` as a short form of ``restricted_picklist``."""
    spec = dict(spec)
    name, type_ = spec.pop("name", None), spec.pop("type", None)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise ConfigurationError(f"custom field needs a valid name, got {name!r}")
    if type_ not in FIELD_TYPES:
        raise ConfigurationError(f"field {name}: type {type_!r} is not one of {sorted(FIELD_TYPES)}")
    values = spec.pop("values", ())
    if "restricted" in spec:
        spec["restricted_picklist"] = bool(spec.pop("restricted"))
    for key in ("reference_to",):
        if key in spec:
            spec[key] = tuple(spec[key])
    unknown = set(spec) - _FIELD_KEYS
    if unknown:
        raise ConfigurationError(f"field {name}: unknown keys {sorted(unknown)}")
    picklist = tuple(
        PicklistValue(v, v) if isinstance(v, str)
        else PicklistValue(v["value"], v.get("label", v["value"]), v.get("active", True), v.get("default", False))
        for v in values
    )
    if type_ == "string" and not spec.get("length"):
        spec["length"] = 255
    spec.setdefault("label", _label(name))
    return SField(name=name, type=type_, picklist_values=picklist, **spec)


def _custom_object(name: str, spec: Mapping[str, Any], fields: list[SField]) -> SObject:
    prefix = spec.get("key_prefix")
    if not isinstance(prefix, str) or len(prefix) != 3:
        raise ConfigurationError(f"custom object {name} needs a 3-character key_prefix")
    label = spec.get("label", _label(name))
    standard = [_id_field(label), _is_deleted(), _s("Name", 80, label=f"{label} Name", nillable=False,
                                                     name_field=True), _owner(("Group", "User")), *_audit_fields()]
    return SObject(name, label, spec.get("label_plural", label + "s"), prefix, tuple(standard + fields), custom=True)


def extend_objects(spec: Mapping[str, Any], base: Mapping[str, SObject] | None = None) -> dict[str, SObject]:
    """A new object table: ``base`` (default :data:`OBJECTS`) plus what ``spec`` declares.

    ``spec`` maps object names to ``{"fields": [...], "remove_fields": [...]}`` (and for a new custom
    object, whose name must end in ``__c``, also ``key_prefix``, ``label``, ``label_plural``). A field
    whose name already exists replaces it, which is how a type or length change is declared.
    """
    objects = dict(base if base is not None else OBJECTS)
    for name, obj_spec in spec.items():
        new_fields = [field_from_spec(f) for f in obj_spec.get("fields", ())]
        removed = set(obj_spec.get("remove_fields", ()))
        if name not in objects:
            if not name.endswith("__c"):
                raise ConfigurationError(f"unknown standard object {name!r}; custom objects end in __c")
            objects[name] = _custom_object(name, obj_spec, new_fields)
            continue
        obj = objects[name]
        if removed & {"Id", "SystemModstamp"}:
            raise ConfigurationError(f"{name}: Id and SystemModstamp cannot be removed")
        replaced = {f.name: f for f in new_fields}
        kept = [replaced.pop(f.name, f) for f in obj.fields if f.name not in removed]
        objects[name] = replace(obj, fields=tuple(kept + list(replaced.values())))
    return objects
