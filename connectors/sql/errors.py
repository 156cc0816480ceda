"""Driver errors (psycopg, PyMySQL, sqlite3) translated once onto connectors.errors.

Row-level failures (SQLSTATE classes 22 and 23 and their MySQL/SQLite equivalents) become a
``RecordError`` whose code is the PostgreSQL condition name (one vocabulary for every dialect) and
whose message names the constraint, column and native code, never the value: driver messages such
as "invalid input syntax for type integer: "abc"" quote values, so they are never passed on.
Everything else becomes the error that says what the caller should do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc as sa_exc

from connectors.errors import (
    AuthenticationError,
    ConfigurationError,
    ConnectorError,
    RecordError,
    RetryableError,
    StreamError,
)

# SQLSTATE -> PostgreSQL condition name, for the row-level classes (22: data, 23: integrity).
RECORD_SQLSTATES = {
    "23502": "not_null_violation",
    "23503": "foreign_key_violation",
    "23505": "unique_violation",
    "23514": "check_violation",
    "23P01": "exclusion_violation",
    "22001": "string_data_right_truncation",
    "22003": "numeric_value_out_of_range",
    "22007": "invalid_datetime_format",
    "22008": "datetime_field_overflow",
    "22012": "division_by_zero",
    "22021": "character_not_in_repertoire",
    "22P02": "invalid_text_representation",
    "22P05": "untranslatable_character",
}
# Transient server states: retrying the same statement later may succeed.
RETRYABLE_SQLSTATE_PREFIXES = ("08", "40", "53", "57P", "55P03", "57014", "HV")
AUTH_SQLSTATE_PREFIXES = ("28",)
CONFIG_SQLSTATES = {"42P01", "42703", "42501", "3D000", "3F000", "42P10", "42704", "42883"}

# MySQL/MariaDB errno -> (condition name, what the message's quoted name is). Why a table: PyMySQL
# exposes no SQLSTATE, and the errno is the stable, documented identifier.
MYSQL_RECORD_ERRNOS: dict[int, tuple[str, str]] = {
    1048: ("not_null_violation", "column"),      # Column 'x' cannot be null
    1364: ("not_null_violation", "field"),       # Field 'x' doesn't have a default value
    1062: ("unique_violation", "key"),           # Duplicate entry '<value>' for key 'name'
    1451: ("foreign_key_violation", "fk"),       # Cannot delete or update a parent row
    1452: ("foreign_key_violation", "fk"),       # Cannot add or update a child row
    3819: ("check_violation", "check"),          # MySQL 8: Check constraint 'c' is violated.
    4025: ("check_violation", "check"),          # MariaDB: CONSTRAINT `c` failed for `db`.`t`
    1406: ("string_data_right_truncation", "column"),
    1264: ("numeric_value_out_of_range", "column"),
    1366: ("invalid_text_representation", "column"),
    1292: ("invalid_datetime_format", "column"),
    1265: ("invalid_text_representation", "column"),  # Data truncated for column (enum, set)
}
MYSQL_RETRYABLE_ERRNOS = {1040, 1053, 1205, 1213, 1927, 2002, 2003, 2006, 2013, 2055, 1159, 1161}
MYSQL_AUTH_ERRNOS = {1044, 1045, 1698, 1227}
MYSQL_CONFIG_ERRNOS = {1046, 1049, 1054, 1109, 1146, 1142, 1143}

SQLITE_RECORD_NAMES = {
    "SQLITE_CONSTRAINT_NOTNULL": "not_null_violation",
    "SQLITE_CONSTRAINT_UNIQUE": "unique_violation",
    "SQLITE_CONSTRAINT_PRIMARYKEY": "unique_violation",
    "SQLITE_CONSTRAINT_CHECK": "check_violation",
    "SQLITE_CONSTRAINT_FOREIGNKEY": "foreign_key_violation",
    "SQLITE_CONSTRAINT_TRIGGER": "integrity_constraint_violation",
    "SQLITE_CONSTRAINT": "integrity_constraint_violation",
    "SQLITE_MISMATCH": "datatype_mismatch",
    "SQLITE_TOOBIG": "string_data_right_truncation",
}
SQLITE_RETRYABLE_NAMES = {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_BUSY_SNAPSHOT", "SQLITE_PROTOCOL"}
SQLITE_CONFIG_NAMES = {"SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_AUTH", "SQLITE_PERM", "SQLITE_NOTADB"}

_MYSQL_QUOTED = re.compile(r"[`']([^`']+)[`']")


@dataclass(frozen=True, slots=True)
class RowFault:
    """What a row-level database error says, values stripped."""

    code: str
    native: str
    constraint: str | None = None
    fields: tuple[str, ...] = ()


def row_fault(exc: BaseException) -> RowFault | None:
    """The row-level meaning of ``exc``, or None when the error is not about one row's data."""
    orig: Any = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc  # COPY raises psycopg errors raw
    if _unbindable(orig):
        return RowFault("invalid_value", f"{type(orig).__name__} binding a value")
    if orig is not None and not isinstance(orig, sa_exc.SQLAlchemyError):
        if _is_psycopg(orig):
            return _pg_fault(orig)
        if type(orig).__module__.startswith("pymysql") and orig.args:
            return _mysql_fault(orig)
        if hasattr(orig, "sqlite_errorname"):
            return _sqlite_fault(orig)
        return None
    if isinstance(exc, sa_exc.StatementError) and isinstance(exc.orig, (TypeError, ValueError)):
        return RowFault("invalid_value", type(exc.orig).__name__)  # a bind processor refused a value
    return None


