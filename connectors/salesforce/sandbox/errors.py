"""Salesforce's own error shapes, so clients (and the connector's error table) see exactly what an org sends.

Three shapes exist on the wire (reference §12.1):
- REST and Bulk 2.0: an HTTP status and a JSON **array** ``[{"message", "errorCode", "fields"?}]``;
- OAuth token endpoint: an object ``{"error", "error_description"}``;
- SOAP login: a ``soapenv:Fault`` whose ``sf:exceptionCode`` / ``sf:exceptionMessage`` simple-salesforce reads.
Record-level failures inside composite collections use ``statusCode`` instead of ``errorCode``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import orjson


@dataclass(frozen=True, slots=True)
class FieldError:
    """One validation failure of one record: the code, the sentence and the fields involved."""

    code: str
    message: str
    fields: tuple[str, ...] = ()

    def rest_json(self) -> dict[str, Any]:
        """The REST single-record shape (``errorCode``)."""
        return {"message": self.message, "errorCode": self.code, "fields": list(self.fields)}

    def save_result_json(self) -> dict[str, Any]:
        """The SaveResult shape of composite collections (``statusCode``)."""
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields)}

    def bulk_text(self) -> str:
        """The ``sf__Error`` cell of Bulk 2.0 failedResults: ``CODE:message:fields --``."""
        return f"{self.code}:{self.message}:{','.join(self.fields)} --"


class SalesforceApiError(Exception):
    """An error answered as Salesforce answers it: HTTP status + JSON array of error objects."""

    def __init__(self, status: int, code: str, message: str, fields: Sequence[str] | None = None,
                 headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = tuple(fields) if fields is not None else None
        self.headers = tuple(headers)

    def body(self) -> bytes:
        item: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = list(self.fields)
        return orjson.dumps([item])

    @classmethod
    def from_field_error(cls, err: FieldError, status: int = 400) -> SalesforceApiError:
        return cls(status, err.code, err.message, err.fields)


@dataclass
class RecordErrors(Exception):
    """One record failed validation; ``errors`` are all the reasons found (Salesforce reports them together)."""

    errors: list[FieldError] = field(default_factory=list)

    def as_api_error(self) -> SalesforceApiError:
        return SalesforceApiError.from_field_error(self.errors[0])


class OAuthError(Exception):
    """A refused token request: ``{"error": ..., "error_description": ...}`` with status 400 (401 for clients)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> bytes:
        return orjson.dumps({"error": self.error, "error_description": self.description})


class SoapFault(Exception):
    """A refused SOAP login, rendered as the partner API's LoginFault."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def body(self) -> bytes:
        code, message = escape(self.code), escape(self.message)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:sf="urn:fault.partner.soap.sforce.com" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
            f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {message}</faultstring>"
            f'<detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}</sf:exceptionCode>'
            f"<sf:exceptionMessage>{message}</sf:exceptionMessage></sf:LoginFault></detail>"
            "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
        ).encode()


# The standard sentences, kept in one place so tests and the connector's error table can rely on them.
INVALID_SESSION = "Session expired or invalid"
NOT_FOUND = "The requested resource does not exist"
TOTAL_REQUESTS = "TotalRequests Limit exceeded."
CONCURRENT_LONG_TXN = "ConcurrentPerOrgLongTxn Limit exceeded"
QUERY_TIMEOUT = "Your query request was running for too long."
SERVER_UNAVAILABLE = "Server temporarily unavailable; please try again later."
ROLLED_BACK = "Record rolled back because not all records were valid and the request was using AllOrNone header"


def invalid_session() -> SalesforceApiError:
    return SalesforceApiError(401, "INVALID_SESSION_ID", INVALID_SESSION)


def not_found() -> SalesforceApiError:
    return SalesforceApiError(404, "NOT_FOUND", NOT_FOUND)


def invalid_type(name: str) -> SalesforceApiError:
    """A SOQL query or job naming an object the org does not have (REST resources answer NOT_FOUND)."""
    return SalesforceApiError(
        400, "INVALID_TYPE",
        f"sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure to "
        "append the '__c' after the entity name. Please reference your WSDL or the describe call for the "
        "appropriate names.",
    )


def no_such_column(name: str, obj: str) -> FieldError:
    """INVALID_FIELD for a write naming a field the object does not have."""
    return FieldError("INVALID_FIELD", f"No such column '{name}' on sobject of type {obj}", (name,))


def malformed_id(value: str) -> SalesforceApiError:
    return SalesforceApiError(400, "MALFORMED_ID", f"Id in URL is not valid: {value}")
