"""Phone numbers to E.164 without calling phonenumbers for the common case, with the same answers.

``phonenumbers.parse`` + ``is_valid_number`` + ``format_number`` cost tens of microseconds per
number, mostly in Python-level regex and metadata plumbing, and real exports hold mostly distinct
numbers, so a cache of results does not help. This module replays the library's own algorithm
(parse -> national prefix stripping -> region resolution -> number type check) on precompiled
per-region patterns built from the library's metadata, for inputs made only of ASCII digits,
spaces, ``( ) . -`` and one leading ``+``. For those inputs the library's result depends only on
the digits and the plus sign, which is what makes the replay exact. Anything else (letters,
extensions, unicode digits, regions with national-prefix transform rules, rare branches) returns
``UNSURE`` and the caller asks phonenumbers itself. ``tests/unit/test_mapping_fastpath.py`` checks
the agreement on arbitrary and near-valid strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from phonenumbers.phonemetadata import PhoneMetadata, PhoneNumberDesc
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, SUPPORTED_REGIONS

UNSURE: Final = object()
"""Returned when the fast path cannot be certain; the caller must ask phonenumbers."""
_NON_GEO = "001"  # phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY

_MIN_NSN, _MAX_NSN = 2, 17  # phonenumbers' _MIN_LENGTH_FOR_NSN and _MAX_LENGTH_FOR_NSN
# Any of these types makes a number valid; the order only matters for speed (common types first).
_TYPES = ("fixed_line", "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
          "voicemail")
_NEVER = re.compile("(?!)")
# Country calling codes by their digits; ITU codes are prefix-free, so at most one prefix matches.
_CODES: dict[str, int] = {str(code): code for code in COUNTRY_CODE_TO_REGION_CODE}

# _test_number_length results, as in phonenumbers.ValidationResult
_POSSIBLE, _LOCAL_ONLY, _TOO_SHORT, _INVALID_LENGTH, _TOO_LONG = range(5)


def _accepts_length(desc: PhoneNumberDesc, length: int) -> bool:
    """The length half of phonenumbers' ``_is_number_matching_desc``."""
    lengths = desc.possible_length or ()
    return not lengths or length in lengths


class _Region:
    """One region's (or non-geographic entity's) metadata, compiled once."""

    __slots__ = ("_by_length", "_descs", "_general_desc", "country_code", "general", "has_transform", "idd", "leading",
                 "local_lengths", "lengths", "prefix")

    def __init__(self, md: PhoneMetadata) -> None:
        gen = md.general_desc
        if gen is None:  # pragma: no cover - every region has one
            raise LookupError(md.id)
        self.country_code: int = int(md.country_code or 0)
        self.general = re.compile("(?:" + gen.national_number_pattern + ")") if gen.national_number_pattern else None
        self.prefix = re.compile(md.national_prefix_for_parsing) if md.national_prefix_for_parsing else None
        self.has_transform = bool(md.national_prefix_transform_rule)
        self.idd = re.compile(md.international_prefix if md.international_prefix is not None else "NonMatch")
        self.leading = re.compile(md.leading_digits) if md.leading_digits is not None else None
        self.lengths: tuple[int, ...] = tuple(gen.possible_length or ())
        self.local_lengths: tuple[int, ...] = tuple(gen.possible_length_local_only or ())
        descs = [getattr(md, name) for name in _TYPES]
        if not md.same_mobile_and_fixed_line_pattern:
            descs.insert(1, md.mobile)  # right after fixed lines: most numbers are one or the other
        self._descs = [d for d in descs if d is not None and d.national_number_pattern]
        self._by_length: dict[int, re.Pattern[str]] = {}
        self._general_desc: PhoneNumberDesc = gen

    def valid_pattern(self, length: int) -> re.Pattern[str]:
        """``_number_type_helper(n) != UNKNOWN`` for numbers of one length, as a single regex."""
        found = self._by_length.get(length)
        if found is None:
            gen = self._general_desc
            alternatives = [d.national_number_pattern for d in self._descs if _accepts_length(d, length)]
            if not gen.national_number_pattern or not _accepts_length(gen, length) or not alternatives:
                found = _NEVER
            else:
                found = re.compile("(?=(?:" + gen.national_number_pattern + r")\Z)(?:"
                                   + "|".join("(?:" + a + ")" for a in alternatives) + r")\Z")
            self._by_length[length] = found
        return found

    def general_match(self, number: str) -> bool:
        return self.general is not None and self.general.fullmatch(number) is not None

    def length_result(self, number: str) -> int:
        """phonenumbers' ``_test_number_length`` for the UNKNOWN type (general desc)."""
        n = len(number)
        if n in self.local_lengths:
            return _LOCAL_ONLY
        if not self.lengths:
            return _INVALID_LENGTH
        if self.lengths[0] == n:
            return _POSSIBLE
        if self.lengths[0] > n:
            return _TOO_SHORT
        if self.lengths[-1] < n:
            return _TOO_LONG
        return _POSSIBLE if n in self.lengths[1:] else _INVALID_LENGTH

    def strip_national_prefix(self, number: str) -> str | None:
        """phonenumbers' ``_maybe_strip_national_prefix_carrier_code`` (carrier code dropped).

        None when the region rewrites the prefix with a transform rule: left to phonenumbers.
        """
        if not number or self.prefix is None:
            return number
        match = self.prefix.match(number)
        if match is None:
            return number
        if self.has_transform:
            return None
        stripped = number[match.end():]
        if self.general_match(number) and not self.general_match(stripped):
            return number
        return stripped

    def parse_national(self, nsn: str) -> str | None:
        """The tail of ``parse``: strip the national prefix when the rest has a possible length."""
        if self.prefix is None or self.prefix.match(nsn) is None:
            return nsn
        stripped = self.strip_national_prefix(nsn)
        if stripped is None:
            return None
        return stripped if self.length_result(stripped) in (_POSSIBLE, _TOO_LONG) else nsn


