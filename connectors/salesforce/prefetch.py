"""One page ahead: fetch the next page in a background thread while the caller works on this one.

Salesforce answers a page in tens to hundreds of milliseconds and the caller spends about as long
turning it into records and handing them on; overlapping the two is where a single stream's read
time goes. Still one request in flight at a time, each retried on its own by the policy, so a
failed page is fetched again from the URL or locator in hand. Errors reach the caller in order,
after the pages fetched before them; a caller that stops early stops the fetching too.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def ahead(pages: Iterator[T], enabled: bool = True) -> Iterator[T]:
    """``pages``, with the next one fetched while the current one is being used."""
    if not enabled:
        yield from pages
        return
    handoff: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                if not _offer(handoff, (page, None), stop):
                    return
            _offer(handoff, (_DONE, None), stop)
        except BaseException as exc:  # handed to the caller's thread, which raises it
            _offer(handoff, (_DONE, exc), stop)
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="salesforce-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            page, error = handoff.get()
            if error is not None:
                raise error
            if page is _DONE:
                return
            yield page  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


def _offer(handoff: queue.Queue[tuple[object, BaseException | None]], item: tuple[object, BaseException | None],
           stop: threading.Event) -> bool:
    """Put ``item`` unless the caller has gone; False when it has."""
    while not stop.is_set():
        try:
            handoff.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False