def _unbindable(orig: Any) -> bool:
    """A value the driver cannot send at all (a dict for a text column): that record's fault.

    psycopg says "cannot adapt/dump", sqlite3 "Error binding parameter", and PyMySQL raises a
    plain TypeError from its escaping code; none of them reaches the server.
    """
    text = str(orig)
    if type(orig).__name__ in ("ProgrammingError", "DataError", "InterfaceError") and (
            text.startswith(("cannot adapt", "cannot dump", "Error binding parameter"))):
        return True
    if isinstance(orig, (TypeError, ValueError)) and orig.__traceback__ is not None:
        frame = orig.__traceback__
        while frame.tb_next is not None:
            frame = frame.tb_next
        return "/pymysql/" in frame.tb_frame.f_code.co_filename
    return False


def _is_psycopg(orig: Any) -> bool:
    return type(orig).__module__.startswith("psycopg")  # PyMySQL errors carry a sqlstate attribute too


def _pg_fault(orig: Any) -> RowFault | None:
    state = orig.sqlstate or ""
    if not state.startswith(("22", "23")):
        return None
    diag = orig.diag
    code = RECORD_SQLSTATES.get(state, "data_exception" if state.startswith("22") else "integrity_constraint_violation")
    fields: tuple[str, ...] = (diag.column_name,) if diag.column_name else ()
    detail = diag.message_detail or ""
    match = re.match(r"Key \(([^)]*)\)=", detail)  # only the column list; the value after '=' is dropped
    if match and not fields:
        fields = tuple(c.strip().strip('"') for c in match.group(1).split(","))
    return RowFault(code, f"SQLSTATE {state}", diag.constraint_name, fields)


def _mysql_fault(orig: Any) -> RowFault | None:
    errno = orig.args[0]
    if errno not in MYSQL_RECORD_ERRNOS:
        return None
    code, names = MYSQL_RECORD_ERRNOS[errno]
    message = str(orig.args[1]) if len(orig.args) > 1 else ""
    quoted = _mysql_names(message, names)
    constraint = quoted if names in ("key", "check", "fk") else None
    fields = (quoted,) if names in ("column", "field") and quoted else ()
    return RowFault(code, f"MySQL error {errno}", constraint, fields)


def _mysql_names(message: str, kind: str) -> str | None:
    """The identifier a MySQL message names, taken from after the value (which is never kept)."""
    anchors = {"column": "column ", "field": "field ", "key": "for key ", "check": "constraint ", "fk": "constraint "}
    at = message.lower().rfind(anchors[kind])
    if at < 0:
        return None
    names = _MYSQL_QUOTED.findall(message[at:].split(" failed")[0].split(" is violated")[0])
    if not names:
        return None
    return names[0] if kind == "fk" else names[-1]  # CONSTRAINT `fk` FOREIGN KEY (`col`) REFERENCES ...


