"""Write-only rows of one unit of work (audit entries, case events), inserted together at its end.

The ORM inserts such rows one statement each on SQLite (it wants every new primary key back, and SQLite
gives no order to batch by), and a query between two of them flushes them apart. Inside `batched`,
`audit.record` and `events.add_event` queue their rows instead, and the end of the block inserts each
table's rows in one statement, in the order recorded, within the caller's transaction (on PostgreSQL,
every table's rows in one statement). Nothing inside the
block may read those rows back, and the objects the two functions return get no primary key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Insert, Table, bindparam
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Session

from cases.prepared import Prepared

M = TypeVar("M", bound=DeclarativeBase)

_KEY = "cases.journal"
_INSERTS: dict[Table, Insert] = {}  # statements, built once per table (not data)
# PostgreSQL: the statement of each shape (tables, their rows' keys, how many rows), built once
_COMBINED: dict[tuple[tuple[Table, tuple[str, ...], int], ...], Prepared[Insert]] = {}


@contextmanager
def batched(db: Session) -> Iterator[None]:
    """Queue the block's audit entries and case events; insert them at its end (dropped on an error).
    Nested blocks add to the outermost one."""
    if _KEY in db.info:
        yield
        return
    queued: dict[Table, list[dict[str, Any]]] = {}
    db.info[_KEY] = queued
    try:
        yield
    finally:
        del db.info[_KEY]
    conn = db.connection()
    if conn.dialect.name == "postgresql" and len(queued) > 1:  # one round trip for every table
        _in_one(conn, queued)
        return
    for table, rows in queued.items():
        statement = _INSERTS.get(table)
        if statement is None:
            statement = _INSERTS[table] = table.insert()
        conn.execute(statement, rows)


def _in_one(conn: Connection, queued: dict[Table, list[dict[str, Any]]]) -> None:
    """PostgreSQL: each table's rows in one multi-row INSERT, all but the last as data-modifying CTEs of
    the last (the tables do not refer to one another, so the order among them does not matter). The
    statement is built and prepared once per shape (which tables, how many rows each)."""
    shape = tuple((table, tuple(rows[0]), len(rows)) for table, rows in queued.items())
    statement = _COMBINED.get(shape)
    if statement is None:
        statement = _COMBINED[shape] = Prepared(_combined(shape))
    conn_params = {f"j{t}_{i}_{key}": value
                   for t, rows in enumerate(queued.values()) for i, row in enumerate(rows)
                   for key, value in row.items()}
    statement.run(conn, conn_params)


def _combined(shape: tuple[tuple[Table, tuple[str, ...], int], ...]) -> Insert:
    """`shape`: each table with the keys of its rows (every row has the same) and how many rows."""
    inserts = [
        table.insert().values([{key: bindparam(f"j{t}_{i}_{key}", type_=table.c[key].type) for key in keys}
                               for i in range(count)])
        for t, (table, keys, count) in enumerate(shape)
    ]
    *others, statement = inserts
    for n, other in enumerate(others):
        statement = statement.add_cte(other.cte(f"journal_{n}"))
    return statement


def add(db: Session, model: type[M], row: dict[str, Any]) -> M:
    """A new `model` object of `row`: queued for the current `batched` block, else added to the session."""
    obj = model(**row)
    table = model.__table__
    assert isinstance(table, Table)
    if not _queue(db, table, row):
        db.add(obj)
    return obj


def _queue(db: Session, table: Table, row: dict[str, Any]) -> bool:
    """Queue a row for the current `batched` block; False when there is none (the caller adds it itself)."""
    queued: dict[Table, list[dict[str, Any]]] | None = db.info.get(_KEY)
    if queued is None:
        return False
    queued.setdefault(table, []).append(row)
    return True
