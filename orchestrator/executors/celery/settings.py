"""The Celery configuration crmsync runs with, and why each setting is what it is (no celery import here).

Every setting below closes a way Celery's defaults lose or duplicate a partition on RabbitMQ
(see docs/scale-out.md): acknowledge after the state store committed, put back a message whose
pool process died, take one message at a time, quorum queues that survive a broker node, publisher
confirms so a lost publish is an error, no result backend (the state store holds the results).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from orchestrator.executors.base import ExecutionSettings

DEFAULT_BROKER = "amqp://guest:guest@localhost:5672//"


class CelerySettings(BaseModel):
    """Where the broker is and which queues crmsync uses on it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    broker_url: SecretStr = SecretStr(DEFAULT_BROKER)
    queue: str = "crmsync.sync"  # sync partition slices
    recon_queue: str = "crmsync.recon"  # reconciliation partitions (same task pattern)
    exchange: str = "crmsync"  # a topic exchange: Celery's native delayed delivery needs one on quorum queues
    delivery_limit: int = Field(default=10, ge=2)  # broker-side bound on redeliveries of one message
    consumer_timeout_s: float = Field(default=1800.0, gt=0)  # the broker's consumer_timeout (RabbitMQ: 30 min)
    heartbeat_s: float = Field(default=30.0, ge=0)

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.queue}.dead"

    @model_validator(mode="after")
    def _distinct(self) -> CelerySettings:
        if self.queue == self.recon_queue:
            raise ValueError("queue and recon_queue must differ")
        return self


def check_slice(settings: CelerySettings, execution: ExecutionSettings) -> None:
    """A delivery stays unacknowledged for one slice: it must end far below the broker's consumer timeout,
    or RabbitMQ closes the channel and the worker exits (reproduced on 3.10 with a short timeout)."""
    longest = execution.slice_seconds + 2 * execution.lease_ttl_s
    if longest * 2 > settings.consumer_timeout_s:
        raise ValueError(f"slice_seconds ({execution.slice_seconds:g}) plus two lease TTLs must stay under half the "
                         f"broker's consumer_timeout ({settings.consumer_timeout_s:g} s)")


def celery_config(settings: CelerySettings, execution: ExecutionSettings) -> dict[str, Any]:
    """The Celery configuration mapping (``app.conf.update``); queues are added by the app."""
    check_slice(settings, execution)
    soft_limit = execution.slice_seconds + 2 * execution.lease_ttl_s
    return {
        "broker_url": settings.broker_url.get_secret_value(),
        # Acknowledge only after the task returned, i.e. after the state store committed the slice.
        "task_acks_late": True,
        # A pool process killed mid-task (OOM killer, SIGKILL): requeue its message instead of acking it.
        "task_reject_on_worker_lost": True,
        # One unacknowledged message per process: a dying worker strands at most its running slices.
        "worker_prefetch_multiplier": 1,
        # Replicated queues; Celery then uses per-consumer QoS and broker-side delayed delivery.
        "task_default_queue_type": "quorum",
        "worker_detect_quorum_queues": True,
        "broker_transport_options": {
            "confirm_publish": True,  # a publish the broker did not take raises instead of vanishing
            # Redis/SQS only (ignored by RabbitMQ): must outlive one delivery, or a running slice is redelivered.
            "visibility_timeout": max(3600.0, 4 * soft_limit),
        },
        "broker_connection_retry_on_startup": True,
        "broker_heartbeat": settings.heartbeat_s,
        # Lost the broker: stop working slices whose messages the broker is redelivering to others.
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        # The state store holds every result; a result backend would be a second truth.
        "result_backend": None,
        "task_ignore_result": True,
        "task_store_errors_even_if_ignored": False,
        "task_default_queue": settings.queue,
        "task_default_exchange": settings.exchange,
        "task_default_exchange_type": "topic",
        "task_default_routing_key": settings.queue,
        # A slice ends itself after slice_seconds; these only stop a slice stuck in one call.
        "task_soft_time_limit": soft_limit,
        "task_time_limit": soft_limit + 120,
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
        "enable_utc": True,
    }
