"""Driver errors are translated once: row faults without values, the rest by what the caller should do."""

from __future__ import annotations

import sqlite3

import pymysql
import pytest
from sqlalchemy import exc as sa_exc

from connectors.errors import AuthenticationError, ConfigurationError, RetryableError, StreamError
from connectors.retry import RetryPolicy
from connectors.sql import SqlConfig, SqlConnector
from connectors.sql.errors import record_error, row_fault, translate


def wrapped(orig: Exception) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError.instance("INSERT ...", {}, orig, type(orig))


@pytest.mark.parametrize(("errno", "message", "code", "constraint", "fields", "secret"), [
    (1062, "Duplicate entry 'ann@example.com' for key 'email'", "unique_violation", "email", (), "ann@example.com"),
    (4025, "CONSTRAINT `ck_score` failed for `db`.`contacts`", "check_violation", "ck_score", (), None),
    (1048, "Column 'name' cannot be null", "not_null_violation", None, ("name",), None),
    (1366, "Incorrect integer value: 'abc' for column `db`.`contacts`.`score` at row 1",
     "invalid_text_representation", None, ("score",), "abc"),
    (1452, "Cannot add or update a child row: a foreign key constraint fails (`db`.`contacts`, CONSTRAINT "
           "`fk_owner` FOREIGN KEY (`owner`) REFERENCES `users` (`id`))",
     "foreign_key_violation", "fk_owner", (), None),
    (1406, "Data too long for column 'name' at row 3", "string_data_right_truncation", None, ("name",), None),
])
def test_mysql_row_faults_name_constraint_and_column_never_the_value(
        errno: int, message: str, code: str, constraint: str | None, fields: tuple[str, ...],
        secret: str | None) -> None:
    fault = row_fault(wrapped(pymysql.err.IntegrityError(errno, message)))
    assert fault is not None and (fault.code, fault.constraint, fault.fields) == (code, constraint, fields)
    error = record_error(fault, key="7", payload={"x": 1})
    if secret:
        assert secret not in str(error) and secret not in error.message


def test_sqlite_row_faults_come_from_real_errors() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INT CONSTRAINT ck_n CHECK (n > 0))")
    conn.execute("INSERT INTO t VALUES (1, 'a', 1)")
    faults = []
    for statement in ("INSERT INTO t VALUES (2, NULL, 1)", "INSERT INTO t VALUES (3, 'c', -1)",
                      "INSERT INTO t VALUES (1, 'd', 1)"):
        with pytest.raises(sqlite3.IntegrityError) as caught:
            conn.execute(statement)
        faults.append(row_fault(wrapped(caught.value)))
    assert [(f.code, f.fields, f.constraint) for f in faults if f] == [
        ("not_null_violation", ("name",), None), ("check_violation", (), "ck_n"), ("unique_violation", ("id",), None)]


@pytest.mark.parametrize(("errno", "expected"), [
    (1045, AuthenticationError), (1146, ConfigurationError), (1213, RetryableError), (2013, RetryableError),
    (1105, StreamError),
])
def test_mysql_errors_that_are_not_about_a_row(errno: int, expected: type) -> None:
    orig = pymysql.err.OperationalError(errno, "something")
    assert row_fault(wrapped(orig)) is None
    assert type(translate(wrapped(orig), "read")) is expected


def test_an_unreachable_server_is_retried_through_the_policy_and_reported_by_check() -> None:
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=3, initial_wait=0.01, sleep=waits.append)
    config = SqlConfig(url="postgresql+psycopg://crm@127.0.0.1:1/erp", password="s3cret-pw",
                       streams={"customers": {}}, connect_timeout=2)
    sql = SqlConnector(config, policy)
    report = sql.check()
    assert not report.ok and len(report.items) == 1 and "s3cret-pw" not in report.items[0].reason
    assert "s3cret-pw" not in repr(config) and config.sqlalchemy_url().password == "s3cret-pw"
    with pytest.raises(RetryableError):
        list(sql.read("customers"))
    assert len(waits) == 2  # three attempts of the same request, all through the given policy
    sql.close()


def test_wrong_credentials_and_missing_tables_say_what_to_fix(mysql_url: str, postgres_url: str) -> None:
    intruder = SqlConnector(SqlConfig(url=mysql_url.replace("root@", "nobody_here@"),
                                      streams={"t": {}}), RetryPolicy(max_attempts=1))
    with pytest.raises(AuthenticationError):
        intruder.discover()
    intruder.close()
    missing = SqlConnector(SqlConfig(url=postgres_url, streams={"no_such_table_here": {}}),
                           RetryPolicy(max_attempts=1))
    report = missing.check()
    assert report.items[0].ok and not report.items[1].ok and "no_such_table_here" in report.items[1].reason
    with pytest.raises(ConfigurationError):
        list(missing.read("no_such_table_here"))
    missing.close()


def test_the_config_refuses_what_is_not_a_database_url() -> None:
    with pytest.raises(ValueError):
        SqlConfig(url="not a url")
    with pytest.raises(ConfigurationError):
        SqlConnector(SqlConfig(url="oracle://scott@db/x"), RetryPolicy(max_attempts=1))


