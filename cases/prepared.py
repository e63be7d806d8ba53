"""Statements of the message path, compiled once and run on the DBAPI cursor.

SQLAlchemy's `Connection.execute` of a cached statement costs more than SQLite's own work for it (an
execution context, a result object, its events and checks): in py-spy's samples of the loop at
saturation, 41% went to the message path's handful of statements, a third of that in SQLite itself.
A `Prepared` statement keeps what SQLAlchemy decides once (the SQL, the parameters' order or names, each
type's bind and result processor, the values the statement carries) and per call only processes the
parameters, runs the cursor and processes the rows, with the same processors: what reaches the database
and what comes back is what SQLAlchemy would send and return (tests/cases/test_prepared.py compares
them, on SQLite and PostgreSQL). SQLite's cursor gets a list in the statement's order; psycopg's a dict
of the named parameters (%(name)s); asyncpg's (through SQLAlchemy's asyncio adapter) a list for its $1,
$2. The plan is made once per dialect and driver. The engine's
`before_cursor_execute` and `after_cursor_execute` listeners still see each statement (what they return
is not used) and a DBAPI error is raised as SQLAlchemy's (`OperationalError`, `IntegrityError`;
parameters hidden as the engine hides them); the engine's `echo` logging and `handle_error` hooks are
skipped. Other dialects run the statement through `Connection.execute` as ever. Not for statements
whose columns take Python-side defaults, or whose parameters are expanded or computed at execution
(refused when prepared).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

Processor = Callable[[Any], Any]
# SQLite (the stdlib's sqlite3) and PostgreSQL (psycopg; asyncpg through SQLAlchemy's asyncio adapter)
CHEAP_DIALECTS = frozenset({"sqlite", "postgresql"})
S = TypeVar("S", bound=ClauseElement)
_CALLER = object()  # a slot filled from the caller's parameters


@dataclass(frozen=True)
class _Plan:
    sql: str
    # (name, name in the SQL, bind processor, fixed value or _CALLER)
    slots: tuple[tuple[str, str, Processor | None, Any], ...]
    positional: bool
    columns: tuple[str, ...]
    results: tuple[tuple[int, Processor], ...]  # (column index, result processor), only where one exists
    row: type[tuple[Any, ...]]


class Prepared(Generic[S]):
    """A Core statement run the cheap way on SQLite and PostgreSQL (see the module's docstring).

    `columns`: for an INSERT without `.values()`, the columns the caller's parameters give (the compiled
    INSERT names exactly these)."""

    def __init__(self, statement: S, *, columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        self._columns = list(columns) if columns is not None else None
        self._plans: dict[tuple[str, str], _Plan] = {}

    def plan(self, dialect: Dialect) -> _Plan:
        """What the statement compiles to on `dialect` (made once per dialect and driver)."""
        key = (dialect.name, dialect.driver)  # psycopg's %(name)s, asyncpg's $1
        found = self._plans.get(key)
        if found is None:
            found = self._plans[key] = self._make_plan(dialect)
        return found

    def _make_plan(self, dialect: Dialect) -> _Plan:
        compiled = self.statement.compile(dialect=dialect, column_keys=self._columns)
        assert isinstance(compiled, SQLCompiler)
        if compiled.positional:
            if compiled.positiontup is None:
                raise ValueError(f"{dialect.name}: no parameter order to prepare")
            names = list(compiled.positiontup)
        else:  # psycopg's %(name)s: a dict, keyed as SQLAlchemy keys it (rendered names, escaped)
            names = list(dict.fromkeys(compiled.bind_names.values()))
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("a column would take a Python-side default: pass it in the parameters")
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("parameters expanded at execution are not prepared")
        escaped: Mapping[str, str] = compiled.escaped_bind_names or {}
        slots = []
        for name in names:
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.callable is not None:  # a value computed at each execution: not frozen here
                raise ValueError(f"parameter {name}: values computed at execution are not prepared")
            key = escaped.get(name, name)
            if bind.required:
                slots.append((name, key, process, _CALLER))
            else:  # a value the statement carries (`.values(status=...)`): processed once, here
                value = bind.effective_value
                slots.append((name, key, None, process(value) if process is not None else value))
        selected = getattr(self.statement, "exported_columns", None)
        columns = tuple(selected.keys()) if selected is not None else ()
        results = []
        for i, column in enumerate(selected or ()):
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if process is not None:
                results.append((i, process))
        row = namedtuple("Row", columns, rename=True)  # type: ignore[misc]
        return _Plan(compiled.string, tuple(slots), compiled.positional, columns, tuple(results), row)

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Run the statement with `params`; its rows (attribute access by column name, as SQLAlchemy's)."""
        return self._execute(conn, params)[0]

    def count(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run the statement for its effect: the rows it changed (the DBAPI's rowcount)."""
        return self._execute(conn, params)[1]

    def _execute(self, conn: Connection, params: Mapping[str, Any]) -> tuple[list[Any], int]:
        dialect = conn.dialect
        if dialect.name not in CHEAP_DIALECTS:
            result = conn.execute(cast(Executable, self.statement), dict(params))
            return (list(result) if result.returns_rows else []), result.rowcount
        plan = self.plan(dialect)
        if not conn.in_transaction():  # as Connection.execute would: SQLAlchemy's transaction begins
            conn.begin()
        args: Sequence[Any] | dict[str, Any]
        if plan.positional:
            args = [
                (params[name] if process is None else process(params[name])) if fixed is _CALLER else fixed
                for name, _key, process, fixed in plan.slots
            ]
        else:
            args = {
                key: ((params[name] if process is None else process(params[name])) if fixed is _CALLER
                      else fixed)
                for name, key, process, fixed in plan.slots
            }
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        try:
            before, after = conn.dispatch.before_cursor_execute, conn.dispatch.after_cursor_execute
            if before:
                before(conn, cursor, plan.sql, args, None, False)
            try:
                cursor.execute(plan.sql, args)
                fetched = cursor.fetchall() if plan.columns else []
                changed = cursor.rowcount
            except dialect.loaded_dbapi.Error as err:
                raise exc.DBAPIError.instance(plan.sql, args, err, dialect.loaded_dbapi.Error,
                                              hide_parameters=conn.engine.hide_parameters,
                                              dialect=dialect) from err
            if after:
                after(conn, cursor, plan.sql, args, None, False)
        finally:
            cursor.close()
        make = plan.row._make  # type: ignore[attr-defined]
        if not plan.results:
            return [make(found) for found in fetched], changed
        out = []
        for found in fetched:
            values = list(found)
            for i, process in plan.results:
                values[i] = process(values[i])
            out.append(make(values))
        return out, changed

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        """The first row, or None."""
        found = self.rows(conn, params)
        return found[0] if found else None

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        """The first column of the first row, or None."""
        found = self.rows(conn, params)
        return found[0][0] if found else None

    def scalar_one(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the one row (NoResultFound without one, as SQLAlchemy's)."""
        found = self.rows(conn, params)
        if len(found) != 1:
            raise exc.NoResultFound("no row") if not found else exc.MultipleResultsFound("rows")
        return found[0][0]

    def run(self, conn: Connection, params: Mapping[str, Any]) -> None:
        """Run the statement for its effect."""
        self.rows(conn, params)
