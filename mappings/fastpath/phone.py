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
from dataclasses import dataclass
from typing import Final

from phonenumbers.phonemetadata import PhoneMetadata, PhoneNumberDesc
from phonenumbers.phonenumberutil import (
    COUNTRY_CODE_TO_REGION_CODE,
    REGION_CODE_FOR_NON_GEO_ENTITY,
    SUPPORTED_REGIONS,
)

UNSURE: Final = object()
"""Returned when the fast path cannot be certain; the caller must ask phonenumbers."""

_MIN_NSN, _MAX_NSN, _MAX_CC_LEN = 2, 17, 3  # phonenumbers' _MIN/_MAX_LENGTH_FOR_NSN, _MAX_LENGTH_COUNTRY_CODE
_SHAPE = re.compile(r"[ ().\-]*(\+?)[0-9 ().\-]*")  # one optional leading plus, ASCII digits and separators
# Any of these types makes a number valid; the order only matters for speed (common types first).
_TYPES = ("fixed_line", "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
          "voicemail")

# _test_number_length results, as in phonenumbers.ValidationResult
_POSSIBLE, _LOCAL_ONLY, _TOO_SHORT, _INVALID_LENGTH, _TOO_LONG = range(5)


def _piece(desc: PhoneNumberDesc | None) -> str | None:
    """Regex for phonenumbers' ``_is_number_matching_desc``: possible lengths and a full match."""
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = tuple(desc.possible_length or ())
    if lengths and all(n < 0 for n in lengths):
        return None  # -1: no number of this type exists
    guard = "(?=(?:" + "|".join(f"[0-9]{{{n}}}" for n in lengths if n >= 0) + r")\Z)" if lengths else ""
    return guard + "(?:" + desc.national_number_pattern + r")\Z"


@dataclass(frozen=True, slots=True)
class _Region:
    """One region's (or non-geographic entity's) metadata, compiled once."""

    country_code: int
    general: re.Pattern[str] | None  # _match_national_number(n, general_desc): full match, no length check
    valid: re.Pattern[str]  # _number_type_helper(n) != UNKNOWN, as one regex
    prefix: re.Pattern[str] | None  # national_prefix_for_parsing
    has_transform: bool  # national_prefix_transform_rule present: left to phonenumbers
    idd: re.Pattern[str]
    leading: re.Pattern[str] | None
    lengths: tuple[int, ...]
    local_lengths: tuple[int, ...]

    @classmethod
    def build(cls, md: PhoneMetadata) -> _Region:
        gen = md.general_desc
        types = [_piece(getattr(md, name)) for name in _TYPES]
        if not md.same_mobile_and_fixed_line_pattern:
            types.append(_piece(md.mobile))
        alternatives = [t for t in types if t is not None]
        general_piece = _piece(gen)
        valid = ("(?!)" if general_piece is None or not alternatives
                 else "(?=" + general_piece + ")(?:" + "|".join(alternatives) + ")")
        return cls(
            country_code=md.country_code,
            general=re.compile("(?:" + gen.national_number_pattern + ")") if gen and gen.national_number_pattern
            else None,
            valid=re.compile(valid),
            prefix=re.compile(md.national_prefix_for_parsing) if md.national_prefix_for_parsing else None,
            has_transform=bool(md.national_prefix_transform_rule),
            idd=re.compile(md.international_prefix if md.international_prefix is not None else "NonMatch"),
            leading=re.compile(md.leading_digits) if md.leading_digits is not None else None,
            lengths=tuple(gen.possible_length or ()) if gen else (),
            local_lengths=tuple(gen.possible_length_local_only or ()) if gen else (),
        )

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

    def strip_national_prefix(self, number: str) -> str | object:
        """phonenumbers' ``_maybe_strip_national_prefix_carrier_code`` without the carrier code."""
        if not number or self.prefix is None:
            return number
        match = self.prefix.match(number)
        if match is None:
            return number
        if self.has_transform:
            return UNSURE
        stripped = number[match.end():]
        if self.general_match(number) and not self.general_match(stripped):
            return number
        return stripped


_REGIONS: dict[str, _Region] = {}
_NON_GEO: dict[int, _Region] = {}
_SINGLE: dict[int, _Region] = {}
_SHARED: dict[int, tuple[tuple[re.Pattern[str] | None, _Region], ...]] = {}


def _region(code: str) -> _Region:
    found = _REGIONS.get(code)
    if found is None:
        md = PhoneMetadata.metadata_for_region(code, None)
        if md is None:  # pragma: no cover - codes come from the library's own tables
            raise LookupError(code)
        found = _REGIONS[code] = _Region.build(md)
    return found


