"""The sync runner: streams of a sync, batch by batch, from source to target with fenced checkpoints.

``run_sync`` runs one sync on this machine; ``run_partition`` is the unit of work a distributed
executor runs (see partition.py).
"""

from orchestrator.runner.partition import PartitionResult, run_partition
from orchestrator.runner.sync import RunSummary, run_sync

__all__ = ["PartitionResult", "RunSummary", "run_partition", "run_sync"]
