"""Finding the household of an ID number (every report does) costs the same in a village as in a county.

Work is counted, not timed: SQLite's virtual machine steps (a progress handler), PostgreSQL's rows
produced or thrown away by the plan (EXPLAIN ANALYZE). Written as `id_hash = :d OR id IN (members ...)`,
PostgreSQL's plan read the whole households table: 2,003 rows for 2,000 households, 8 now. SQLite served
that OR from both indexes already (85 steps for 20 households and for 2,000); its test keeps it so."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from cases import intake
from cases.clock import FrozenClock
from cases.models import Base, Household, Member
from tests.conftest import counting_steps, rows_touched

_HOUSEHOLDS = Base.metadata.tables[Household.__tablename__]
_MEMBERS = Base.metadata.tables[Member.__tablename__]


def digest(n: int, who: str) -> str:
    """A stand-in for the vault's keyed hash of an ID number (64 hex digits)."""
    return hashlib.sha256(f"{who}-{n}".encode()).hexdigest()


def fill(db: Session, now: datetime, households: int) -> None:
    """`households` households, each with its head's ID hash and a second member's."""
    conn = db.connection()
    conn.execute(_MEMBERS.delete())
    conn.execute(_HOUSEHOLDS.delete())
    conn.execute(insert(_HOUSEHOLDS), [
        dict(id=n + 1, head_name=f"户主{n}", id_hash=digest(n, "head"), created_at=now)
        for n in range(households)
    ])
    conn.execute(insert(_MEMBERS), [
        dict(household_id=n + 1, name=f"家人{n}", id_hash=digest(n, "member"), is_head=False)
        for n in range(households)
    ])
    db.commit()


def lookup(db: Session, key: str) -> Household | None:
    return db.scalar(intake._HOUSEHOLD_OF_ID, {"digest": key})


def steps(db: Session, now: datetime, households: int) -> int:
    fill(db, now, households)
    with counting_steps(db) as counted:
        found = lookup(db, digest(households // 2, "member"))
    assert found is not None and found.id == households // 2 + 1
    db.rollback()
    return counted[0]


def test_the_household_of_an_id_is_found_by_index_however_many_households_there_are(
    db: Session, clock: FrozenClock
) -> None:
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("counts SQLite's own steps; PostgreSQL's plan is counted below")
    small = steps(db, clock(), 20)
    big = steps(db, clock(), 2_000)
    assert big < 1.5 * small, (small, big)


def test_on_postgresql_the_household_lookup_touches_a_handful_of_rows(
    db: Session, clock: FrozenClock
) -> None:
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner; SQLite's lookup is counted in steps above")
    fill(db, clock(), 2_000)
    conn = db.connection()
    conn.execute(text("ANALYZE households"))
    conn.execute(text("ANALYZE members"))
    sql = str(intake._HOUSEHOLD_OF_ID.params(digest=digest(1_000, "member")).compile(
        dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    plan = conn.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)).scalar_one()[0]["Plan"]
    db.rollback()
    assert rows_touched(plan) < 50, rows_touched(plan)


def test_a_head_s_own_household_comes_before_one_that_lists_the_same_id_as_a_member(
    db: Session, clock: FrozenClock
) -> None:
    fill(db, clock(), 3)
    conn = db.connection()  # household 3 also lists household 1's head as a member
    conn.execute(insert(_MEMBERS), [dict(household_id=3, name="户主0", id_hash=digest(0, "head"))])
    db.commit()
    found = lookup(db, digest(0, "head"))
    assert found is not None and found.id == 1
    member = lookup(db, digest(2, "member"))
    assert member is not None and member.id == 3
    assert lookup(db, digest(9, "member")) is None