def _sqlite_fault(orig: Any) -> RowFault | None:
    name = getattr(orig, "sqlite_errorname", "")
    if name not in SQLITE_RECORD_NAMES:
        return None
    message = str(orig)
    fields: tuple[str, ...] = ()
    constraint = None
    if ": " in message:  # "NOT NULL constraint failed: t.col" / "CHECK constraint failed: name"
        detail = message.split(": ", 1)[1]
        if name == "SQLITE_CONSTRAINT_CHECK":
            constraint = detail
        else:
            fields = tuple(part.strip().rsplit(".", 1)[-1] for part in detail.split(","))
    return RowFault(SQLITE_RECORD_NAMES[name], name, constraint, fields)


def record_error(fault: RowFault, *, key: str | None, payload: Any) -> RecordError:
    """The quarantine-ready error for one row; the message names constraint and native code only."""
    where = f" (constraint {fault.constraint})" if fault.constraint else ""
    return RecordError(fault.code, f"database rejected the row: {fault.native}{where}",
                       fields=fault.fields, key=key, payload=payload)


def translate(exc: BaseException, action: str) -> ConnectorError:
    """The connector error for a failure that is not about one row; ``action`` says what we did."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, sa_exc.NoSuchTableError):
        return ConfigurationError(f"{action}: table {exc} not found")
    if isinstance(exc, sa_exc.TimeoutError):
        return RetryableError(f"{action}: connection pool timed out", code="pool_timeout")
    if isinstance(exc, (sa_exc.ArgumentError, sa_exc.NoSuchModuleError)):
        return ConfigurationError(f"{action}: {exc}")
    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        return _translate_driver(exc.orig, action, exc.connection_invalidated)
    if _is_psycopg(exc):  # a raw psycopg error from the COPY path
        return _translate_driver(exc, action, False)
    return StreamError(f"{action}: {type(exc).__name__}")


def _translate_driver(orig: Any, action: str, invalidated: bool) -> ConnectorError:
    text = _first_line(orig)
    if _is_psycopg(orig):
        kind = _pg_kind(orig.sqlstate, text, invalidated, type(orig).__name__ in ("OperationalError", "InterfaceError"))
    elif type(orig).__module__.startswith("pymysql"):
        kind = _mysql_kind(orig.args[0] if orig.args and isinstance(orig.args[0], int) else None)
    else:
        kind = _sqlite_kind(getattr(orig, "sqlite_errorname", ""), text)
    cls = {"retry": RetryableError, "auth": AuthenticationError, "config": ConfigurationError}.get(kind, StreamError)
    return cls(f"{action}: {type(orig).__name__}: {text}")


def _pg_kind(state: str | None, text: str, invalidated: bool, operational: bool) -> str:
    if state is None:  # no server answer: a connection failure (retry), else the client refused something
        if not operational:
            return "stream"
        return "auth" if "authentication" in text else "retry"
    if state.startswith(AUTH_SQLSTATE_PREFIXES):
        return "auth"
    if state in CONFIG_SQLSTATES:
        return "config"
    if invalidated or state.startswith(RETRYABLE_SQLSTATE_PREFIXES):
        return "retry"
    return "stream"


def _mysql_kind(errno: int | None) -> str:
    if errno in MYSQL_AUTH_ERRNOS:
        return "auth"
    if errno in MYSQL_CONFIG_ERRNOS:
        return "config"
    if errno is None or errno in MYSQL_RETRYABLE_ERRNOS:
        return "retry"
    return "stream"


def _sqlite_kind(name: str, text: str) -> str:
    if name in SQLITE_RETRYABLE_NAMES:
        return "retry"
    if name in SQLITE_CONFIG_NAMES or text.startswith(("no such table", "no such column")):
        return "config"
    return "stream"


def _first_line(orig: Any) -> str:
    """The driver's headline, bounded; statement parameters are never part of it."""
    return str(orig).strip().splitlines()[0][:200] if str(orig).strip() else type(orig).__name__
