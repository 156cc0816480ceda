"""What a mapping needs from its caller at run time: the ID cross-reference, the system, the zone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Lookup = Callable[[str, str], "str | None"]
"""(entity, id) -> the other side's id, or None when the cross-reference has no row."""


@dataclass(frozen=True, slots=True)
class MappingContext:
    """Run-time inputs of a mapping: the caller owns the ID cross-reference, mappings stay pure.

    ``lookup(entity, native_id)`` returns the canonical id of a referenced record of this system,
    ``reverse_lookup(entity, canonical_id)`` the native id. ``timezone`` is the zone of naive
    datetimes when neither the transform nor the spec names one. ``on_missing_reference``
    overrides every reference's ``on_missing`` (reconciliation maps records whose parents may not
    be synced yet).
    """

    system: str = ""
    lookup: Lookup | None = None
    reverse_lookup: Lookup | None = None
    timezone: str = "UTC"
    on_missing_reference: Literal["reject", "null", "keep"] | None = None
    tzinfo: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "tzinfo", ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
