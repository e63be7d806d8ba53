"""cases.journal: a block's audit entries and case events are inserted at its end, in order, or not at all."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from cases import audit, journal
from cases.events import add_event
from cases.models import AuditEntry, Case, CaseEvent, CaseStatus, Household, ReporterKind

from .conftest import VILLAGE, World


def a_case(db: Session, now: datetime) -> Case:
    household = Household(head_name="张三", village_code=VILLAGE, created_at=now)
    db.add(household)
    db.flush()
    case = Case(number="SB00000001", household_id=household.id, area_code=VILLAGE, status=CaseStatus.APPLIED,
                discovery=ReporterKind.SELF, opened_at=now, updated_at=now)
    db.add(case)
    db.flush()
    return case


def note(db: Session, case: Case, now: datetime, n: int) -> None:
    add_event(db, case, action=f"step{n}", now=now, actor_label="system", data={"n": n})
    audit.record(db=db, actor="system", action=f"case.step{n}", entity="case", entity_id=case.id,
                 area_code=case.area_code, detail={"n": n}, now=now)


def counts(db: Session) -> tuple[int, int]:
    return (db.scalar(select(func.count()).select_from(CaseEvent)) or 0,
            db.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_rows_are_inserted_at_the_end_in_order(world: World) -> None:
    db, now = world.db, world.now
    case = a_case(db, now)
    with journal.batched(db):
        note(db, case, now, 1)
        with journal.batched(db):  # a nested block adds to the outer one
            note(db, case, now, 2)
        assert counts(db) == (0, 0)
        note(db, case, now, 3)
    assert counts(db) == (3, 3)
    events = db.scalars(select(CaseEvent).order_by(CaseEvent.id)).all()
    assert [(e.case_id, e.action, e.data, e.at, e.actor_label) for e in events] == [
        (case.id, f"step{n}", {"n": n}, now, "system") for n in (1, 2, 3)]
    entries = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.entity_id, e.area_code, e.detail, e.at) for e in entries] == [
        (f"case.step{n}", str(case.id), VILLAGE, {"n": n}, now) for n in (1, 2, 3)]
    note(db, case, now, 4)  # outside a block: added to the session as before
    assert counts(db) == (4, 4)


def test_an_error_drops_the_block_rows(world: World) -> None:
    db, now = world.db, world.now
    case = a_case(db, now)
    with pytest.raises(RuntimeError), journal.batched(db):
        note(db, case, now, 1)
        raise RuntimeError("refused")
    assert counts(db) == (0, 0)
    with journal.batched(db):
        note(db, case, now, 2)
    assert counts(db) == (1, 1)


def test_the_block_end_is_one_statement_on_postgresql_one_per_table_on_sqlite(
        world: World, engine: Engine) -> None:
    db, now = world.db, world.now
    case = a_case(db, now)
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cu, statement, *_: seen.append(statement))
    for rounds in (1, 2, 1):  # a shape seen before reuses its statement; another makes its own
        seen.clear()
        with journal.batched(db):
            for _ in range(rounds):
                note(db, case, now, rounds)
        assert len(seen) == (1 if engine.dialect.name == "postgresql" else 2)
    assert counts(db) == (4, 4)
    entries = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.detail, e.at, e.actor_staff_id) for e in entries] == [
        (f"case.step{n}", {"n": n}, now, None) for n in (1, 2, 2, 1)]