def _main_metadata(country_code: int) -> _Region:
    """``metadata_for_region_or_calling_code(cc, region_code_for_country_code(cc))``."""
    main = COUNTRY_CODE_TO_REGION_CODE[country_code][0]
    if main != REGION_CODE_FOR_NON_GEO_ENTITY:
        return _region(main)
    found = _NON_GEO.get(country_code)
    if found is None:
        md = PhoneMetadata.metadata_for_nongeo_region(country_code, None)
        if md is None:  # pragma: no cover
            raise LookupError(country_code)
        found = _NON_GEO[country_code] = _Region.build(md)
    return found


def _is_valid(country_code: int, nsn: str) -> bool:
    """``is_valid_number``: resolve the region among those sharing the code, then check the type."""
    single = _SINGLE.get(country_code)
    if single is not None:
        return single.valid.match(nsn) is not None
    candidates = _SHARED.get(country_code)
    if candidates is None:
        regions = COUNTRY_CODE_TO_REGION_CODE[country_code]
        if len(regions) == 1:
            _SINGLE[country_code] = _main_metadata(country_code)
            return _is_valid(country_code, nsn)
        candidates = _SHARED[country_code] = tuple((r.leading, r) for r in (_region(code) for code in regions))
    for leading, region in candidates:
        if leading is not None:
            if leading.match(nsn):
                return region.valid.match(nsn) is not None
        elif region.valid.match(nsn) is not None:
            return True
    return False


def _extract_country_code(digits: str) -> tuple[int, str]:
    if not digits or digits[0] == "0":
        return 0, digits
    for size in range(1, min(len(digits), _MAX_CC_LEN) + 1):
        code = int(digits[:size])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            return code, digits[size:]
    return 0, digits


def _international(digits: str) -> tuple[int, _Region, str] | object:
    """Digits after a plus sign or an international dialling prefix."""
    if len(digits) <= _MIN_NSN:
        return UNSURE
    code, rest = _extract_country_code(digits)
    if code == 0:
        return UNSURE
    return code, _main_metadata(code), rest


def _national(digits: str, region: _Region) -> tuple[int, _Region, str] | object:
    """A number without a plus: the IDD, then the default region's country code, then national."""
    idd = region.idd.match(digits)
    if idd is not None:
        rest = digits[idd.end():]
        if rest[:1] != "0":
            return _international(rest)
    code_str = str(region.country_code)
    if digits.startswith(code_str):
        potential = region.strip_national_prefix(digits[len(code_str):])
        if potential is UNSURE:
            return UNSURE
        assert isinstance(potential, str)
        if ((not region.general_match(digits) and region.general_match(potential))
                or region.length_result(digits) == _TOO_LONG):
            code = region.country_code
            return code, _main_metadata(code), potential
    return region.country_code, region, digits


def to_e164(value: str, region: str | None) -> str | None | object:
    """E.164 of ``value`` parsed with ``region`` as phonenumbers would give it, None, or ``UNSURE``."""
    if len(value) > 64 or not value.isascii():
        return UNSURE
    if value.isdigit():  # ASCII, so only 0-9
        digits, plus = value, False
    elif value[:1] == "+" and value[1:].isdigit():
        digits, plus = value[1:], True
    else:
        shape = _SHAPE.fullmatch(value)
        if shape is None:
            return UNSURE
        digits = value.replace(" ", "").replace("(", "").replace(")", "").replace("-", "").replace(".", "")
        digits, plus = digits.replace("+", ""), bool(shape.group(1))
    if len(digits) < 3:
        return UNSURE
    if plus:
        parsed = _international(digits)
    elif region in SUPPORTED_REGIONS:
        parsed = _national(digits, _REGIONS.get(region) or _region(region))  # type: ignore[arg-type]
    else:
        return UNSURE
    if parsed is UNSURE:
        return UNSURE
    code, metadata, nsn = parsed  # type: ignore[misc]
    if len(nsn) < _MIN_NSN:
        return UNSURE
    stripped = metadata.strip_national_prefix(nsn)
    if stripped is UNSURE:
        return UNSURE
    assert isinstance(stripped, str)
    if metadata.length_result(stripped) in (_POSSIBLE, _TOO_LONG):
        nsn = stripped
    if not _MIN_NSN <= len(nsn) <= _MAX_NSN:
        return UNSURE
    return f"+{code}{nsn}" if _is_valid(code, nsn) else None
