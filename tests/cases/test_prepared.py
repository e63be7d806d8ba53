"""cases.prepared: what a Prepared statement sends and reads is what SQLAlchemy's execute sends and reads."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    select,
    text,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cases.clock import BEIJING
from cases.models import UTCDateTime
from cases.prepared import Prepared
from tests.conftest import with_engine


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


META = MetaData()
PROBE = Table(
    "prepared_probe", META,
    Column("id", Integer, primary_key=True),
    Column("key", String(32), nullable=False, unique=True),
    Column("colour", String(16), nullable=False),
    Column("data", JSON),
    Column("at", UTCDateTime),
    Column("note", String(64), default="made by default"),
)
COLUMNS = ("key", "colour", "data", "at", "note")
INSERTS = {
    name: insert(PROBE).on_conflict_do_nothing(index_elements=["key"]).returning(PROBE.c.id)
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
READ = select(PROBE.c.id, PROBE.c.colour, PROBE.c.data, PROBE.c.at.label("when")).where(
    PROBE.c.key == bindparam("key"))
RECOLOUR = update(PROBE).where(PROBE.c.id == bindparam("row_id")).values(
    colour=Colour.BLUE, data=bindparam("data"), at=bindparam("at"))
EVERYTHING = select(PROBE).order_by(PROBE.c.id)
AT = datetime(2026, 3, 2, 10, 0, 30, 123456, tzinfo=BEIJING)
T = TypeVar("T")


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    META.create_all(engine)
    try:
        with engine.connect() as connection:
            yield connection
            connection.rollback()
    finally:
        META.drop_all(engine)


OnLoop = Callable[[Callable[[Connection], T]], T]


@pytest.fixture
def on_loop(db_url: str, conn: Connection) -> OnLoop[Any]:
    """PostgreSQL: run a check on a connection of the event loop's engine, inside `run_on_loop`, as the
    webhooks' work runs (the table made by `conn`; the check's transaction rolled back)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("the event loop's engine is PostgreSQL's")

    def run(check: Callable[[Connection], T]) -> T:
        def on(engine: Engine) -> T:
            with engine.connect() as connection:
                try:
                    return check(connection)
                finally:
                    connection.rollback()

        return with_engine("loop", on, url=db_url)

    return run


def sent(conn: Connection) -> list[tuple[str, Any]]:
    """What reaches the cursor from now on: (SQL, parameters)."""
    seen: list[tuple[str, Any]] = []
    event.listen(conn, "before_cursor_execute", lambda _c, _cu, sql, params, *_: seen.append((sql, params)))
    return seen


def _values(params: Any) -> Any:
    """Parameters as compared: SQLite's and asyncpg's a sequence; psycopg's a dict, JSON wrapped (psycopg's
    Json, no ==)."""
    if isinstance(params, dict):
        return {key: (type(value).__name__, value.obj) if hasattr(value, "obj") else value
                for key, value in params.items()}
    return list(params)


def by_sqlalchemy(conn: Connection, statement: Any, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    result = conn.execute(statement, params)
    return [tuple(row) for row in result] if result.returns_rows else []


CASES: list[tuple[str, dict[str, Any]]] = [
    ("insert", {"key": "a", "colour": Colour.RED, "data": {"x": [1, "二"]}, "at": AT, "note": "n"}),
    ("insert", {"key": "b", "colour": Colour.RED, "data": None, "at": None, "note": None}),
    ("read", {"key": "seed"}),
    ("recolour", {"row_id": 1, "data": {"y": True}, "at": AT + timedelta(days=1)}),
]


@pytest.mark.parametrize(("kind", "params"), CASES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(CASES)])
def test_sends_the_same_sql_and_parameters_and_reads_the_same_rows(conn: Connection, kind: str,
                                                                    params: dict[str, Any]) -> None:
    same_as_sqlalchemy(conn, kind, params)


@pytest.mark.parametrize(("kind", "params"), CASES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(CASES)])
def test_the_same_on_the_event_loops_engine(on_loop: OnLoop[Any], kind: str, params: dict[str, Any]) -> None:
    """PostgreSQL's webhook work runs on asyncpg (cases.db.make_loop_engine): its $1 parameters in a list."""
    def check(c: Connection) -> str:
        same_as_sqlalchemy(c, kind, params)
        return c.dialect.driver

    assert on_loop(check) == "asyncpg"


def test_a_database_error_on_the_event_loops_engine_is_sqlalchemys(on_loop: OnLoop[Any]) -> None:
    on_loop(a_database_error_is_sqlalchemys)


