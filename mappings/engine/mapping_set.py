"""All specs of one system: the directory its config names, looked up by native object or entity."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from mappings.canonical import CanonicalRegistry
from mappings.engine.mapper import Mapper
from mappings.errors import MappingSpecError
from mappings.transforms.base import TransformRegistry

SPEC_SUFFIXES = (".yaml", ".yml")


def spec_files(path: Path) -> list[Path]:
    """The spec files of a directory (sorted), or the one file named."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise MappingSpecError("no such mapping file or directory", file=str(path))
    return sorted(p for p in path.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file())


class MappingSet:
    """The mappers of one system, one per native object."""

    def __init__(self, mappers: list[Mapper]) -> None:
        self._by_object: dict[str, Mapper] = {}
        for mapper in mappers:
            other = self._by_object.get(mapper.spec.object)
            if other is not None:
                raise MappingSpecError(f"object {mapper.spec.object!r} is already mapped in {other.file}",
                                       file=mapper.file, line=None, key="object")
            self._by_object[mapper.spec.object] = mapper

    @classmethod
    def load(cls, directory: Path | str, registry: CanonicalRegistry | None = None,
             transforms: TransformRegistry | None = None) -> MappingSet:
        """Load every spec of ``directory``; the first error stops the load (MappingSpecError)."""
        registry = registry or CanonicalRegistry()
        transforms = transforms or TransformRegistry.builtin()
        files = spec_files(Path(directory))
        if not files:
            raise MappingSpecError("no mapping specs (*.yaml) here", file=str(directory))
        return cls([Mapper.load(f, registry, transforms) for f in files])

    def __iter__(self) -> Iterator[Mapper]:
        return iter(self._by_object.values())

    def __len__(self) -> int:
        return len(self._by_object)

    def objects(self) -> list[str]:
        return list(self._by_object)

    def entities(self) -> list[str]:
        return sorted({m.spec.entity for m in self})

    def for_object(self, obj: str) -> Mapper:
        try:
            return self._by_object[obj]
        except KeyError:
            raise KeyError(f"no mapping spec for object {obj!r} (have: {', '.join(self._by_object)})") from None

    def mappers_for_entity(self, entity: str) -> list[Mapper]:
        return [m for m in self if m.spec.entity == entity]

    def for_entity(self, entity: str) -> Mapper:
        """The one mapper of ``entity``; MappingSpecError when several specs map it (use ``route``)."""
        found = self.mappers_for_entity(entity)
        if not found:
            raise KeyError(f"no mapping spec for entity {entity!r}")
        if len(found) > 1:
            names = ", ".join(m.spec.object for m in found)
            raise MappingSpecError(f"entity {entity!r} is mapped by several objects ({names}): route records "
                                   "with MappingSet.route()", key="entity")
        return found[0]

    def route(self, canonical: BaseModel) -> Mapper:
        """The mapper that writes this canonical record: the entity's only one, or the one it selects."""
        entity = getattr(canonical, "entity", type(canonical).__name__)
        found = self.mappers_for_entity(entity)
        if len(found) == 1:
            return found[0]
        chosen = [m for m in found if m.spec.select and m.selects(canonical)]
        if len(chosen) != 1:
            raise KeyError(f"no single mapping spec selects this {entity} ({len(chosen)} match)")
        return chosen[0]