_REGIONS: dict[str, _Region] = {}
_MAIN: dict[int, _Region] = {}


def _region(code: str) -> _Region:
    found = _REGIONS.get(code)
    if found is None:
        md = PhoneMetadata.metadata_for_region(code, None)
        if md is None:  # pragma: no cover - codes come from the library's own tables
            raise LookupError(code)
        found = _REGIONS[code] = _Region(md)
    return found


def _main_metadata(country_code: int) -> _Region:
    """``metadata_for_region_or_calling_code(cc, region_code_for_country_code(cc))``."""
    found = _MAIN.get(country_code)
    if found is None:
        main = COUNTRY_CODE_TO_REGION_CODE[country_code][0]
        if main != _NON_GEO:
            found = _region(main)
        else:
            md = PhoneMetadata.metadata_for_nongeo_region(country_code, None)
            if md is None:  # pragma: no cover
                raise LookupError(country_code)
            found = _Region(md)
        _MAIN[country_code] = found
    return found


def _shared_validator(country_code: int) -> Callable[[str], bool]:
    """``is_valid_number`` for a calling code several regions share: resolve the region, check the type."""
    regions = COUNTRY_CODE_TO_REGION_CODE[country_code]
    candidates = tuple((r.leading, r) for r in (_region(code) for code in regions))

    def shared(nsn: str) -> bool:
        for leading, region in candidates:
            if leading is not None:
                if leading.match(nsn):
                    return region.valid_pattern(len(nsn)).match(nsn) is not None
            elif region.valid_pattern(len(nsn)).match(nsn) is not None:
                return True
        return False
    return shared


Finish = Callable[[str], "str | None | object"]

# Recent E.164 results known to be their own normal form, so ``is_canonical`` answers the model's
# check of a value this module just produced with a dictionary hit. Bounded: cleared when full.
_CANONICAL: dict[str, None] = {}
_CANONICAL_MAX = 32768


def _prefix_free(codes: list[str]) -> bool:
    return not any(a != b and b.startswith(a) for a in codes for b in codes)


# Re-parsing "+<cc><nsn>" finds <cc> again only if no calling code is a prefix of another (ITU codes are not).
_CODES_PREFIX_FREE = _prefix_free(list(_CODES))


def _remember(e164: str) -> None:
    """Record ``e164`` as its own normal form (the caller has proven it: see ``_finisher``)."""
    if len(_CANONICAL) >= _CANONICAL_MAX:
        _CANONICAL.clear()
        for memo in _MEMO.values():  # a memo's answers must stay in _CANONICAL while they are remembered
            memo.clear()
    _CANONICAL[e164] = None


def is_canonical(value: str) -> bool:
    """True when ``value`` was recently produced and proven to be its own E.164 form (else: ask)."""
    return value in _CANONICAL


def _finisher(metadata: _Region, country_code: int) -> Finish:
    """The end of ``parse`` + ``is_valid_number`` + E.164 formatting for one metadata and calling code."""
    prefix = metadata.prefix.match if metadata.prefix is not None else None
    main = _main_metadata(country_code)
    main_prefix = main.prefix.match if main.prefix is not None else None
    parse_national = metadata.parse_national
    single = len(COUNTRY_CODE_TO_REGION_CODE[country_code]) == 1  # one region: its patterns by length
    patterns = [main.valid_pattern(n).match for n in range(_MAX_NSN + 1)] if single else []
    valid = (lambda nsn: False) if single else _shared_validator(country_code)
    plus_code = f"+{country_code}"

    def finish(nsn: str) -> str | None | object:
        if len(nsn) < _MIN_NSN:
            return UNSURE
        if prefix is not None and prefix(nsn) is not None:
            stripped = parse_national(nsn)
            if stripped is None:
                return UNSURE
            nsn = stripped
        if len(nsn) > _MAX_NSN:
            return UNSURE
        if not (patterns[len(nsn)](nsn) is not None if single else valid(nsn)):
            return None
        e164 = plus_code + nsn
        # Remembered when parsing it again must give it back: same calling code (prefix-free codes),
        # no national prefix to strip from ``nsn`` under the code's main region, the same validity.
        # "+<cc><nsn>" is ASCII digits after the plus and cc never starts with 0: E.164's shape is its
        # length.
        if (e164 not in _CANONICAL and _CODES_PREFIX_FREE and 8 <= len(e164) <= 16 and len(nsn) >= _MIN_NSN
                and (main_prefix is None or main_prefix(nsn) is None)):
            _remember(e164)
        return e164
    return finish


