"""Is a value the mapper refused really invalid, or only written in a way the mapping did not expect?

The canonical schema wants E.164 phones and ISO country codes; mappings parse what they can with the
region their spec names. A German lead's "089 40404407" under a spec whose region is ES, or an ERP
customer's "España", is refused although it is a perfectly good value written nationally. Those are
formatting-only and never findings. A value is judged formatting-only when it parses as a valid
phone in the region of the record's own country or of its counterpart's number, or when the
normalisers resolve it (country aliases) or make it equal to the counterpart's value.
"""

from __future__ import annotations

import phonenumbers

from mappings import validation
from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.finding import Finding
from orchestrator.reconcile.normalise import Normalisers, country
from orchestrator.reconcile.records import CRecord, Rejection

COUNTRY_FIELDS = ("country", "billing_address.country", "mailing_address.country", "shipping_address.country")


def _regions(path: str, record: CRecord | None, other: CRecord | None, norm: Normalisers) -> list[str]:
    regions = []
    theirs = other.get(path) if other is not None else None
    if isinstance(theirs, str):
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(theirs, None))
        except phonenumbers.NumberParseException:
            region = None
        if region:
            regions.append(region)
    for candidate in (record, other):
        for field in COUNTRY_FIELDS:
            code = country(candidate.get(field), norm.config) if candidate is not None else None
            if code and len(code) == 2 and code.upper() not in regions:
                regions.append(code.upper())
    return regions


def _phone_ok(raw: str, regions: list[str]) -> bool:
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    return any(validation.normalise_phone(text, region) is not None for region in regions)


def formatting_only(finding: Finding, rejection: Rejection, record: CRecord | None, other: CRecord | None,
                    norm: Normalisers) -> bool:
    if finding.code is not FindingCode.INVALID_VALUE or not finding.fields:
        return False
    path = finding.fields[0]
    raw = rejection.native_values.get(path)
    if not isinstance(raw, str) or not raw.strip():
        return False
    reason = finding.detail.get("reason")
    if reason == "unparseable_phone":
        return _phone_ok(raw, _regions(path, record, other, norm))
    if reason == "invalid_country":
        code = country(raw, norm.config)
        return bool(code) and len(str(code)) == 2 and validation.country_code(str(code)) is not None
    theirs = other.get(path) if other is not None else None
    return isinstance(theirs, str) and norm(path, raw) == norm(path, theirs)
