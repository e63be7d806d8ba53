"""Write-only rows of one unit of work (audit entries, case events), inserted together at its end.

The ORM inserts such rows one statement each on SQLite (it wants every new primary key back, and SQLite
gives no order to batch by), and a query between two of them flushes them apart. Inside `batched`,
`audit.record` and `events.add_event` queue their rows instead, and the end of the block inserts each
table's rows in one statement, in the order recorded, within the caller's transaction. Nothing inside the
block may read those rows back, and the objects the two functions return get no primary key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Insert, Table
from sqlalchemy.orm import DeclarativeBase, Session

M = TypeVar("M", bound=DeclarativeBase)

_KEY = "cases.journal"
_INSERTS: dict[Table, Insert] = {}  # statements, built once per table (not data)


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
    for table, rows in queued.items():
        statement = _INSERTS.get(table)
        if statement is None:
            statement = _INSERTS[table] = table.insert()
        conn.execute(statement, rows)


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
