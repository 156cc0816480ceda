"""File-system errors translated once, and the record errors a bad line becomes.

Codes of bad input are stable (``bad_csv_line``, ``bad_json_line``, ``not_an_object``,
``undecodable``, ``record_too_large``); a record error names its line and carries the raw line
(undecodable bytes as ``\\xNN``) as payload for quarantine, never in its message.
"""

from __future__ import annotations

import errno

from connectors.errors import ConfigurationError, ConnectorError, RecordError, RetryableError, StreamError
from connectors.files.lines import Line

RETRYABLE_ERRNOS = {errno.EIO, errno.EAGAIN, errno.EINTR, errno.ESTALE, errno.ETIMEDOUT, errno.EBUSY}
CONFIG_ERRNOS = {errno.ENOENT, errno.EACCES, errno.EPERM, errno.EISDIR, errno.ENOTDIR, errno.EROFS, errno.ENAMETOOLONG}


def translate(exc: OSError, action: str) -> ConnectorError:
    """What the caller should do about an OSError while ``action`` (which names the file)."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in CONFIG_ERRNOS:
        return ConfigurationError(f"{action}: {reason}")
    if exc.errno in RETRYABLE_ERRNOS:
        return RetryableError(f"{action}: {reason}")
    return StreamError(f"{action}: {reason}")


def line_text(raw: bytes, encoding: str) -> str:
    """A line as text for quarantine: exact where it decodes, ``\\xNN`` where it does not."""
    return raw.decode(encoding, "backslashreplace")


def bad_line(code: str, message: str, lines: list[Line], encoding: str, path: str) -> RecordError:
    first, last = lines[0], lines[-1]
    where = f"line {first.number}" if first is last else f"lines {first.number}-{last.number}"
    return RecordError(code, f"{path} {where}: {message}", line=first.number,
                       payload=line_text(b"".join(line.raw for line in lines), encoding))