_FINISH: dict[tuple[int, int], Finish] = {}


def _finish_for(metadata: _Region, country_code: int) -> Finish:
    key = (id(metadata), country_code)
    found = _FINISH.get(key)
    if found is None:
        found = _FINISH[key] = _finisher(metadata, country_code)
    return found


def _country_code(digits: str) -> int | None:
    """phonenumbers' ``_extract_country_code`` (None where it finds none)."""
    return _CODES.get(digits[:1]) or _CODES.get(digits[:2]) or _CODES.get(digits[:3])


_INTERNATIONAL: dict[int, Finish] = {}


def _international(digits: str) -> str | None | object:
    """Digits after a plus sign or an international dialling prefix (more than two of them)."""
    code = _country_code(digits)
    if code is None:
        return UNSURE
    finish = _INTERNATIONAL.get(code)
    if finish is None:
        finish = _INTERNATIONAL[code] = _finish_for(_main_metadata(code), code)
    return finish(digits[len(str(code)):])


def _national_parser(region: _Region) -> Finish:
    """Digits without a plus in a default region: an IDD prefix, the region's own code, or national."""
    idd = region.idd.match
    code_str = str(region.country_code)
    finish = _finish_for(region, region.country_code)

    def with_own_code(digits: str) -> str | None | object:
        potential = region.strip_national_prefix(digits[len(code_str):])
        if potential is None:
            return UNSURE
        if ((not region.general_match(digits) and region.general_match(potential))
                or region.length_result(digits) == _TOO_LONG):
            return _finish_for(_main_metadata(region.country_code), region.country_code)(potential)
        return finish(digits)

    def national(digits: str) -> str | None | object:
        found = idd(digits)
        if found is not None and digits[found.end():found.end() + 1] != "0":
            rest = digits[found.end():]
            return _international(rest) if len(rest) > _MIN_NSN else UNSURE
        if digits.startswith(code_str):
            return with_own_code(digits)
        return finish(digits)
    return national


_NATIONAL: dict[str, Finish] = {}


def to_e164(value: str, region: str | None) -> str | None | object:
    """E.164 of ``value`` parsed with ``region`` as phonenumbers would give it, None, or ``UNSURE``.

    Only inputs whose parse depends on nothing but their digits and a leading plus are answered:
    ASCII digits, spaces, ``( ) . -`` and one plus sign before the digits.
    """
    memo = _MEMO.get(region)
    if memo is not None:
        found = memo.get(value, UNSURE)
        if found is not UNSURE:
            return found
    found = _parse(value, region)
    if found is not UNSURE:
        if memo is None:
            if region is not None and region not in SUPPORTED_REGIONS:
                return found
            memo = _MEMO[region] = {}
        elif len(memo) >= _MEMO_MAX:
            memo.clear()
        memo[value] = found  # type: ignore[assignment]
    return found


def _parse(value: str, region: str | None) -> str | None | object:
    if len(value) > 64 or not value.isascii():
        return UNSURE
    digits = value.replace(" ", "").replace("-", "").replace("(", "").replace(")", "").replace(".", "")
    if digits.isdigit():  # ASCII, so only 0-9
        if len(digits) < 3:
            return UNSURE
        national = _NATIONAL.get(region)  # type: ignore[arg-type]
        if national is None:
            if region is None or region not in SUPPORTED_REGIONS:
                return UNSURE
            national = _NATIONAL[region] = _national_parser(_region(region))
        return national(digits)
    if digits[:1] == "+" and digits[1:].isdigit():  # the plus came before every digit
        return _international(digits[1:]) if len(digits) > 3 else UNSURE
    return UNSURE


# Answers by the text as typed, one memo per default region (regions phonenumbers supports, and
# None). Real exports repeat numbers: a company's switchboard on every contact of the company, typed
# the same few ways. Bounded: each memo is cleared when full, and all of them whenever _CANONICAL
# is, so that an answer given from a memo is still known to ``is_canonical``.
_MEMO: dict[str | None, dict[str, str | None]] = {}
_MEMO_MAX = 32768
