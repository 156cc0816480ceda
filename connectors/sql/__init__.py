"""SQL databases (PostgreSQL, MySQL/MariaDB, SQLite) as crmsync streams, through SQLAlchemy Core.

Entry point ``sql``. Reads page by keyset on (updated_at, primary key) over server-side cursors;
writes are batched dialect-native upserts with a result per record; deletes come from a soft-delete
column or a key sweep (``SqlConnector.sweep_deletes``); key ranges are checksummed in the database.
"""

from connectors.sql.config import SqlConfig, SqlStreamConfig
from connectors.sql.connector import SqlConnector

__all__ = ["SqlConfig", "SqlConnector", "SqlStreamConfig"]
