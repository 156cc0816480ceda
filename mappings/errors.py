"""Errors of the mapping layer: bad specs (before any I/O) and rejected records (field-level)."""

from __future__ import annotations

from dataclasses import dataclass


class MappingSpecError(Exception):
    """A mapping spec is invalid. Raised when specs load, before any I/O.

    Renders as one line: ``file:line: key: message`` so an editor can jump to it.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 key: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.key = key
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or "<mapping>"
        if self.line is not None:
            where += f":{self.line}"
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why one field of a record was rejected: a stable code and the field path, never the value."""

    code: str  # invalid_email, unparseable_phone, unknown_picklist_value, required_missing...
    field: str  # canonical field path (or native field for native-side failures)
    detail: str = ""  # value-free explanation ("expected ISO 3166 code")

    def __str__(self) -> str:
        return f"{self.field}: {self.code}" + (f" ({self.detail})" if self.detail else "")


class RecordRejection(Exception):
    """A record the mapping cannot accept; carries every field-level reason found, not just the first."""

    def __init__(self, reasons: list[Reason], *, key: str | None = None) -> None:
        self.reasons = reasons
        self.key = key
        super().__init__("; ".join(str(r) for r in reasons))

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]
