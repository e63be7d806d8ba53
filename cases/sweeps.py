"""Which cases the reminder tick runs the task rules over: those whose inputs changed, and once a day all.

The rules (cases.reminders.sync_case_tasks) read a case's row (status, notice dates, monitored_at, area),
the event that entered its status, its assignments, its evaluations and its tasks; and, only when they
create a task, the region's deadline settings and the staff holding a role. A tick finds the changed cases
in one statement whose every part is an index range (`changed_case_ids`):
- a case the sweep never ran over (`cases.tasks_synced_at` NULL: a new case, whatever stamped it);
- `cases.updated_at` (every workflow step, report joined, consent withdrawn: cases.steps.log_step and the
  writes that change a case's fields outside it), `case_events.at` (a status entered, also one written
  without touching the case row), `assignments.assigned_at | acknowledged_at | ended_at` and
  `evaluations.created_at` (an acknowledgement or an evaluation recorded by completing a task leaves the
  case row alone);
all at or after the previous tick's moment less LOOKBACK. Writers stamp these with their own clock when
they begin, and may commit a little later: a change stamped before a tick's moment but committed after it
read the changes is found by the next tick as long as it committed within LOOKBACK (a request lasts
seconds; the processes' clocks agree within that too, by NTP). So a changed case is usually synced twice,
a cost of a few milliseconds, against missing it until the daily sweep.

What changes without any write:
- the day: the first tick of each day in Beijing runs the rules over every open case (`sweep_due`), with
  the batches and pauses of any sweep. A quarter begins with a day, so the EVALUATE tasks of a new quarter
  (Task.cycle "2026Q2") are there from its first tick. The year picks the region settings, but the rules
  read them afresh at every sync (for the tasks they create), so a new year needs nothing more;
- region settings and staff edits (rare): the rules read them only to give a new task its deadline or its
  village, township or county assignee, and never move an existing task for them. An edit therefore changes
  nothing a sync of an unchanged case would do; the next change of the case, or the daily sweep, reads the
  new values. Marking every case of a region dirty for an edit would buy nothing.
- a user's change to a task (completed, postponed, moved with reassign_tasks): the rules never reopen a
  closed task nor move a due date; reassign_tasks goes with a new assignment, which is watched.

The console's task pages sync the same changed cases of the viewer's area before showing them
(`maybe_behind`). The two moments the choice needs live in `channel_state` (every process sees them;
several workers on PostgreSQL may run the idempotent rules at once): SWEEP_KEY, when the last full sweep
began, and SYNCED_KEY, when the last completed sync (full or of the changed cases) began.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, CompoundSelect, bindparam, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cases import reminders
from cases.clock import BEIJING
from cases.db import in_writer_turns, writer_turn
from cases.models import (
    OPEN_STATUSES,
    Assignment,
    Base,
    Case,
    CaseEvent,
    ChannelState,
    Evaluation,
    Task,
    TaskStatus,
)

LOOKBACK = timedelta(minutes=5)
SWEEP_KEY = "reminders:full_sweep"
SYNCED_KEY = "reminders:synced"

_STATE = Base.metadata.tables[ChannelState.__tablename__]
_CASES_TABLE = Base.metadata.tables[Case.__tablename__]
_CASES = select(Case).where(Case.id.in_(bindparam("ids", expanding=True))).order_by(Case.id)
_READ = select(_STATE.c.until).where(_STATE.c.key == bindparam("k"))
_WRITE = (
    update(_STATE)
    .where(_STATE.c.key == bindparam("k"))
    .values(until=bindparam("at"), updated_at=bindparam("at"))
)


def read_mark(db: Session, key: str) -> datetime | None:
    """The moment stored under `key`, or None."""
    return db.connection().execute(_READ, {"k": key}).scalar()


def write_mark(db: Session, key: str, at: datetime) -> None:
    """Store `at` under `key`. The last writer wins: an older moment only makes the next tick look further."""
    conn = db.connection()
    if conn.execute(_WRITE, {"k": key, "at": at}).rowcount:
        return
    try:
        with db.begin_nested():
            db.add(ChannelState(key=key, until=at, updated_at=at))
    except IntegrityError:  # another worker created it first
        conn.execute(_WRITE, {"k": key, "at": at})


def sweep_due(db: Session, now: datetime) -> bool:
    """Whether this tick runs the rules over every open case: no sweep yet, or none on this Beijing day."""
    last = read_mark(db, SWEEP_KEY)
    return last is None or last.astimezone(BEIJING).date() != now.astimezone(BEIJING).date()


def changed_since(db: Session) -> datetime | None:
    """The moment from which a tick looks for changes (the last sync's less LOOKBACK); None: never synced."""
    last = read_mark(db, SYNCED_KEY)
    return None if last is None else last - LOOKBACK


def _changed(since: datetime) -> CompoundSelect[int]:
    return union(
        select(Case.id).where(Case.tasks_synced_at.is_(None)),
        select(Case.id).where(Case.updated_at >= since),
        select(CaseEvent.case_id).where(CaseEvent.at >= since),
        select(Assignment.case_id).where(Assignment.assigned_at >= since),
        select(Assignment.case_id).where(Assignment.acknowledged_at >= since),
        select(Assignment.case_id).where(Assignment.ended_at >= since),
        select(Evaluation.case_id).where(Evaluation.created_at >= since),
    )


def changed_case_ids(db: Session, since: datetime) -> list[int]:
    """Cases never synced, or with a rule input stamped at or after `since` (one statement, index ranges)."""
    return sorted(db.scalars(_changed(since)))


def maybe_behind(db: Session, now: datetime) -> ColumnElement[bool] | None:
    """A WHERE clause on cases keeping those whose tasks may be behind their state: the changed ones, as
    the next tick will find them. None when every case may be (no sweep today, or never a sync)."""
    since = None if sweep_due(db, now) else changed_since(db)
    return None if since is None else Case.id.in_(_changed(since))


def mark_synced(db: Session, case_ids: Sequence[int], now: datetime) -> None:
    """Record that the rules ran over these cases. A plain UPDATE: the case's version and updated_at stay.
    A case another transaction is changing right now is skipped (PostgreSQL), never waited for: its change
    makes it due again anyway."""
    if not case_ids:
        return
    table = _CASES_TABLE
    free = select(table.c.id).where(table.c.id.in_(case_ids)).with_for_update(skip_locked=True)
    db.connection().execute(update(table).where(table.c.id.in_(free)).values(tasks_synced_at=now))


# --- the syncs ----------------------------------------------------------------------------------


def sync_all(
    db: Session,
    now: datetime,
    policy: reminders.ReminderPolicy | None = None,
    *,
    pause: reminders.Pause | None = None,
    lookups: reminders.Lookups | None = None,
) -> int:
    """Run the rules over every open case (and close the tasks of cases closed since). Returns cases seen.
    Commits every SYNC_BATCH cases, each batch in the process's writer turn: on SQLite (one writer) the
    requests go on between batches instead of waiting for the whole sweep (a second or so for a thousand
    cases). `pause(seconds)`, when given, is called after each batch with the time the batch took: a
    background sweep sleeps as long as it worked, so it never takes more than half of the process (one
    GIL) from the requests. The rules are idempotent, so a sweep cut short is finished by the next one.
    A tick runs this once a day (sync_due); the moment is recorded when every batch is done."""
    ids = set(db.scalars(select(Case.id).where(Case.status.in_(list(OPEN_STATUSES)))))
    ids |= set(
        db.scalars(
            select(Task.case_id).where(
                Task.status == TaskStatus.OPEN, Task.case_id.is_not(None), Task.kind.in_(reminders.TASK_KINDS)
            )
        )
    )
    db.commit()  # the read snapshot ends here: each batch reads afresh inside its writer turn
    return _sync_batches(db, sorted(ids), now, policy, pause, lookups, marks=(SWEEP_KEY, SYNCED_KEY))


def sync_changed(
    db: Session,
    now: datetime,
    policy: reminders.ReminderPolicy | None = None,
    *,
    pause: reminders.Pause | None = None,
    lookups: reminders.Lookups | None = None,
) -> int:
    """Run the rules over the cases whose inputs changed since the last sync, in the batches of sync_all
    (the module docstring says which changes count); over every open case when there was no sync yet. Returns
    cases seen."""
    since = changed_since(db)
    if since is None:
        return sync_all(db, now, policy, pause=pause, lookups=lookups)
    ids = changed_case_ids(db, since)
    db.commit()
    if not ids:
        return 0  # nothing changed since `since`: the next tick may look from there again
    return _sync_batches(db, ids, now, policy, pause, lookups, marks=(SYNCED_KEY,))


def sync_due(
    db: Session,
    now: datetime,
    policy: reminders.ReminderPolicy | None = None,
    *,
    pause: reminders.Pause | None = None,
    lookups: reminders.Lookups | None = None,
) -> tuple[int, bool]:
    """A tick's sync: every open case at the day's first tick, else the changed cases. Returns (cases seen,
    whether it was the full sweep)."""
    if sweep_due(db, now):
        return sync_all(db, now, policy, pause=pause, lookups=lookups), True
    return sync_changed(db, now, policy, pause=pause, lookups=lookups), False


def _sync_batches(
    db: Session,
    ids: Sequence[int],
    now: datetime,
    policy: reminders.ReminderPolicy | None,
    pause: reminders.Pause | None,
    lookups: reminders.Lookups | None,
    *,
    marks: tuple[str, ...],
) -> int:
    """The rules over `ids` in batches (a batch reads its cases' rule inputs together, and the tick's Lookups
    serve them all); then the sync's moments are recorded under `marks`, once every batch is done. Returns
    how many cases it saw."""
    policy = policy or reminders.ReminderPolicy()
    lookups = lookups or reminders.Lookups(db)

    def sync(batch: Sequence[int]) -> None:
        reminders.sync_cases(db, db.scalars(_CASES, {"ids": batch}).all(), now, policy, lookups)
        mark_synced(db, batch, now)

    in_writer_turns(db, ids, reminders.SYNC_BATCH, sync, pause)
    with writer_turn(db):
        for key in marks:
            write_mark(db, key, now)
        db.commit()
    return len(ids)
