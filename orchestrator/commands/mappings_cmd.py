"""``crmsync mappings validate [PATH]`` and ``crmsync mappings show SPEC``: check and explain specs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import mappings
from mappings import Mapper, MappingSpecError, TransformRegistry
from mappings.canonical import CanonicalRegistry
from mappings.engine.mapping_set import SPEC_SUFFIXES
from orchestrator.exitcodes import ExitCode

app = typer.Typer(help="Mapping specs.", no_args_is_help=True)
SHIPPED = Path(mappings.__file__).resolve().parent / "specs"


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())
    return [path]


@app.command("validate")
def validate(path: Annotated[Path, typer.Argument(help="A spec file or a directory of specs (searched "
                                                       "recursively); default: the shipped specs.")] = SHIPPED,
             ) -> None:
    """Load every spec: prints OK per file, or the error as file:line: key: message. Exit 2 on any error."""
    if not path.exists():
        typer.echo(f"crmsync: {path}: no such file or directory", err=True)
        raise typer.Exit(ExitCode.CONFIG)
    files = _files(path)
    if not files:
        typer.echo(f"crmsync: {path}: no mapping specs (*.yaml)", err=True)
        raise typer.Exit(ExitCode.CONFIG)
    registry, transforms = CanonicalRegistry(), TransformRegistry.builtin()
    objects: dict[tuple[Path, str], Path] = {}
    failed = 0
    for file in files:
        try:
            mapper = Mapper.load(file, registry, transforms)
            seen = objects.setdefault((file.parent, mapper.spec.object), file)
            if seen != file:
                raise MappingSpecError(f"object {mapper.spec.object!r} is already mapped in {seen}", file=str(file),
                                       key="object")
        except MappingSpecError as exc:
            failed += 1
            typer.echo(str(exc), err=True)
            continue
        spec = mapper.spec
        typer.echo(f"OK {file} ({spec.system_type}:{spec.object} -> {spec.entity}, {len(spec.fields)} fields)")
    if failed:
        raise typer.Exit(ExitCode.CONFIG)


@app.command("show")
def show(spec: Annotated[Path, typer.Argument(help="A spec file.")],
         code: Annotated[bool, typer.Option(help="Print the generated mapping functions.")] = False) -> None:
    """Explain one spec: key, cursor, references, and each field's direction and transforms."""
    mapper = Mapper.load(spec)
    s = mapper.spec
    typer.echo(f"{s.system_type}:{s.object} -> {s.entity}  key={s.key}  cursor={s.cursor or '-'}")
    if mapper.references:
        typer.echo("references: " + ", ".join(f"{k} -> {'/'.join(v)}" for k, v in mapper.reference_targets.items()))
    for field in s.fields:
        names = [t if isinstance(t, str) else next(iter(t)) for t in field.transforms]
        arrow = {"both": "<->", "to_canonical": "<-", "to_native": "->"}[field.direction]
        flags = " ".join(f for f, on in (("required", field.required), ("read_only", field.read_only)) if on)
        typer.echo(f"  {','.join(field.canonical_paths) or '-':32} {arrow} {','.join(field.native_paths) or '-':24}"
                   f" {' | '.join(names)} {flags}".rstrip())
    if code:
        typer.echo(mapper.source)
