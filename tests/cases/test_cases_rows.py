"""cases.rows.insert: the row the ORM would write, an object read without SQL, undone with its savepoint."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, event, inspect, select, text
from sqlalchemy.orm import Session

from cases import rows
from cases.models import Case, CaseStatus, Household, ReporterKind

from .conftest import VILLAGE, World


def household(now: datetime, name: str = "张三") -> Household:
    return Household(head_name=name, village_code=VILLAGE, size=3, created_at=now)


def row_of(db: Session, obj: Any) -> dict[str, Any]:
    table = inspect(obj).mapper.local_table
    found = db.connection().execute(select(table).where(table.c.id == obj.id)).mappings().one()
    return {k: v for k, v in found.items() if k != "id"}


def count_statements(engine: Engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cu, statement, *_: seen.append(statement))
    return seen


def test_the_row_is_the_one_the_orm_writes_and_reading_it_needs_no_sql(world: World, engine: Engine) -> None:
    db, now = world.db, world.now
    by_orm = household(now)
    db.add(by_orm)
    db.flush()
    inserted = rows.insert(db, household(now))
    assert inspect(inserted).persistent and inserted in db and inserted.id not in (None, by_orm.id)
    assert row_of(db, inserted) == row_of(db, by_orm)  # formerly_poor's default included
    case = rows.insert(db, Case(number="SB00000009", household_id=inserted.id, area_code=VILLAGE,
                                status=CaseStatus.APPLIED, discovery=ReporterKind.SELF, opened_at=now,
                                updated_at=now))
    seen = count_statements(engine)
    assert (case.risks, case.urgent, case.version, case.category) == ([], False, 1, None)
    assert db.get(Case, case.id) is case and db.get(Household, inserted.id) is inserted
    assert seen == []
    case.updated_at = now + timedelta(minutes=1)  # the version counter works as for a flushed object
    db.flush()
    assert case.version == 2
    db.commit()
    assert rows._KEY not in db.info
    assert db.scalar(select(Household.head_name).where(Household.id == inserted.id)) == "张三"


def test_a_rolled_back_savepoint_takes_its_objects_with_it(world: World) -> None:
    db, now = world.db, world.now
    kept = rows.insert(db, household(now, "李四"))
    with db.begin_nested() as outer:
        with db.begin_nested():
            inner = rows.insert(db, household(now, "王五"))  # released with the inner savepoint
        gone = rows.insert(db, household(now, "赵六"))
        outer.rollback()
    for obj in (inner, gone):
        assert inspect(obj).transient and obj not in db
    assert inspect(kept).persistent and kept in db
    again = rows.insert(db, household(now, "钱七"))  # SQLite may reuse the id: nothing stale is in the way
    assert db.get(Household, again.id) is again
    db.commit()
    names = db.scalars(select(Household.head_name).order_by(Household.id)).all()
    assert names == ["李四", "钱七"]


def test_a_rolled_back_transaction_takes_its_objects_with_it(world: World) -> None:
    db, now = world.db, world.now
    obj = rows.insert(db, household(now))
    db.rollback()
    assert inspect(obj).transient and obj not in db
    assert db.scalar(select(Household.id)) is None


def test_a_column_with_a_server_default_is_refused_not_sent_as_null() -> None:
    column = Table("t", MetaData(), Column("id", Integer, primary_key=True),
                   Column("kind", String, server_default=text("'x'"))).c.kind
    with pytest.raises(NotImplementedError):
        rows._default(column)


def test_insert_unless_taken_leaves_out_a_row_whose_unique_value_is_taken(
        world: World, engine: Engine) -> None:
    db, now = world.db, world.now
    first = Household(head_name="张三", id_hash="h" * 64, created_at=now)
    assert rows.insert_unless_taken(db, first, "id_hash") is first and inspect(first).persistent
    assert rows.inserted_here(db, Household, first.id)
    seen = count_statements(engine)
    again = Household(head_name="李四", id_hash="h" * 64, created_at=now)
    assert rows.insert_unless_taken(db, again, "id_hash") is None
    assert inspect(again).transient and again not in db
    assert not any(s.startswith("SAVEPOINT") for s in seen)  # nothing to roll back: the transaction goes on
    none_taken = [rows.insert_unless_taken(db, Household(head_name=n, created_at=now), "id_hash")
                  for n in ("王五", "赵六")]  # NULL takes nothing
    assert all(h is not None for h in none_taken)
    db.commit()
    assert not rows.inserted_here(db, Household, first.id)  # committed: no longer this transaction's
    assert db.scalars(select(Household.head_name).order_by(Household.id)).all() == ["张三", "王五", "赵六"]
