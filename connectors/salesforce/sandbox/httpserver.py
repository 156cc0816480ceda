"""A small threaded HTTP/1.1 server (stdlib ``http.server``) that speaks plain HTTP or TLS and streams bodies.

Why the standard library rather than a WSGI stack: the sandbox must (a) stream large CSV and JSON
bodies in chunks so memory stays flat, (b) drop a connection without answering (a fault clients must
survive), and (c) do the TLS handshake in the worker thread so one slow client never blocks
``accept``. ``BaseHTTPRequestHandler`` gives all three directly; request parsing costs tens of
microseconds, which is noise next to a 2,000-record page.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import structlog

log = structlog.get_logger(__name__)

MAX_BODY = 200 * 1024 * 1024
"""Largest request body accepted (Bulk 2.0 allows 150 MB of CSV per upload)."""


@dataclass
class Request:
    """One parsed request, as handlers see it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    scheme: str
    server_port: int
    params: dict[str, str] = field(default_factory=dict)  # filled by the router from the path pattern

    def header(self, name: str, default: str | None = None) -> str | None:
        value = self.headers.get(name)
        return default if value is None else str(value)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}


@dataclass
class Response:
    """What a handler returns: bytes (sent with Content-Length) or an iterator of chunks (sent chunked)."""

    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str | None = "application/json;charset=UTF-8"
    drop: bool = False  # close the socket without answering (fault injection)

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Response:
        return cls(status, orjson.dumps(value))

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status, b"", content_type=None)


App = Callable[[Request], Response]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "crmsync-sandbox"
    sys_version = ""
    timeout = 300  # idle keep-alive connections are closed after this many seconds
    disable_nagle_algorithm = True  # headers and body are separate writes: Nagle + delayed ACK would stall 40 ms
    server: _HTTPServer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's stderr access log; the app logs structured events."""

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(400, "bad request body")
            return
        parts = urlsplit(self.path)
        scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
        request = Request(
            method=self.command, path=parts.path, query=parse_qs(parts.query, keep_blank_values=True),
            headers=self.headers, body=body, scheme=scheme, server_port=self.server.server_port,
        )
        response = self.server.app(request)
        if response.drop:
            self.close_connection = True
            _hard_close(self.connection)
            return
        self._send(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return b"".join(self._read_chunks())
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _read_chunks(self) -> Iterator[bytes]:
        total = 0
        while True:
            size = int(self.rfile.readline(100).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return
            total += size
            if total > MAX_BODY:
                raise ValueError("body too large")
            yield self.rfile.read(size)
            self.rfile.readline(3)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        if response.content_type and response.status != 204:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers:
            self.send_header(name, value)
        body = response.body
        if self.command == "HEAD":
            self.end_headers()
            return
        if isinstance(body, bytes | bytearray):
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in body:
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")


def _starts_tls(sock: socket.socket) -> bool:
    """Whether the client opened with a TLS handshake record (0x16) rather than an HTTP request line."""
    try:
        sock.settimeout(30)
        first = sock.recv(1, socket.MSG_PEEK)
        sock.settimeout(None)
    except OSError:
        return False
    return first == b"\x16"


def _hard_close(sock: socket.socket) -> None:
    """Close without a response (and, for TLS, without close_notify): the client sees a dropped connection."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App, ssl_context: ssl.SSLContext | None,
                 sniff_tls: bool = False) -> None:
        self.app = app
        self.ssl_context = ssl_context
        self.sniff_tls = sniff_tls
        self.scheme = "https" if ssl_context and not sniff_tls else "http"
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Handshake TLS here, in the worker thread, so ``accept`` never waits on a slow client."""
        conn: socket.socket = request
        if self.ssl_context is not None and (not self.sniff_tls or _starts_tls(conn)):
            try:
                conn.settimeout(30)
                conn = self.ssl_context.wrap_socket(conn, server_side=True)
                conn.settimeout(None)
            except (ssl.SSLError, OSError):
                conn.close()
                return
        with self._open_lock:
            self._open.add(conn)
        try:
            self.RequestHandlerClass(conn, client_address, self)  # type: ignore[arg-type]
        except (ConnectionError, ssl.SSLError, TimeoutError):
            pass
        finally:
            with self._open_lock:
                self._open.discard(conn)
            if conn is not request:
                conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.warning("sandbox.http.handler_error", exc_info=True)

    def close_connections(self) -> None:
        """Shut every open keep-alive connection so its thread ends."""
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            _hard_close(conn)


class HTTPService:
    """One listening socket served by a background thread; ``port`` is known after construction."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0,
                 ssl_context: ssl.SSLContext | None = None, sniff_tls: bool = False) -> None:
        """``sniff_tls`` with a context: plain HTTP and TLS on the same port, told apart by the first byte."""
        self._server = _HTTPServer((host, port), app, ssl_context, sniff_tls)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def scheme(self) -> str:
        return self._server.scheme

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sandbox-{self.scheme}-{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
