"""What every executor shares: the message for one partition slice, how slices are published, the knobs.

A run is planned into partitions (sync x stream x key range or time window) recorded in the state
store; each partition is worked in time slices. A slice is named by a ``SliceTask`` (the whole
message: ids only, the state store holds everything else). Executors differ only in how a task
reaches a worker: a queue in this process (``local``) or a RabbitMQ queue (``celery``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol

Origin = Literal["plan", "continuation", "retry", "wait", "reaper", "release"]


@dataclass(frozen=True, slots=True)
class SliceTask:
    """One slice of one partition: the message a worker receives."""

    run_id: str
    sync: str
    stream: str
    partition: str
    slice: int = 0
    origin: Origin = "plan"  # why it was published: the reaper's copies are told apart in the store

    @property
    def task_id(self) -> str:
        """Deterministic, so a slice published twice is recognisably the same work."""
        return f"{self.run_id}:{self.stream}:{self.partition}:{self.slice}"

    def next(self) -> SliceTask:
        return replace(self, slice=self.slice + 1, origin="continuation")

    def again(self, origin: Origin) -> SliceTask:
        return replace(self, origin=origin)

    def as_kwargs(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "sync": self.sync, "stream": self.stream, "partition": self.partition,
                "slice": self.slice, "origin": self.origin}

    @classmethod
    def from_kwargs(cls, data: dict[str, Any]) -> SliceTask:
        return cls(str(data["run_id"]), str(data["sync"]), str(data["stream"]), str(data["partition"]),
                   int(data.get("slice", 0)), data.get("origin", "plan"))


class Publisher(Protocol):
    """Where slices go. ``publish`` returns only once the message is safely queued (publisher confirms)."""

    def publish(self, task: SliceTask, countdown: float | None = None) -> None: ...

    def queue_is_empty(self) -> bool | None:
        """True when no slice waits in the queue; None when the broker cannot tell."""
        ...


@dataclass(frozen=True, slots=True)
class ExecutionSettings:
    """How slices are worked; the defaults suit production, tests shorten the timers."""

    slice_seconds: float = 300.0  # one delivery works batches this long, then re-enqueues itself
    lease_ttl_s: float = 120.0  # several batch durations; every batch commit renews it
    max_attempts: int = 5  # deliveries of one slice that may start before the partition is failed
    retry_backoff_s: float = 5.0  # after an error, first wait (doubles per attempt, capped)
    retry_backoff_max_s: float = 300.0
    progress_every_s: float = 5.0  # how often a slice writes its progress counts
    reap_grace_s: float | None = None  # a running partition's lease must be expired this long (None: one TTL)
    queued_grace_s: float = 600.0  # a queued partition not picked up for this long, queue empty: lost

    def backoff(self, attempts: int) -> float:
        return min(self.retry_backoff_max_s, self.retry_backoff_s * 2 ** max(0, attempts - 1))

    @property
    def running_grace_s(self) -> float:
        return self.lease_ttl_s if self.reap_grace_s is None else self.reap_grace_s


@dataclass(frozen=True, slots=True)
class RunRequest:
    """How to partition a run (the CLI's options)."""

    partitions: int = 1
    by: Literal["key", "time"] = "key"
    split_points: tuple[str, ...] = ()  # explicit key boundaries: len + 1 partitions
    since: datetime | None = None  # time windows: where to start when the stream has no cursor yet
    stream: str | None = None
    full_refresh: bool = False

    @property
    def single(self) -> bool:
        """One partition per stream: exactly what the local runner does."""
        return self.partitions <= 1 and not self.split_points
