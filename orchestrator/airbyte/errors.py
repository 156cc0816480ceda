"""Airbyte's error split for crmsync errors, and logging routed into the protocol.

What the user can fix (bad settings, refused credentials, bad mapping specs) becomes a
``config_error``; a transient fault that outlived its retries a ``transient_error``; anything
else raises on as a ``system_error``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from pydantic import ValidationError

from connectors.errors import AuthenticationError, BudgetExhaustedError, ConfigurationError, RetryableError
from mappings.errors import MappingSpecError
from orchestrator.logging import drop_values

_USER_ERRORS = (ConfigurationError, AuthenticationError, MappingSpecError, ValidationError)
_TRANSIENT = (RetryableError, BudgetExhaustedError)


@contextmanager
def airbyte_errors() -> Iterator[None]:
    """Re-raise crmsync errors as AirbyteTracedException with the right failure type."""
    try:
        yield
    except AirbyteTracedException:
        raise
    except _USER_ERRORS as exc:
        raise _traced(exc, FailureType.config_error) from exc
    except _TRANSIENT as exc:
        raise _traced(exc, FailureType.transient_error) from exc


def _traced(exc: BaseException, failure: FailureType) -> AirbyteTracedException:
    text = str(exc).strip()
    message = text.splitlines()[0] if text else type(exc).__name__
    return AirbyteTracedException(message=message, internal_message=type(exc).__name__, failure_type=failure,
                                  exception=exc)


def route_structlog_to_protocol() -> None:
    """structlog events become stdlib records, which the CDK's root handler emits as LOG messages.

    Without this, connector events would print plain text on stdout, outside the protocol and
    outside the CDK's secret filter (airbyte_source.md, pitfall 4). Record values are dropped.
    """
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            drop_values(False),
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=False,
    )
