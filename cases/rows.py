"""A new object's row inserted by one statement built once per table, instead of the ORM's unit of work.

On the filing's hot path the unit of work costs several times the INSERT it emits. `insert` writes the
row at once (what was pending in the session is flushed first, as a flush would) with every column's
value, Python defaults applied as the ORM applies them, and RETURNING its id; the object then belongs to
the session as if it had been loaded, so reading it emits no SQL. Like an object the ORM flushed, it
becomes transient again when the transaction or savepoint it was inserted in rolls back: the session
keeps no object for a row that is gone (SQLite may give the next row the same id). `insert_unless_taken`
is the same with ON CONFLICT (column) DO NOTHING: a row whose unique value is taken is left out, in the
same statement, where catching the IntegrityError would take a savepoint around the INSERT (two more round
trips on PostgreSQL).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Column, Insert, Table, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction, make_transient, make_transient_to_detached
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from cases.prepared import Prepared

T = TypeVar("T")
_KEY = "cases.rows"  # session.info: [(the transaction an object was inserted in, the object)]
_INSERTS: dict[tuple[Table, str | None, str], Prepared[Insert]] = {}  # statements, built once (not data)


def insert(db: Session, obj: T) -> T:
    """Insert a new (transient) object's row now and add the object to the session as loaded."""
    inserted = _insert(db, obj, None)
    assert inserted is not None
    return inserted


def insert_unless_taken(db: Session, obj: T, column: str) -> T | None:
    """`insert`, unless a row already holds the object's value of the unique `column` (then None, and the
    object is left transient). A row another transaction is inserting is waited for, as a unique index
    waits: it counts as taken if that transaction commits."""
    return _insert(db, obj, column)


def _insert(db: Session, obj: T, unless_taken: str | None) -> T | None:
    state = inspect(obj)
    mapper = state.mapper
    table = mapper.local_table
    assert isinstance(table, Table) and len(mapper.primary_key) == 1
    key = mapper.primary_key[0]
    values: dict[str, Any] = {}
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if column is key:
            continue
        if prop.key not in state.dict:
            setattr(obj, prop.key, _default(column))
        values[column.key] = state.dict[prop.key]
    db.flush()
    conn = db.connection()
    dialect = conn.dialect.name if unless_taken is not None else ""
    statement = _INSERTS.get((table, unless_taken, dialect))
    if statement is None:  # every column but the key is given: one compiled INSERT per table (and dialect)
        statement = _INSERTS[(table, unless_taken, dialect)] = Prepared(
            _statement(table, unless_taken, dialect).returning(key), columns=list(values))
    found = statement.rows(conn, values)
    if not found:  # ON CONFLICT DO NOTHING: no row, none returned
        return None
    new_id = found[0][0]
    setattr(obj, mapper.get_property_by_column(key).key, new_id)
    make_transient_to_detached(obj)
    db.add(obj)
    transaction = db.get_nested_transaction() or db.get_transaction()
    db.info.setdefault(_KEY, []).append((transaction, obj))
    return obj


def _statement(table: Table, unless_taken: str | None, dialect: str) -> Insert:
    if unless_taken is None:
        return table.insert()
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=[unless_taken])
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=[unless_taken])
    raise NotImplementedError(f"{dialect}: no ON CONFLICT DO NOTHING")


def _default(column: Column[Any]) -> Any:
    """The value the ORM would insert for a column left unset (its scalar or callable Python default)."""
    if column.server_default is not None:  # the ORM leaves such a column out; this statement sends it all
        raise NotImplementedError(f"column {column.key}: server defaults are not supported")
    default = column.default
    if default is None:
        return None
    if isinstance(default, ScalarElementColumnDefault):
        return default.arg
    if isinstance(default, CallableColumnDefault):
        make: Any = default.arg  # wrapped to take an execution context, which ours (list, dict) ignore
        return make(None)
    raise NotImplementedError(f"column {column.key}: only scalar or callable Python defaults are supported")


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, rolled_back: SessionTransaction) -> None:
    """Objects inserted in the rolled-back transaction (or a savepoint inside it) become transient."""
    records = session.info.get(_KEY)
    if not records:
        return
    kept = []
    for inserted_in, obj in records:
        if _within(inserted_in, rolled_back):
            if obj in session:
                session.expunge(obj)
            make_transient(obj)
        else:
            kept.append((inserted_in, obj))
    session.info[_KEY] = kept


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    """The outermost transaction committed: its rows stay, nothing to undo (a savepoint keeps them)."""
    if session.get_nested_transaction() is None:
        session.info.pop(_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_expunged(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended: objects no longer in the session (it was closed) are forgotten."""
    records = session.info.get(_KEY)
    if records and transaction.parent is None:
        session.info[_KEY] = [(t, obj) for t, obj in records if obj in session]


def inserted_here(db: Session, model: type[Any], row_id: int) -> bool:
    """Whether the `model` row `row_id` was inserted by `insert` in the session's transaction under way."""
    return any(isinstance(obj, model) and inspect(obj).identity == (row_id,)
               for _, obj in db.info.get(_KEY, ()))


def loaded(db: Session, obj: T) -> T:
    """A transient object holding every column of a row the caller has just read (key included), added to
    the session as if the session had loaded it: reading it, or `Session.get` of its key, sends no SQL."""
    make_transient_to_detached(obj)
    db.add(obj)
    return obj
