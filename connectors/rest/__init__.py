"""Configurable JSON-over-HTTP connector for in-house APIs (entry point ``rest``).

Auth flows (bearer, basic, API key, OAuth2 client credentials) and pagination strategies (page
number, offset, cursor token, Link header) are objects chosen by config; an incremental query
parameter, a token-bucket rate limit, writes per record or per batch with per-record results;
HTTP errors translated once from a status table (connectors/rest/errors.py).
"""

from connectors.rest.config import RestConfig, RestStream, RestWrite
from connectors.rest.connector import RestConnector

__all__ = ["RestConfig", "RestConnector", "RestStream", "RestWrite"]
