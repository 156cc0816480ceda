"""A local Salesforce org that real, unmodified Salesforce clients work against (REST, Bulk 2.0, OAuth, SOAP login).

Start it in-process::

    from connectors.salesforce.sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(seed=SeedConfig(options={"accounts": 50}))) as sb:
        sb.urls.https, sb.urls.ca_path, sb.session()

or as a process: ``crmsync sandbox serve``. See server.Sandbox, config.SandboxConfig and config.FaultConfig.
"""

from .config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_REFRESH_TOKEN,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    ConnectedApp,
    FaultConfig,
    RefreshTokenGrant,
    SandboxConfig,
    SeedConfig,
    UserCredential,
)
from .server import Sandbox, SandboxUrls

__all__ = [
    "DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "DEFAULT_PASSWORD", "DEFAULT_REFRESH_TOKEN",
    "DEFAULT_SECURITY_TOKEN", "DEFAULT_USERNAME", "ConnectedApp", "FaultConfig", "RefreshTokenGrant", "Sandbox",
    "SandboxConfig", "SandboxUrls", "SeedConfig", "UserCredential",
]
