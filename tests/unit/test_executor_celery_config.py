"""The Celery settings crmsync runs with: each one closes a way the defaults lose or duplicate a partition."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from orchestrator.config.models import ProjectConfig
from orchestrator.executors import ExecutionSettings
from orchestrator.executors.celery.settings import CelerySettings, celery_config, check_slice
from orchestrator.executors.context import ProjectContext

SETTINGS = CelerySettings(broker_url=SecretStr("amqp://u:p@rabbit:5672//"), queue="q.sync", recon_queue="q.recon")


def test_the_mandatory_settings_of_the_reference_are_all_set() -> None:
    conf = celery_config(SETTINGS, ExecutionSettings(slice_seconds=300, lease_ttl_s=60))
    assert conf["task_acks_late"] is True  # ack after the state store committed
    assert conf["task_reject_on_worker_lost"] is True  # a SIGKILLed pool process: requeue, never ack
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["task_default_queue_type"] == "quorum"
    assert conf["broker_transport_options"]["confirm_publish"] is True
    assert conf["broker_transport_options"]["visibility_timeout"] >= 3600  # Redis: longer than any delivery
    assert conf["worker_cancel_long_running_tasks_on_connection_loss"] is True
    assert conf["result_backend"] is None and conf["task_ignore_result"] is True
    assert conf["task_soft_time_limit"] == 300 + 2 * 60 < conf["task_time_limit"]
    assert conf["task_default_exchange_type"] == "topic"  # delayed retries on quorum queues need a topic exchange


def test_a_slice_too_long_for_the_brokers_consumer_timeout_is_refused() -> None:
    check_slice(SETTINGS, ExecutionSettings(slice_seconds=600, lease_ttl_s=60))  # 12 min < 15 min: fine
    with pytest.raises(ValueError, match="consumer_timeout"):
        check_slice(SETTINGS, ExecutionSettings(slice_seconds=900, lease_ttl_s=60))


def test_queues_are_quorum_with_a_delivery_limit_and_a_dead_letter_queue() -> None:
    from orchestrator.executors.celery.app import dead_letter_queue, queues

    sync, recon = queues(SETTINGS)
    assert (sync.name, recon.name) == ("q.sync", "q.recon") and sync.exchange.type == "topic"
    assert sync.queue_arguments == {"x-queue-type": "quorum", "x-delivery-limit": 10,
                                    "x-dead-letter-exchange": "crmsync.dead",
                                    "x-dead-letter-routing-key": "q.sync.dead"}
    assert dead_letter_queue(SETTINGS).name == "q.sync.dead"


def test_the_app_registers_the_partition_and_reaper_tasks_without_touching_the_broker() -> None:
    from orchestrator.executors.celery.app import REAP_TASK, SYNC_TASK, make_app

    context = ProjectContext(ProjectConfig.model_validate({"version": 1}), ExecutionSettings())
    backend = make_app(SETTINGS, context)
    assert {SYNC_TASK, REAP_TASK} <= set(backend.app.tasks)
    assert backend.app.conf.task_acks_late is True and [q.name for q in backend.app.conf.task_queues] == [
        "q.sync", "q.recon"]


def test_the_base_install_never_imports_celery() -> None:
    code = ("import sys, orchestrator.cli, orchestrator.executors, orchestrator.executors.celery.settings; "
            "assert 'celery' not in sys.modules, 'celery imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_compose_workers_run_a_real_crmsync_worker_command() -> None:
    root = Path(__file__).resolve().parents[2]
    services = yaml.safe_load((root / "docker" / "compose.yaml").read_text())["services"]
    command = services["worker"]["command"]
    assert command[0] == "worker" and "CRMSYNC_BROKER_URL" in services["worker"]["environment"]
    crmsync = Path(sys.executable).with_name("crmsync")
    help_text = subprocess.run([str(crmsync), "worker", "--help"], capture_output=True, text=True,
                               env={"COLUMNS": "200", "PATH": str(crmsync.parent)}).stdout
    assert all(flag in help_text for flag in command if flag.startswith("--"))
    assert services["worker"]["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}
