"""CSV and JSON Lines files as crmsync streams (entry points ``csv`` and ``jsonl``).

A stream is a file, a directory or a glob, read in name order with a file + byte offset cursor;
a bad line (wrong field count, undecodable bytes, broken JSON) becomes a RecordError naming its
line while the rest flows. Writes append, or upsert into a new file swapped in atomically.
"""

from connectors.files.config import CsvConfig, CsvStreamConfig, JsonlConfig, JsonlStreamConfig
from connectors.files.connector import CsvConnector, JsonlConnector

__all__ = ["CsvConfig", "CsvConnector", "CsvStreamConfig", "JsonlConfig", "JsonlConnector", "JsonlStreamConfig"]
