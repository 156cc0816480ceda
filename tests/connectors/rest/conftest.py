"""A local in-house API for the REST connector's tests: 127.0.0.1, port 0, in a thread.

One collection served four ways (page numbers, offsets, cursor tokens, Link headers), filtered by
``updated_since`` (inclusive) and sorted by (updated_at, id); record and batch writes; deletes; an
OAuth2 token endpoint; and injected faults (status + headers) at chosen request numbers.
"""

from __future__ import annotations

import base64
import bisect
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

CLIENT_ID, CLIENT_SECRET = "crmsync", "s3cr3t"


def stamp(i: int) -> str:
    """Seven records share each timestamp, so page boundaries fall inside groups of equal values."""
    minutes = i // 7
    return f"2024-01-{1 + minutes // 1440:02d}T{minutes // 60 % 24:02d}:{minutes % 60:02d}:00Z"


@dataclass
class Api:
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: dict[int, tuple[int, dict[str, str]]] = field(default_factory=dict)
    served: int = 0  # requests to /v1, counted from 1
    pages: int = 0
    require_token: bool = False
    tokens: set[str] = field(default_factory=set)
    issued: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _sorted: list[dict[str, Any]] | None = None
    _stamps: list[str] = field(default_factory=list)

    def seed(self, n: int) -> Api:
        self.rows = {str(i): {"id": i, "name": f"Contact {i}", "updated_at": stamp(i)} for i in range(n)}
        self._sorted = None
        return self

    def listing(self, since: str | None) -> list[dict[str, Any]]:
        with self.lock:
            if self._sorted is None:
                self._sorted = sorted(self.rows.values(), key=_order)
                self._stamps = [r["updated_at"] for r in self._sorted]
            rows, stamps = self._sorted, self._stamps
        return rows[bisect.bisect_left(stamps, since):] if since else rows

    def put(self, key: str, record: dict[str, Any]) -> bool:
        with self.lock:
            created = key not in self.rows
            self.rows[key] = {**self.rows.get(key, {}), **record}
            self._sorted = None
            return created

    def delete(self, key: str) -> bool:
        with self.lock:
            self._sorted = None
            return self.rows.pop(key, None) is not None


def _order(record: dict[str, Any]) -> tuple[str, int, str]:
    key = record["id"]
    return (record["updated_at"], key if isinstance(key, int) else 0, str(key))


def invalid(record: dict[str, Any]) -> bool:
    return "email" in record and "@" not in str(record["email"])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    api: Api

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response_only(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "Date" not in (headers or {}):
            self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else None

    def _gate(self) -> bool:
        """Faults and auth; True when the request may proceed."""
        with self.api.lock:
            self.api.served += 1
            fault = self.api.faults.pop(self.api.served, None)
        if fault is not None:
            self._reply(fault[0], {"error": {"code": "INJECTED"}}, fault[1])
            return False
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.api.require_token and token not in self.api.tokens:
            self._reply(401, {"error": "invalid_token"})
            return False
        return True

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if not url.path.startswith("/v1/") or not self._gate():
            return
        rows = self.api.listing(query.get("updated_since"))
        self.api.pages += 1
        style = url.path.removeprefix("/v1/")
        if style == "paged":
            size, page = int(query["per_page"]), int(query["page"])
            self._reply(200, {"data": rows[(page - 1) * size: page * size], "page": page})
        elif style == "offset":
            offset, limit = int(query["offset"]), int(query["limit"])
            self._reply(200, {"data": rows[offset: offset + limit]})
        elif style == "cursor":
            at = int(base64.b64decode(query["cursor"])) if "cursor" in query else 0
            limit = int(query["limit"])
            more = at + limit < len(rows)
            token = base64.b64encode(str(at + limit).encode()).decode() if more else None
            self._reply(200, {"data": rows[at: at + limit], "meta": {"next": token}})
        elif style == "linked":
            size, page = int(query["per_page"]), int(query.get("page", 1))
            headers = {}
            if page * size < len(rows):
                since = f"&updated_since={query['updated_since']}" if "updated_since" in query else ""
                host = f"http://{self.headers['Host']}"
                headers["Link"] = f'<{host}/v1/linked?per_page={size}&page={page + 1}{since}>; rel="next"'
            self._reply(200, rows[(page - 1) * size: page * size], headers)
        else:
            self._reply(404, {"error": {"code": "NOT_FOUND"}})

    def do_PUT(self) -> None:
        if not self._gate():
            return
        key = unquote(urlsplit(self.path).path.rsplit("/", 1)[1])
        record = self._body()
        if invalid(record):
            self._reply(422, {"error": {"code": "INVALID_EMAIL", "message": f"bad value {record['email']}"}})
            return
        self._reply(201 if self.api.put(key, record) else 200, {"id": key})

    def do_POST(self) -> None:
        if self.path == "/oauth/token":
            self._token()
            return
        if not self._gate():
            return
        results = []
        for record in self._body()["records"]:
            if invalid(record):
                results.append({"error": {"code": "INVALID_EMAIL", "fields": ["email"]}})
            else:
                results.append({"id": str(record["id"]), "created": self.api.put(str(record["id"]), record)})
        self._reply(200, {"results": results})

    def do_DELETE(self) -> None:
        if not self._gate():
            return
        key = unquote(urlsplit(self.path).path.rsplit("/", 1)[1])
        self._reply(204 if self.api.delete(key) else 404)

    def _token(self) -> None:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        if self.headers.get("Authorization") != expected or form.get("grant_type") != ["client_credentials"]:
            self._reply(401, {"error": "invalid_client"})
            return
        with self.api.lock:
            self.api.issued += 1
            token = f"token-{self.api.issued}"
            self.api.tokens.add(token)
        self._reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})


@dataclass
class Server:
    api: Api
    url: str


def serve(api: Api) -> Iterator[Server]:
    handler = type("BoundHandler", (Handler,), {"api": api})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(api, f"http://127.0.0.1:{httpd.server_address[1]}")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture(scope="session")
def big_api() -> Iterator[Server]:
    """50,000 contacts, read-only; tests reset its counters and faults."""
    yield from serve(Api().seed(50_000))


@pytest.fixture
def api() -> Iterator[Server]:
    """A small writable API of its own."""
    yield from serve(Api())


@pytest.fixture
def client_credentials() -> tuple[str, str]:
    """What the token endpoint accepts."""
    return CLIENT_ID, CLIENT_SECRET