def same_as_sqlalchemy(conn: Connection, kind: str, params: dict[str, Any]) -> None:
    seed = {"key": "seed", "colour": Colour.RED, "data": {"s": 1}, "at": AT, "note": None}
    conn.execute(INSERTS[conn.dialect.name], seed)
    statements: dict[str, Any] = {"insert": INSERTS[conn.dialect.name], "read": READ, "recolour": RECOLOUR}
    statement = statements[kind]
    prepared = Prepared(statement, columns=COLUMNS if kind == "insert" else None)
    seen = sent(conn)
    savepoint = conn.begin_nested()
    expected = by_sqlalchemy(conn, statement, params)
    after_sqlalchemy = [tuple(r) for r in conn.execute(EVERYTHING)]
    savepoint.rollback()
    savepoint = conn.begin_nested()
    got = [tuple(r) for r in prepared.rows(conn, params)]
    after_prepared = [tuple(r) for r in conn.execute(EVERYTHING)]
    savepoint.rollback()
    everything = str(EVERYTHING.compile(dialect=conn.dialect))
    ours = [s for s in seen if "prepared_probe" in s[0] and s[0] != everything]
    assert len(ours) == 2
    assert ours[0][0] == ours[1][0]  # the SQL
    assert _values(ours[0][1]) == _values(ours[1][1])  # the parameters, as SQLAlchemy processed them
    if kind == "insert" and conn.dialect.name != "sqlite":  # a sequence is not rolled back: ids apart
        got, expected = [r[1:] for r in got], [r[1:] for r in expected]
        after_prepared, after_sqlalchemy = [r[1:] for r in after_prepared], [r[1:] for r in after_sqlalchemy]
    assert got == expected
    assert after_prepared == after_sqlalchemy
    if kind == "read":
        assert got[0][3] == AT and got[0][3].tzinfo is not None and got[0][2] == {"s": 1}
        row = prepared.first(conn, params)
        assert row is not None and row.when == AT and row.colour == "red"


def test_a_conflict_returns_no_row_and_scalar_gives_none(conn: Connection) -> None:
    prepared = Prepared(INSERTS[conn.dialect.name], columns=COLUMNS)
    params = {"key": "k", "colour": Colour.RED, "data": {}, "at": AT, "note": None}
    first = prepared.scalar_one(conn, params)
    assert isinstance(first, int)
    assert prepared.scalar(conn, params) is None
    with pytest.raises(sa_exc.NoResultFound):
        prepared.scalar_one(conn, params)


def test_a_database_error_is_sqlalchemys_and_the_transaction_rolls_back(conn: Connection) -> None:
    a_database_error_is_sqlalchemys(conn)


def a_database_error_is_sqlalchemys(conn: Connection) -> None:
    insert = PROBE.insert().values(key=bindparam("key"), colour=bindparam("colour"), note=None)
    prepared = Prepared(insert)
    prepared.run(conn, {"key": "dup", "colour": Colour.RED})
    with pytest.raises(sa_exc.IntegrityError) as caught:
        prepared.run(conn, {"key": "dup", "colour": Colour.BLUE})
    assert "prepared_probe" in str(caught.value.statement)
    assert "[SQL parameters hidden" in str(caught.value)  # as make_engine's engine hides them
    conn.rollback()
    assert conn.scalar(select(PROBE.c.id).where(PROBE.c.key == "dup")) is None


def test_listeners_see_each_statement(conn: Connection) -> None:
    seen = sent(conn)
    Prepared(text("SELECT 1")).run(conn, {})
    Prepared(READ).rows(conn, {"key": "nobody"})
    assert [s for s, _ in seen] == ["SELECT 1", str(READ.compile(dialect=conn.dialect))]


def test_statements_it_cannot_run_the_cheap_way_are_refused(engine: Engine) -> None:
    defaulted = Prepared(PROBE.insert(), columns=("key", "colour"))  # "note" would take its default
    with pytest.raises(ValueError, match="default"):
        defaulted.plan(engine.dialect)
    expanding = Prepared(select(PROBE.c.id).where(PROBE.c.key.in_(bindparam("keys", expanding=True))))
    with pytest.raises(ValueError, match="expanded"):
        expanding.plan(engine.dialect)
    computed = Prepared(select(PROBE.c.id).where(PROBE.c.key == bindparam("k", callable_=lambda: "now")))
    with pytest.raises(ValueError, match="computed"):
        computed.plan(engine.dialect)


def test_count_is_the_rows_the_statement_changed(conn: Connection) -> None:
    prepared = Prepared(INSERTS[conn.dialect.name], columns=COLUMNS)
    first = prepared.scalar_one(conn, {"key": "c", "colour": Colour.RED, "data": {}, "at": AT, "note": None})
    recolour = Prepared(RECOLOUR)
    assert recolour.count(conn, {"row_id": first, "data": {}, "at": AT}) == 1
    assert recolour.count(conn, {"row_id": first + 1000, "data": {}, "at": AT}) == 0
    assert conn.scalar(select(PROBE.c.colour).where(PROBE.c.id == first)) == "blue"


def test_one_statement_serves_both_postgresql_drivers(conn: Connection, on_loop: OnLoop[Any]) -> None:
    """The message path's statements are module constants: each driver gets its own compiled SQL (psycopg's
    %(key)s on the threads' engine, asyncpg's $1 on the loop's)."""
    prepared = Prepared(READ)
    assert prepared.rows(conn, {"key": "nobody"}) == []
    assert on_loop(lambda c: prepared.rows(c, {"key": "nobody"})) == []
    assert prepared.rows(conn, {"key": "nobody"}) == []
