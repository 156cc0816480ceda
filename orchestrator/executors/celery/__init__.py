"""The ``celery`` executor: partition slices on RabbitMQ, state in PostgreSQL (``pip install crmsync[celery]``).

Import ``orchestrator.executors.celery.app`` or ``.worker`` only where Celery is wanted: they
import celery. ``settings`` does not, so configuration can be validated without it.
"""
