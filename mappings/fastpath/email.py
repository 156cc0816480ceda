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
# An address matches ``local@domain`` with these two exactly when its first "@" splits it into a
# match of each: neither part may contain an "@", so no other split can match.
_LOCAL = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*")
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+{_TLD}")
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
# The domain part as typed -> its lower-case form, or UNSURE: everything decided about a domain
# depends on the domain alone, and exports repeat a handful of domains. Bounded: cleared when full.
_DOMAINS: dict[str, object] = {}
_DOMAINS_MAX = 4096


def normalise(value: str) -> str | object:
    """The address as email-validator would normalise it, or ``UNSURE`` (never a rejection)."""
    if value in _FIXED:
        return value
    local, _, domain = value.partition("@")
    lowered = _DOMAINS.get(domain)
    if lowered is None:
        lowered = _domain(domain)
    if lowered is UNSURE or len(value) > _MAX_ADDRESS:
        return UNSURE
    # Letters and digits in dot-separated runs (most local parts) are a dot-atom; the rest: the pattern.
    if not (local.isascii() and local.replace(".", "a").isalnum() and local[0] != "." and local[-1] != "."
            and ".." not in local) and _LOCAL.fullmatch(local) is None:
        return UNSURE
    if len(local) <= _LONGEST_ROLE and local.lower() in _ROLE_NAMES:
        local = local.lower()
    normal = f"{local}@{lowered}"
    if len(_FIXED) >= _FIXED_MAX:
        _FIXED.clear()
    _FIXED[normal] = None
    return normal


def _domain(domain: str) -> object:
    """The lower-case form of a domain part the fast path accepts, or ``UNSURE``; remembered."""
    lowered: object = UNSURE
    if _DOMAIN.fullmatch(domain) is not None and len(domain) <= _MAX_DOMAIN and "--" not in domain:
        # "--": punycode, R-LDH labels
        lower = domain.lower()
        if lower[lower.rfind(".") + 1:] not in _SPECIAL_LAST_LABELS:
            lowered = lower
    if len(_DOMAINS) >= _DOMAINS_MAX:
        _DOMAINS.clear()
    _DOMAINS[domain] = lowered
    return lowered
