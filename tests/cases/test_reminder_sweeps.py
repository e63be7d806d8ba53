"""A reminder tick runs the task rules over the changed cases only, and over every open case once a day —
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime

import pytest
from sqlalchemy import Engine, event, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from cases import reminders as r
from cases import sweeps
from cases.clock import BEIJING
from cases.models import (
    Assignment,
    Case,
    CaseEvent,
    CaseStatus,
    Evaluation,
    Household,
    ReporterKind,
    Task,
    TaskStatus,
)
from tests.cases.reminder_world import VILLAGE, OutboxNotifier, World, at_once, build_world, move

OTHERS = 4


def bj(m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=BEIJING)


def run(db: Session, now: datetime) -> r.RunReport:
    notifier = OutboxNotifier()
    notifier.now = now
    return r.run_reminders(db, now, notifier)


def tasks(db: Session, case_id: int, kind: str) -> list[Task]:
    return list(db.scalars(select(Task).where(Task.case_id == case_id, Task.kind == kind).order_by(Task.id)))


def add_cases(db: Session, w: World, at: datetime, n: int = OTHERS,
              status: CaseStatus = CaseStatus.APPLIED) -> None:
    first = int(db.scalar(select(func.count()).select_from(Case)) or 0)
    for i in range(first, first + n):
        household = Household(head_name=f"户{i}", village_code=VILLAGE, size=3, created_at=at)
        db.add(household)
        db.flush()
        case = Case(number=f"SB{i:08d}", household_id=household.id, area_code=VILLAGE, status=status,
                    discovery=ReporterKind.SELF, risks=["01"], guarantees=[], opened_at=at, updated_at=at,
                    monitored_at=at if status == CaseStatus.MONITORED else None)
        db.add(case)
        db.flush()
        db.add(CaseEvent(case_id=case.id, at=at, action=str(status), to_status=str(status), actor_label="t",
                         data={}))
        db.add(Assignment(case_id=case.id, staff_id=w.cadre.id, assigned_at=at))
    db.commit()


def county(db: Session, status: CaseStatus = CaseStatus.APPLIED, built: datetime | None = None) -> World:
    """The world's case and OTHERS more, all written at 9:00; the day's first tick at 9:30 syncs them all."""
    built = built or bj(3, 2, 9)
    w = build_world(db, built, status=status)
    add_cases(db, w, built, status=status)
    first = run(db, built.replace(minute=30))
    assert first.full_sweep and first.cases == OTHERS + 1
    return w


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


# --- only the changed cases --------------------------------------------------------------------


def test_a_tick_with_nothing_changed_syncs_no_case_and_writes_nothing(db: Session, engine: Engine) -> None:
    w = county(db)
    with counting(engine) as statements:
        report = run(db, bj(3, 2, 9, 35))
    assert (report.cases, report.full_sweep) == (0, False)
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    # and the same few statements with twice the cases (none of them per case)
    add_cases(db, w, bj(3, 2, 9), n=OTHERS + 1)
    run(db, bj(3, 2, 9, 40))  # syncs the new cases
    with counting(engine) as again:
        assert run(db, bj(3, 2, 9, 45)).cases == 0
    assert len(again) == len(statements)


def test_a_tick_after_a_status_change_syncs_that_case_alone(db: Session) -> None:
    w = county(db)
    move(db, w.case, CaseStatus.VERIFIED, bj(3, 2, 10))
    report = run(db, bj(3, 2, 10, 5))
    assert (report.cases, report.full_sweep) == (1, False)
    assert [t.status for t in tasks(db, w.case.id, "verify")] == [TaskStatus.DONE]
    assert [t.status for t in tasks(db, w.case.id, "village_review")] == [TaskStatus.OPEN]
    # found again by the next tick (it looks LOOKBACK before the last one), then left alone
    assert run(db, bj(3, 2, 10, 10)).cases == 1
    assert run(db, bj(3, 2, 10, 15)).cases == 0


def _acknowledge(db: Session, w: World, at: datetime) -> None:
    w.assignment.acknowledged_at = at  # as the demo does: the case row is not touched
    db.commit()


def _reassign(db: Session, w: World, at: datetime) -> None:
    w.assignment.ended_at = at
    db.add(Assignment(case_id=w.case.id, staff_id=w.cadre2.id, assigned_at=at))
    db.commit()


def _conclude_notice(db: Session, w: World, at: datetime) -> None:
    move(db, w.case, CaseStatus.TOWNSHIP_REVIEW, at)


def _reenter_by_event_alone(db: Session, w: World, at: datetime) -> None:
    """An event inserted without the ORM and without touching the case row (as cases.journal may)."""
    db.execute(insert(CaseEvent).values(case_id=w.case.id, at=at, action="returned", from_status="applied",
                                        to_status="applied", actor_label="t", data={}))
    db.commit()


CHANGES: dict[str, tuple[Callable[[Session, World, datetime], None], Callable[[Session, World], bool]]] = {
    "acknowledged": (_acknowledge, lambda db, w: [t.status for t in tasks(db, w.case.id, "acknowledge")]
                     == [TaskStatus.DONE]),
    "reassigned": (_reassign, lambda db, w: {t.assignee_staff_id for t in tasks(db, w.case.id, "verify")}
                   == {w.cadre2.id} and len(tasks(db, w.case.id, "acknowledge")) == 2),
    "status event alone": (_reenter_by_event_alone, lambda db, w: [
        t.status for t in tasks(db, w.case.id, "verify")] == [TaskStatus.DONE, TaskStatus.OPEN]),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_changed_assignment_or_event_updates_the_tasks_on_the_next_tick(db: Session, change: str) -> None:
    w = county(db)
    act, done = CHANGES[change]
    assert not done(db, w)
    assert run(db, bj(3, 2, 9, 40)).cases == 0
    act(db, w, bj(3, 2, 9, 42))
    report = run(db, bj(3, 2, 9, 45))
    assert (report.cases, report.full_sweep) == (1, False)
    assert done(db, w)


def test_an_evaluation_closes_the_quarter_task_on_the_next_tick(db: Session) -> None:
    w = county(db, CaseStatus.MONITORED, built=bj(2, 2, 9))
    assert [t.status for t in tasks(db, w.case.id, "evaluate")] == [TaskStatus.OPEN]
    db.add(Evaluation(case_id=w.case.id, evaluated_on=date(2026, 2, 2), staff_id=w.cadre.id, result="稳定",
                      created_at=bj(2, 2, 9, 50)))  # recorded without touching the case row
    db.commit()
    report = run(db, bj(2, 2, 9, 55))
    assert (report.cases, report.full_sweep) == (1, False)
    assert [t.status for t in tasks(db, w.case.id, "evaluate")] == [TaskStatus.DONE]


def test_a_concluded_notice_moves_the_work_to_the_township_on_the_next_tick(db: Session) -> None:
    w = county(db)
    move(db, w.case, CaseStatus.PUBLIC_NOTICE, bj(3, 2, 9, 40), notice_start=date(2026, 3, 2),
         notice_end=date(2026, 3, 8))
    assert run(db, bj(3, 2, 9, 45)).cases == 1
    assert tasks(db, w.case.id, "notice_end")[0].status == TaskStatus.OPEN
    run(db, bj(3, 2, 9, 50))
    _conclude_notice(db, w, bj(3, 2, 9, 52))
    assert run(db, bj(3, 2, 9, 55)).cases == 1
    assert tasks(db, w.case.id, "notice_end")[0].status == TaskStatus.DONE
    assert tasks(db, w.case.id, "township")[0].assignee_staff_id == w.township.id


def test_a_new_case_stamped_before_the_last_tick_is_still_synced(db: Session) -> None:
    """Never synced is a change, whatever time its writer gave it (an import, a slow filing)."""
    w = county(db)
    add_cases(db, w, bj(3, 1, 9), n=1)  # stamped the day before
    assert run(db, bj(3, 2, 9, 40)).cases == 1
    assert run(db, bj(3, 2, 9, 45)).cases == 0


def test_a_change_committed_late_within_the_lookback_is_found(db: Session) -> None:
    w = county(db)
    run(db, bj(3, 2, 10))
    # a writer that began at 9:58 commits after the 10:00 tick read the changes
    move(db, w.case, CaseStatus.VERIFIED, bj(3, 2, 9, 58))
    assert sweeps.LOOKBACK.total_seconds() >= 120
    assert run(db, bj(3, 2, 10, 5)).cases == 1
    assert tasks(db, w.case.id, "village_review")[0].status == TaskStatus.OPEN


# --- the daily sweep ---------------------------------------------------------------------------


def test_an_unchanged_case_is_not_synced_again_until_the_daily_sweep(db: Session) -> None:
    w = county(db)
    verify = tasks(db, w.case.id, "verify")[0]
    verify.assignee_staff_id = w.cadre2.id  # a direct edit the rules would undo: not a watched change
    db.commit()
    for minute in (40, 45, 50):
        report = run(db, bj(3, 2, 9, minute))
        assert (report.cases, report.full_sweep) == (0, False)
    db.refresh(verify)
    assert verify.assignee_staff_id == w.cadre2.id
    sweep = run(db, bj(3, 3, 0, 5))  # the first tick of the next day
    assert (sweep.cases, sweep.full_sweep) == (OTHERS + 1, True)
    db.refresh(verify)
    assert verify.assignee_staff_id == w.cadre.id
    assert run(db, bj(3, 3, 0, 10)).full_sweep is False


def test_the_daily_sweep_reads_each_batch_of_cases_together(db: Session, engine: Engine) -> None:
    w = county(db)
    add_cases(db, w, bj(3, 2, 9), n=2 * r.SYNC_BATCH - OTHERS - 1)
    assert run(db, bj(3, 2, 9, 35)).cases == 2 * r.SYNC_BATCH - OTHERS - 1
    with counting(engine) as statements:
        assert sweeps.sync_due(db, bj(3, 3, 0, 5)) == (2 * r.SYNC_BATCH, True)  # the sync part of the tick
    # a handful a batch (the cases, their assignments, status events, tasks and evaluations; the mark)
    # and a handful a sweep, instead of ten or so a case
    assert len(statements) < 2 * r.SYNC_BATCH


def test_a_new_quarter_creates_the_evaluate_tasks_at_its_first_tick(db: Session) -> None:
    w = county(db, CaseStatus.MONITORED, built=bj(3, 2, 9))
    assert [t.cycle for t in tasks(db, w.case.id, "evaluate")] == ["2026Q1"]
    assert run(db, bj(3, 31, 23, 55)).full_sweep  # a new day
    assert run(db, bj(3, 31, 23, 59)).cases == 0
    report = run(db, bj(4, 1, 0, 4))
    assert (report.cases, report.full_sweep) == (OTHERS + 1, True)
    q2 = db.scalars(select(Task).where(Task.kind == "evaluate", Task.cycle == "2026Q2")).all()
    assert len(q2) == OTHERS + 1 and all(t.status == TaskStatus.OPEN for t in q2)
    assert [t.status for t in tasks(db, w.case.id, "evaluate")] == [TaskStatus.DONE, TaskStatus.OPEN]


def test_the_sweep_moments_are_in_the_database_for_every_process(
    db: Session, session_factory: sessionmaker[Session]
) -> None:
    county(db)
    with session_factory() as other:  # another worker, with no memory of the first tick
        report = run(other, bj(3, 2, 9, 40))
        assert (report.cases, report.full_sweep) == (0, False)
        assert sweeps.read_mark(other, sweeps.SWEEP_KEY) == bj(3, 2, 9, 30)


def test_closed_cases_are_not_synced_by_the_daily_sweep(db: Session) -> None:
    w = county(db)
    move(db, w.case, CaseStatus.REFUSED, bj(3, 2, 9, 40), refused_reason="收入高于监测线")
    assert run(db, bj(3, 2, 9, 45)).cases == 1
    assert db.scalar(select(func.count()).select_from(Task).where(
        Task.case_id == w.case.id, Task.status == TaskStatus.OPEN)) == 0
    assert run(db, bj(3, 3, 0, 5)).cases == OTHERS


# --- several workers -----------------------------------------------------------------------------


def test_two_workers_syncing_the_same_changed_cases_stay_idempotent(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as db:
        w = county(db)
        case_id = w.case.id
        for case in db.scalars(select(Case)):
            move(db, case, CaseStatus.VERIFIED, bj(3, 2, 9, 40))  # every case needs a new task
    reports, errors = at_once(session_factory, lambda db: run(db, bj(3, 2, 9, 45)))
    assert errors == []
    assert all(not x.full_sweep for x in reports)
    with session_factory() as db:
        reviews = db.scalars(select(Task).where(Task.kind == "village_review")).all()
        assert len(reviews) == OTHERS + 1 and all(t.status == TaskStatus.OPEN for t in reviews)
        assert [t.status for t in tasks(db, case_id, "verify")] == [TaskStatus.DONE]
        assert run(db, bj(3, 2, 9, 55)).cases == OTHERS + 1  # the lookback: found once more, changed nothing
        assert db.scalar(select(func.count()).select_from(Task)) == 3 * (OTHERS + 1)


# --- tasks that are not the rules' ---------------------------------------------------------------


def test_a_callback_task_on_a_case_is_left_to_the_hotline(db: Session) -> None:
    """A household's 人工 request or a hotline callback about a case is not one of the rules' tasks: no
    sync may close it (it did, at the next tick, as 'done')."""
    w = county(db)
    callback = Task(case_id=w.case.id, kind="callback", cycle="cb1-1", area_code=VILLAGE,
                    due_at=bj(3, 2, 12), status=TaskStatus.OPEN, created_at=bj(3, 2, 9, 40), detail={})
    db.add(callback)
    db.commit()
    move(db, w.case, CaseStatus.VERIFIED, bj(3, 2, 9, 41))
    assert run(db, bj(3, 2, 9, 45)).cases == 1
    assert run(db, bj(3, 3, 0, 5)).full_sweep
    assert callback.id in {t.id for t in r.sync_case_tasks(db, w.case, bj(3, 3, 9))}
    db.commit()
    db.refresh(callback)
    assert (callback.status, callback.done_at) == (TaskStatus.OPEN, None)


def test_reminders_are_sent_in_batches_each_committed_in_its_own_writer_turn(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cases.models import ReminderLog

    monkeypatch.setattr(r, "SEND_BATCH", 2)
    county(db)
    other = sessionmaker(bind=db.get_bind())
    seen: list[int] = []

    def pause(_seconds: float) -> None:  # what another connection sees between two batches
        with other() as look:
            seen.append(int(look.scalar(select(func.count()).select_from(ReminderLog)) or 0))

    notifier = OutboxNotifier()
    now = bj(3, 4, 10)  # the acknowledgements of the cases assigned on the 2nd are due soon or overdue
    notifier.now = now
    before = int(db.scalar(select(func.count()).select_from(ReminderLog)) or 0)
    db.commit()
    report = r.run_reminders(db, now, notifier, pause=pause)
    after = int(db.scalar(select(func.count()).select_from(ReminderLog)) or 0)
    assert sum(report.sent.values()) >= 5 and after - before >= 5
    assert any(before < n < after for n in seen)  # progress committed and visible before the tick ended
