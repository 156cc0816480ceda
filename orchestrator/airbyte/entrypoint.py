"""The console script's entry point: the CDK's ``AirbyteEntrypoint`` with less work per record on ``read``.

``read`` is the only command that emits a message per record, and at a million records the CDK's
generic path costs as much as the mapping: each RECORD goes through serpyco (dataclass to dict),
then orjson, then ``print`` into the CDK's locked print buffer, and its count builds a new
``HashableStreamDescriptor``. Here a RECORD is one ``orjson.dumps`` of the same dict the CDK would
build (same keys, same order, ``None`` omitted), counts reuse one descriptor per stream, and lines
are written in chunks. Every other message, and every other command, takes the CDK's own path, so
the output is the same protocol, byte for byte (tests/unit/test_airbyte_entrypoint.py checks it).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER, is_platform_debug_log_enabled
from airbyte_cdk.models import AirbyteMessage, Type
from airbyte_cdk.sources.connector_state_manager import HashableStreamDescriptor
from airbyte_cdk.utils.constants import ENV_REQUEST_CACHE_PATH

from connectors import registry

CHUNK = 512
"""Lines written per ``write``: small enough that a reader sees records promptly."""


class CrmsyncEntrypoint(AirbyteEntrypoint):
    """``AirbyteEntrypoint`` whose ``read`` serialises and counts RECORD messages without the generic path."""

    def run(self, parsed_args: argparse.Namespace) -> Iterable[str]:
        if parsed_args.command != "read":
            yield from super().run(parsed_args)
            return
        yield from self._run_read(parsed_args)

    def _run_read(self, parsed_args: argparse.Namespace) -> Iterator[str]:
        """The read branch of ``AirbyteEntrypoint.run`` (CDK 7.39), with ``message_to_string`` per message."""
        if getattr(parsed_args, "debug", False) or is_platform_debug_log_enabled():
            self.logger.setLevel(logging.DEBUG)
            logging.getLogger("airbyte").setLevel(logging.DEBUG)
            self.logger.debug("Debug logs enabled")
        else:
            self.logger.setLevel(logging.INFO)
        source_spec = self.source.spec(self.logger)
        try:
            with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as temp_dir:
                os.environ[ENV_REQUEST_CACHE_PATH] = temp_dir  # the default directory of request caches
                raw_config = self.source.read_config(parsed_args.config)
                config = self.source.configure(raw_config, temp_dir)
                yield from map(message_to_string, self._emit_queued_messages(self.source))
                catalog = self.source.read_catalog(parsed_args.catalog)
                state = self.source.read_state(parsed_args.state)
                yield from map(message_to_string, self.read(source_spec, config, catalog, state))
        finally:
            yield from map(message_to_string, self._emit_queued_messages(self.source))

    @staticmethod
    def handle_record_counts(message: AirbyteMessage,
                             stream_message_count: defaultdict[HashableStreamDescriptor, float]) -> AirbyteMessage:
        """The CDK's count per stream, with one descriptor per stream instead of one per record."""
        record = message.record
        if message.type == Type.RECORD and record is not None:
            stream_message_count[_descriptor(record.stream, record.namespace)] += 1.0
            return message
        return AirbyteEntrypoint.handle_record_counts(message, stream_message_count)


@lru_cache(maxsize=256)
def _descriptor(name: str, namespace: str | None) -> HashableStreamDescriptor:
    return HashableStreamDescriptor(name=name, namespace=namespace)


def message_to_string(message: AirbyteMessage) -> str:
    """A message as one protocol line: RECORDs directly with orjson, anything else through the CDK.

    The dict is what ``AirbyteMessageSerializer.dump`` gives for a plain record: the protocol's field
    order, and ``omit_none``, which also drops the null values at the top of ``data`` (not deeper).
    A record with a namespace, meta or file reference, or data orjson refuses (an integer beyond 64
    bits), goes the CDK's way, which also handles the fallback to ``json``.
    """
    record = message.record
    if (message.type == Type.RECORD and record is not None and record.namespace is None
            and record.meta is None and record.file_reference is None):
        data = {key: value for key, value in record.data.items() if value is not None}
        try:
            return orjson.dumps({"type": "RECORD", "record": {
                "stream": record.stream, "data": data, "emitted_at": record.emitted_at}}).decode()
        except TypeError:
            pass
    return AirbyteEntrypoint.airbyte_message_to_string(message)


def launch(entrypoint: AirbyteEntrypoint, args: list[str]) -> None:
    """``airbyte_cdk.entrypoint.launch`` with lines written in chunks (order kept) instead of one print each."""
    parsed_args = entrypoint.parse_args(args)
    with PRINT_BUFFER:
        chunk: list[str] = []
        try:
            for line in entrypoint.run(parsed_args):
                chunk.append(line)
                if len(chunk) >= CHUNK:
                    sys.stdout.write("\n".join(chunk) + "\n")
                    chunk.clear()
        finally:
            if chunk:
                sys.stdout.write("\n".join(chunk) + "\n")


def configured_connector(args: list[str]) -> str | None:
    """The connector type named in ``--config``, when it is an installed one; None otherwise.

    ``check``, ``discover`` and ``read`` only need the spec to validate this config and to find its
    secrets, and a config names one connector: the spec's ``system`` oneOf can hold that connector's
    option alone, which spares importing every other connector at start-up (about a second). Any
    doubt (no config, unreadable, unknown type) gives None: the full spec, and the CDK's own errors.
    """
    if not args or args[0] == "spec":
        return None
    try:
        path = AirbyteEntrypoint.extract_config(args)
        config = json.loads(Path(path).read_text()) if path else None
        name = config["system"]["connector"] if isinstance(config, dict) else None
    except (OSError, ValueError, KeyError, TypeError, SystemExit):
        return None
    return name if isinstance(name, str) and name in registry.available() else None
