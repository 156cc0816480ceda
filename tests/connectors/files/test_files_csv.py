"""CSV reading: bad lines become record errors naming their line, the rest flows; cursors; options."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from connectors.base import Batch, Cursor
from connectors.files import CsvConfig, CsvConnector
from connectors.files.config import CsvStreamConfig
from connectors.files.formats import CsvFormat, FileStart, Parsed
from connectors.files.lines import Line
from connectors.files.reader import read_batches
from connectors.retry import NO_RETRY, RetryPolicy

CONNECTOR_LEVEL = {"batch_size", "max_record_bytes", "wait_for_newline", "write_mode", "fsync"}


def csv_connector(tmp_path: Path, path: str = "contacts.csv", **options: Any) -> CsvConnector:
    settings = {"path": path, "primary_key": ["id"]} | {k: v for k, v in options.items() if k not in CONNECTOR_LEVEL}
    top = {k: v for k, v in options.items() if k in CONNECTOR_LEVEL}
    return CsvConnector(CsvConfig(base_dir=str(tmp_path), streams={"contacts": settings}, **top), NO_RETRY)


def drain(connector: CsvConnector, cursor: Cursor | None = None) -> list[Batch]:
    return list(connector.read("contacts", cursor=cursor))


def test_three_bad_lines_among_100000_give_99997_records_and_three_errors(tmp_path: Path) -> None:
    bad = {1001: b"1001,only two\n", 50_000: b"50000,Caf\xe9 latin-1 byte,x@example.com\n",
           99_998: b"99998,too,many,fields\n"}
    lines = [b"id,name,email\n"] + [bad.get(i, b"%d,Person %d,p%d@example.com\n" % (i, i, i)) for i in range(100_000)]
    (tmp_path / "contacts.csv").write_bytes(b"".join(lines))
    batches = drain(csv_connector(tmp_path))
    records = [r for b in batches for r in b.records]
    errors = [e for b in batches for e in b.errors]
    assert len(records) == 99_997 and len(errors) == 3
    assert all(len(b.records) + len(b.errors) <= 1000 for b in batches)
    assert [(e.code, e.line) for e in errors] == [("bad_csv_line", 1003), ("undecodable", 50_002),
                                                  ("bad_csv_line", 100_000)]  # the header is line 1
    assert errors[0].payload == "1001,only two\n" and "line 1003" in str(errors[0])
    assert errors[1].payload == "50000,Caf\\xe9 latin-1 byte,x@example.com\n"
    assert records[0] == {"id": "0", "name": "Person 0", "email": "p0@example.com"}
    assert "Person" not in str(errors[0])  # messages name lines, never the values


def test_quoted_newlines_and_a_quote_that_never_closes(tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_bytes(
        b'id,name,note\r\n1,Ann,"two\r\nlines, and a ""quote"""\r\n2,"Bob \r\n3,Cy,plain\r\n4,Di,"x"\r\n')
    batches = drain(csv_connector(tmp_path, max_record_bytes=1024))
    records = [r for b in batches for r in b.records]
    errors = [e for b in batches for e in b.errors]
    assert [r["id"] for r in records] == ["1", "3", "4"]
    assert records[0]["note"] == 'two\r\nlines, and a "quote"'
    assert [(e.code, e.line) for e in errors] == [("bad_csv_line", 4)]


def test_an_appended_file_is_read_incrementally_and_a_replaced_one_again(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(b"id,name\n1,Ann\n2,Bob\n")
    connector = csv_connector(tmp_path, wait_for_newline=True)
    first = drain(connector)
    cursor = first[-1].cursor
    with path.open("ab") as out:
        out.write(b"3,Cy\n4,Di")  # the writer is halfway through line 4
    assert [r["id"] for b in drain(connector, cursor) for r in b.records] == ["3"]
    cursor = drain(connector, cursor)[-1].cursor
    with path.open("ab") as out:
        out.write(b"ana\n")
    assert [r["name"] for b in drain(connector, cursor) for r in b.records] == ["Diana"]
    replacement = tmp_path / "new.csv"
    replacement.write_bytes(b"id,name\n1,Ann\n2,Bob\n9,Zed\n")
    os.replace(replacement, path)  # same first bytes, new file: read again from the start
    assert [r["id"] for b in drain(connector, cursor) for r in b.records] == ["1", "2", "9"]


def test_a_directory_of_files_is_one_stream_in_name_order(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "2024-01-01.csv").write_text("id,name\n1,Ann\n2,Bob\n")
    (exports / "2024-01-02.csv").write_text("name,id\nCy,3\n")  # each file has its own header
    (exports / "notes.txt").write_text("not a csv")
    connector = csv_connector(tmp_path, path="exports", batch_size=2)
    batches = drain(connector)
    assert [r["id"] for b in batches for r in b.records] == ["1", "2", "3"]
    (exports / "2024-01-03.csv").write_text("id,name\n4,Di\n")
    assert [r["id"] for b in drain(connector, batches[-1].cursor) for r in b.records] == ["4"]
    globbed = csv_connector(tmp_path, path="exports/2024-01-0[23].csv")
    assert [r["id"] for b in drain(globbed) for r in b.records] == ["3", "4"]


def test_dialect_encoding_bom_and_headerless_files(tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_bytes("\ufeffid;name\n1;Jos\u00e9\n2;\n".encode())
    records = [r for b in drain(csv_connector(tmp_path, delimiter=";")) for r in b.records]
    assert records == [{"id": "1", "name": "Jos\u00e9"}, {"id": "2", "name": None}]
    (tmp_path / "legacy.csv").write_bytes("7|M\xfcller\n".encode("latin-1"))
    legacy = csv_connector(tmp_path, path="legacy.csv", delimiter="|", header=False, columns=["id", "name"],
                           encoding="latin-1")
    assert [r for b in drain(legacy) for r in b.records] == [{"id": "7", "name": "M\u00fcller"}]


class _FlakyCsv(CsvFormat):
    """Fails once with EIO after some records, as a network file system may."""

    def __init__(self, options: CsvStreamConfig, fail_after: int) -> None:
        super().__init__(options, 1 << 20)
        self.fail_after = fail_after

    def parse(self, lines: Iterator[Line], start: FileStart, path: str) -> Iterator[Parsed]:
        for n, item in enumerate(super().parse(lines, start, path)):
            if n == self.fail_after:
                self.fail_after = -1
                raise OSError(errno.EIO, "Input/output error")
            yield item

    def start(self, handle: BinaryIO, path: str) -> FileStart:
        return super().start(handle, path)


def test_a_failed_batch_is_retried_from_the_last_committed_position(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("id\n" + "".join(f"{i}\n" for i in range(50)))
    waits: list[float] = []
    flaky = _FlakyCsv(CsvStreamConfig(path=str(path), primary_key=("id",)), fail_after=23)
    batches = list(read_batches(flaky, [("contacts.csv", path)], None, RetryPolicy(sleep=waits.append), 10,
                                1 << 20, False))
    assert [r["id"] for b in batches for r in b.records] == [str(i) for i in range(50)]
    assert len(waits) == 1
