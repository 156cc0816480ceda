"""A local HTTPS ``CONNECT`` proxy that terminates TLS with the sandbox CA and relays to the sandbox.

Clients whose login host is fixed (airbyte's ``https://login.salesforce.com/services/oauth2/token``,
simple-salesforce's ``https://{domain}.salesforce.com``) work unchanged with
``HTTPS_PROXY=http://127.0.0.1:PROXYPORT`` and ``REQUESTS_CA_BUNDLE=<sandbox CA>`` (reference §1.2 A):
the proxy accepts ``CONNECT`` for the Salesforce login hosts and the loopback address, presents a
certificate the CA signed for those names, and relays the decrypted HTTP to the sandbox's plain port.
Any other host is refused, so nothing leaves the machine.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
from typing import Any

import structlog

log = structlog.get_logger(__name__)

DEFAULT_HOSTS = frozenset({"login.salesforce.com", "test.salesforce.com", "127.0.0.1", "localhost"})
DEFAULT_SUFFIXES = (".my.salesforce.com", ".salesforce.com")
"""My Domain hosts (``acme.my.salesforce.com``) are intercepted too; the sandbox certificate covers them."""
_MAX_HEAD = 64 * 1024


class _ProxyHandler(socketserver.BaseRequestHandler):
    server: _ProxyServer

    def handle(self) -> None:
        client: socket.socket = self.request
        client.settimeout(30)
        head = _read_head(client)
        if head is None:
            return
        method, host = _parse_connect(head)
        if method != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        if not self.server.allows(host):
            log.warning("sandbox.proxy.refused", host=host)
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        try:
            tls = self.server.ssl_context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):
            return
        tls.settimeout(None)
        try:
            upstream = socket.create_connection(self.server.upstream, timeout=30)
            upstream.settimeout(None)
        except OSError:
            tls.close()
            return
        self.server.count(host)
        _relay(tls, upstream)


def _read_head(sock: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(4096)
        except OSError:
            return None
        if not chunk or len(data) > _MAX_HEAD:
            return None
        data += chunk
    return data


def _parse_connect(head: bytes) -> tuple[str, str]:
    """``(method, host)`` from ``CONNECT host:port HTTP/1.1``; the port is ignored (everything goes upstream)."""
    parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
    if len(parts) < 2:
        return "", ""
    target = parts[1]
    host = target[1:target.find("]")] if target.startswith("[") else target.rsplit(":", 1)[0]
    return parts[0].upper(), host


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until both directions are closed."""
    for s in (client, upstream):  # small TLS records and requests: do not let Nagle hold them back
        try:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    for s in (client, upstream):
        try:
            s.close()
        except OSError:
            pass


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], upstream: tuple[str, int], ssl_context: ssl.SSLContext,
                 allowed_hosts: frozenset[str]) -> None:
        self.upstream = upstream
        self.ssl_context = ssl_context
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)
        self.tunnels: dict[str, int] = {}
        self._lock = threading.Lock()
        super().__init__(address, _ProxyHandler)

    def allows(self, host: str) -> bool:
        host = host.lower()
        return host in self.allowed_hosts or host.endswith(DEFAULT_SUFFIXES)

    def count(self, host: str) -> None:
        with self._lock:
            self.tunnels[host] = self.tunnels.get(host, 0) + 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.warning("sandbox.proxy.handler_error", exc_info=True)


class ConnectProxy:
    """``CONNECT`` proxy on ``host:port`` (0 = any free port) relaying TLS-terminated traffic to ``upstream``."""

    def __init__(self, upstream: tuple[str, int], ssl_context: ssl.SSLContext, host: str = "127.0.0.1",
                 port: int = 0, allowed_hosts: frozenset[str] = DEFAULT_HOSTS) -> None:
        self._server = _ProxyServer((host, port), upstream, ssl_context, allowed_hosts)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self._server.server_address[0]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{self.port}"

    @property
    def tunnels(self) -> dict[str, int]:
        """Tunnels opened so far, by CONNECT host (tests use it to prove traffic went through the proxy)."""
        with self._server._lock:
            return dict(self._server.tunnels)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sandbox-proxy-{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
