"""Email normalisation for plain ASCII addresses, provably inside email-validator's accept set.

email-validator (``check_deliverability=False``, default options) accepts an ASCII address whose
local part is an RFC 5322 dot-atom and whose domain is at least two hostname labels ending in a
letter, within the length limits, outside the special-use domains; it returns the local part
unchanged (lower-cased for RFC 2142 role names such as ``info``) and the domain lower-cased by
UTS-46 mapping. This module accepts only addresses that satisfy all of that, with nothing to
decide about IDNA, and answers ``UNSURE`` for everything else, so the caller asks the library.
"""

from __future__ import annotations

import re
from typing import Final

import email_validator
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

UNSURE: Final = object()

_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_TLD = r"(?:[A-Za-z0-9][A-Za-z0-9\-]{0,61})?[A-Za-z]"  # all TLDs end with a letter
_ADDRESS = re.compile(
    rf"([{_ATEXT}]+(?:\.[{_ATEXT}]+)*)@((?:{_LABEL}\.)+{_TLD})"
)
_ROLE_NAMES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_LONGEST_ROLE = max(len(n) for n in _ROLE_NAMES)
# email-validator rejects these domains and their subdomains; read once (the list is the library's).
_SPECIAL_USE = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
_SPECIAL_LAST_LABELS = frozenset(d.rsplit(".", 1)[-1] for d in _SPECIAL_USE)
_MAX_ADDRESS, _MAX_DOMAIN = 254, 253
# Recent results of this function: each is its own normal form (it matches the pattern, its domain
# is lower-case already, role names are lower-case already), so when the canonical model validates
# a value the mapping just produced, the answer is a dictionary hit. Bounded: cleared when full.
_FIXED: dict[str, None] = {}
_FIXED_MAX = 8192


def normalise(value: str) -> str | object:
    """The address as email-validator would normalise it, or ``UNSURE`` (never a rejection)."""
    if value in _FIXED:
        return value
    match = _ADDRESS.fullmatch(value)
    if match is None:
        return UNSURE
    local, domain = match.groups()
    if len(value) > _MAX_ADDRESS or len(domain) > _MAX_DOMAIN or "--" in domain:  # "--": punycode, R-LDH labels
        return UNSURE
    domain = domain.lower()
    if domain[domain.rfind(".") + 1:] in _SPECIAL_LAST_LABELS:
        return UNSURE
    if len(local) <= _LONGEST_ROLE and local.lower() in _ROLE_NAMES:
        local = local.lower()
    normal = f"{local}@{domain}"
    if len(_FIXED) >= _FIXED_MAX:
        _FIXED.clear()
    _FIXED[normal] = None
    return normal
