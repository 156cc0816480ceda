"""Maps errors from every layer onto exit codes and one readable sentence."""

from __future__ import annotations

from pydantic import ValidationError

from connectors.errors import BudgetExhaustedError, ConfigurationError, ConnectorError
from mappings.errors import MappingSpecError
from orchestrator.exitcodes import ExitCode


class ConfigError(Exception):
    """A project config error; renders as ``file:line: key: message``."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 key: str | None = None) -> None:
        self.message, self.file, self.line, self.key = message, file, line, key
        super().__init__(str(self))

    def __str__(self) -> str:
        where = (self.file or "crmsync.yaml") + (f":{self.line}" if self.line is not None else "")
        return f"{where}: {self.key + ': ' if self.key else ''}{self.message}"


class PartialRun(Exception):
    """A run finished but not completely (a stream failed, or the API budget stopped it)."""


class ThresholdExceeded(Exception):
    """Reconciliation findings passed the configured thresholds."""


_CODES: list[tuple[type[BaseException], ExitCode]] = [
    (ConfigError, ExitCode.CONFIG),
    (MappingSpecError, ExitCode.CONFIG),
    (ConfigurationError, ExitCode.CONFIG),
    (ValidationError, ExitCode.CONFIG),
    (BudgetExhaustedError, ExitCode.PARTIAL),
    (PartialRun, ExitCode.PARTIAL),
    (ThresholdExceeded, ExitCode.FINDINGS),
    (ConnectorError, ExitCode.FAILED),
]


def _is_usage_error(exc: BaseException) -> bool:
    # typer vendors click, so match click's exceptions by shape: a usage error exits with 2.
    return hasattr(exc, "format_message") and getattr(exc, "exit_code", None) == 2


def exit_code_for(exc: BaseException) -> ExitCode:
    if _is_usage_error(exc):
        return ExitCode.CONFIG
    for kind, code in _CODES:
        if isinstance(exc, kind):
            return code
    return ExitCode.FAILED


def one_line(exc: BaseException) -> str:
    """One sentence for the user; the first line only, never a traceback."""
    if hasattr(exc, "format_message"):
        return str(exc.format_message())
    text = str(exc).strip().splitlines()
    message = text[0] if text else type(exc).__name__
    return message if isinstance(exc, ConfigError | MappingSpecError | ConnectorError) else (
        f"{message} ({type(exc).__name__})")
