"""The order streams run in: parents before children, so a child's lookups find its parent.

Contacts look up their Account's id through the cross-reference; if both streams ran blind in
parallel, a contact read before its account was synced would miss the reference. The order comes
from what each mapping looks up (``mapper.references``), never from a hand-kept list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from graphlib import CycleError, TopologicalSorter

from orchestrator.errors import ConfigError


def stream_graph(streams: Iterable[str], references: Mapping[str, Iterable[str]]) -> TopologicalSorter[str]:
    """A prepared sorter over ``streams``: each stream waits for the streams it references.

    References to entities outside the sync (owners, say) and to itself (Account.parent_id) do not
    order anything: the first are resolved from whatever the cross-reference holds, the second
    within the stream.
    """
    wanted = list(streams)
    graph: TopologicalSorter[str] = TopologicalSorter()
    for stream in wanted:
        parents = {p for p in references.get(stream, ()) if p in wanted and p != stream}
        graph.add(stream, *sorted(parents))
    try:
        graph.prepare()
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1]) if len(exc.args) > 1 else "?"
        raise ConfigError(f"streams reference each other in a cycle: {cycle}", key="objects") from exc
    return graph


def stream_order(streams: Iterable[str], references: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Streams in waves: every stream of a wave may run once all earlier waves are done."""
    graph = stream_graph(streams, references)
    waves: list[list[str]] = []
    while graph.is_active():
        ready = sorted(graph.get_ready())
        waves.append(ready)
        graph.done(*ready)
    return waves
