"""Executors: where a sync's partitions run.

``local`` (the default, nothing to install) runs everything in this process; ``celery`` publishes
partition slices to RabbitMQ for ``crmsync worker`` processes on any number of hosts. Both plan
runs with ``planner.plan_run`` and work slices with ``slices.work_slice``; the state store is the
single source of truth for leases, cursors and partition status.
"""

from orchestrator.executors.base import ExecutionSettings, Publisher, RunRequest, SliceTask
from orchestrator.executors.local import LocalExecutor

EXECUTORS = ("local", "celery")

__all__ = ["EXECUTORS", "ExecutionSettings", "LocalExecutor", "Publisher", "RunRequest", "SliceTask"]
