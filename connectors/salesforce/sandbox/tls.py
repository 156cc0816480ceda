"""The sandbox's private certificate authority and server certificates (trustme).

simple-salesforce always builds ``https://`` URLs and airbyte's login host is fixed to
``login.salesforce.com``, so the sandbox needs certificates clients can verify: one CA made at start,
written to a PEM file that clients trust through ``REQUESTS_CA_BUNDLE`` (or ``session.verify``), and a
leaf certificate for every name the sandbox and its proxy answer for.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme

SERVER_NAMES = ("127.0.0.1", "localhost", "::1", "login.salesforce.com", "test.salesforce.com", "*.salesforce.com",
                "*.my.salesforce.com", "*.sandbox.my.salesforce.com")
"""Names on the leaf certificate: the sandbox itself and the Salesforce hosts its proxy intercepts (login hosts,
and My Domain hosts such as ``acme.my.salesforce.com`` that simple-salesforce's client-credentials flow uses)."""


class LocalCA:
    """A CA created in memory at start; ``write(path)`` publishes its certificate for clients to trust."""

    def __init__(self, extra_names: tuple[str, ...] = ()) -> None:
        self._ca = trustme.CA(organization_name="crmsync Salesforce sandbox")
        names = tuple(dict.fromkeys((*SERVER_NAMES, *extra_names)))
        self._leaf = self._ca.issue_cert(*names, common_name="crmsync-sandbox")

    @property
    def cert_pem(self) -> bytes:
        return self._ca.cert_pem.bytes()

    def write(self, path: Path) -> Path:
        """Write the CA certificate (PEM) to ``path``; that file is what clients trust."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.cert_pem)
        return path

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting the leaf certificate (valid for every name in SERVER_NAMES)."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._leaf.configure_cert(ctx)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A client-side context that trusts this CA (for in-process tests and the proxy's self-checks)."""
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self._ca.configure_trust(ctx)
        return ctx
