"""The narrow surface of the mapping engine the runner relies on, written down as protocols.

The runner needs little: a spec (which system object and canonical entity, which native key),
a native key per record, batch mapping both ways, and the references a mapping resolves. Keeping
it to these few calls lets tests drive the runner with any mapper of the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from mappings.canonical import CanonicalModel
from mappings.errors import RecordRejection


class MapperSpec(Protocol):
    @property
    def object(self) -> str: ...

    @property
    def entity(self) -> str: ...


class Mapper(Protocol):
    @property
    def spec(self) -> Any: ...

    @property
    def references(self) -> Mapping[str, str]: ...

    def native_key(self, record: Mapping[str, Any]) -> str: ...

    def map_batch(self, records: Sequence[Mapping[str, Any]], ctx: Any
                  ) -> tuple[list[tuple[int, CanonicalModel]], list[tuple[int, RecordRejection]]]: ...

    def to_native(self, canonical: CanonicalModel, ctx: Any) -> dict[str, Any]: ...
