"""invalid_value beyond the canonical schema: websites and VAT numbers that cannot be right.

The schema validates emails, phones, countries and currencies (the mapper rejects those). Some
fields are free text there but still have a shape people rely on: a website must be an http(s)
address with a host, a VAT number a known country prefix and that country's pattern. These checks
run on every live record of both systems; their findings carry a reason code like the mapper's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.context import EntityContext
from orchestrator.reconcile.finding import Finding, jsonable
from orchestrator.reconcile.records import CRecord

_HOST = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
VAT_PATTERNS: dict[str, str] = {
    "AT": r"U\d{8}", "BE": r"[01]\d{9}", "BG": r"\d{9,10}", "CY": r"\d{8}[A-Z]", "CZ": r"\d{8,10}",
    "DE": r"\d{9}", "DK": r"\d{8}", "EE": r"\d{9}", "EL": r"\d{9}", "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}", "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}", "HR": r"\d{11}", "HU": r"\d{8}",
    "IE": r"\d[A-Z0-9+*]\d{5}[A-W][A-I]?", "IT": r"\d{11}", "LT": r"\d{9}|\d{12}", "LU": r"\d{8}",
    "LV": r"\d{11}", "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}", "PL": r"\d{10}", "PT": r"\d{9}", "RO": r"\d{2,10}", "SE": r"\d{12}", "SI": r"\d{8}",
    "SK": r"\d{10}", "GB": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}", "XI": r"\d{9}|\d{12}", "CH": r"E\d{9}(?:MWST|TVA|IVA)?",
    "NO": r"\d{9}(?:MVA)?",
}
"""VAT id patterns after the country prefix (the EU VIES formats, plus GB, XI, CH and NO)."""
_VAT = {code: re.compile(f"^(?:{pattern})$") for code, pattern in VAT_PATTERNS.items()}


_URL = re.compile(r"^(?:https?://)?(?:[^@/?#\s]*@)?([^/:?#\s]+)(?::\d{1,5})?(?:[/?#]\S*)?$")


def website_ok(value: str) -> bool:
    """An http(s) address with a real host; no scheme is fine ("www.acme.es"), a broken one ("htp:/") is not."""
    match = _URL.match(value.strip().lower())
    return match is not None and bool(_HOST.match(match.group(1)))


_VAT_SEPARATORS = re.compile(r"[\s.\-]")


def vat_ok(value: str) -> bool:
    text = _VAT_SEPARATORS.sub("", value).upper()
    pattern = _VAT.get(text[:2])
    return pattern is not None and bool(pattern.match(text[2:]))


CHECKS: dict[str, tuple[str, Callable[[str], bool]]] = {
    "website": ("invalid_url", website_ok),
    "vat_number": ("invalid_vat_number", vat_ok),
}


def check(record: CRecord, ctx: EntityContext) -> Iterator[Finding]:
    if record.deleted:
        return
    for path, (reason, ok) in CHECKS.items():
        value = record.values.get(path)
        if isinstance(value, str) and value.strip() and not ok(value):
            yield Finding(
                code=FindingCode.INVALID_VALUE, entity=ctx.entity, records=(record.ref,), fields=(path,),
                values={path: {record.system: jsonable(value)}}, subject=reason,
                message=f"{path}: {reason}", detail={"reason": reason},
            )
