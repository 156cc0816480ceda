"""``python -m bench [NAME ...]``: run every benchmark (bench/bench_*.py) or the named ones."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = argv or sorted(p.stem.removeprefix("bench_") for p in here.glob("bench_*.py"))
    failed = 0
    for name in names:
        if not (here / f"bench_{name}.py").exists():
            print(f"bench: no benchmark named {name!r} (bench/bench_{name}.py)", file=sys.stderr)
            return 2
        module = importlib.import_module(f"bench.bench_{name}")
        failed += 1 if module.main() else 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
