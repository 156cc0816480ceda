"""Match keys: the ID cross-reference, external ids and natural keys, each normalised the same way on both sides.

A natural key is a tuple of normalised components; a record missing any component has no key for that
rule (two records without an email never match "by email").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.reconcile.normalise import id_key
from orchestrator.reconcile.records import CRecord

LINK = "link"
"""``CRecord.native`` key of the value a record holds of its counterpart's native key."""

EXTERNAL_IDS: dict[str, tuple[str, ...]] = {
    "Account": ("account_number",),
    "Contact": ("external_ref",),
    "Opportunity": ("order_number",),
}
"""Canonical fields that carry the in-house business key (ERP cust_no, contact no, order no)."""

DEFAULT_NATURAL: dict[str, tuple[tuple[str, ...], ...]] = {
    "Account": (("domain", "name"),),
    "Contact": (("email",),),
    "Lead": (("email",),),
    "User": (("email",),),
}

_LEGAL_FORMS = re.compile(
    r"\b(gmbh|ag|kg|ohg|se|sa|s\.a|sl|s\.l|slu|sas|sarl|srl|spa|s\.p\.a|bv|b\.v|nv|n\.v|ltd|limited|plc|llc|"
    r"inc|incorporated|corp|corporation|co|company|oy|ab|as|aps)\b\.?")
_NON_WORD = re.compile(r"[^\w]+")


def name_key(value: Any) -> str | None:
    """A company or person name with case, accents, punctuation and legal forms removed."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode().casefold()
    text = _LEGAL_FORMS.sub(" ", text.replace("&", " and "))
    words = _NON_WORD.sub(" ", text).split()
    return " ".join(words) or None


_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?(?://)?(?:[^@/?#]*@)?([^/:?#\s]*)")


def host_of(text: str) -> str:
    """The host part of a URL or bare domain, lower-cased (a regex: urllib's urlsplit is the slow part here)."""
    match = _HOST.match(text.strip().casefold())
    return match.group(1) if match else ""


def domain_key(value: Any) -> str | None:
    """The registrable host of a website, domain or email address, without www."""
    if value is None:
        return None
    text = str(value)
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    host = host_of(text).removeprefix("www.").rstrip(".")
    return host or None


def email_key(value: Any) -> str | None:
    return str(value).strip().casefold() or None if value is not None else None


def ext_key(value: Any) -> str | None:
    """External ids compare trimmed and case-insensitively; leading zeros are significant."""
    if value is None:
        return None
    text = str(value).strip().casefold()
    return text or None


def _text_key(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split()).casefold()
    return text or None


COMPONENT_KEYS: dict[str, Callable[[Any], str | None]] = {
    "name": name_key, "company": name_key, "last_name": name_key, "first_name": name_key,
    "domain": domain_key, "website": domain_key, "email": email_key, "account_number": ext_key,
    "external_ref": ext_key, "order_number": ext_key, "vat_number": ext_key,
}


def component(record: CRecord, path: str) -> str | None:
    """One normalised natural-key component; ``domain`` falls back to the website, then the email."""
    value = record.get(path)
    if path == "domain" and value is None:
        value = record.get("website") or record.get("email")
    return COMPONENT_KEYS.get(path.rsplit(".", 1)[-1], _text_key)(value)


@dataclass(frozen=True, slots=True)
class MatchRule:
    """One step of the matching cascade; ``fields`` are canonical paths whose keys must all be present."""

    name: str  # xref, link:<system>, external_id:<field>, natural:<a+b>
    fields: tuple[str, ...] = ()
    holder: str | None = None  # link rules: the system whose records hold the other system's key

    def key(self, record: CRecord) -> str | None:
        if self.name == "xref":
            return record.canonical_id
        if self.holder is not None:  # the holder's link value meets the other system's own key
            value = record.native.get(LINK) if record.system == self.holder else record.key
            return id_key(value)
        parts = []
        for path in self.fields:
            part = component(record, path)
            if part is None:
                return None
            parts.append(part)
        return "\x1f".join(parts)


def cascade(entity: str, natural: Mapping[str, Sequence[Any]] | None = None,
            link_holders: Sequence[str] = ()) -> list[MatchRule]:
    """The rules for an entity in order: ID cross-reference, links (a system's field holding the other's
    key, like the ERP's sf_account_id), external ids, then natural keys."""
    rules = [MatchRule("xref")]
    rules += [MatchRule(f"link:{system}", holder=system) for system in link_holders]
    rules += [MatchRule(f"external_id:{f}", (f,)) for f in EXTERNAL_IDS.get(entity, ())]
    for fields in natural_rules(entity, natural):
        rules.append(MatchRule("natural:" + "+".join(fields), fields))
    return rules


def natural_rules(entity: str, natural: Mapping[str, Sequence[Any]] | None) -> tuple[tuple[str, ...], ...]:
    """Config ``match: {Account: [domain, name]}`` is one rule of two fields; a list of lists is several."""
    chosen = (natural or {}).get(entity)
    if chosen is None:
        return DEFAULT_NATURAL.get(entity, ())
    if all(isinstance(f, str) for f in chosen):
        return (tuple(chosen),) if chosen else ()
    return tuple((f,) if isinstance(f, str) else tuple(f) for f in chosen)
