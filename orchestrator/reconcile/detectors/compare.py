"""Field comparison of a matched pair, after normalisation: only real differences come out.

Raw values are compared first and normalised only when they differ, so the common case (already
canonical values that agree) costs one equality test per field.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from orchestrator.reconcile.normalise import Normalisers
from orchestrator.reconcile.records import Pair


def differences(pair: Pair, fields: Sequence[str], norm: Normalisers) -> Iterator[tuple[str, Any, Any]]:
    """(field, left value, right value) for each field whose normalised values differ."""
    left, right = pair.left.values, pair.right.values
    for path in fields:
        a, b = left.get(path), right.get(path)
        if a == b:
            continue
        if norm(path, a) != norm(path, b):
            yield path, a, b
