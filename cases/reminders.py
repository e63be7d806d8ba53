"""Reminder rules: each case's state becomes due Tasks; run_reminders sends each reminder exactly once.

Rules (domain README "Timing" and "While monitored"; deadlines from the region's RegionSetting):
- acknowledge a new assignment within `ack_days` working days (the contact cadre);
- home verification within `verify_days` working days of the application (the contact cadre);
- the village review after verification, and concluding it when the 7-day public notice ends
  (the village committee, else the contact cadre);
- township and county steps waiting longer than `township_days` / `county_days` working days;
- the quarterly assistance-effect evaluation of every monitored household (Task.cycle = "2026Q1");
- the elimination steps (village proposes -> verification -> notice -> township -> county).
A task closes (done) when its condition is met, or is cancelled when the case is closed otherwise.
Tasks of other kinds on a case (a callback the household or the hotline asked for) are not the rules'.

`run_reminders(db, now, notifier)` is idempotent: a ReminderLog row (unique per task, kind, due date
and staff) is written in the same transaction as the Notifier's Outbox rows, so a reminder is never
sent twice for the same task and due date, and never lost. SMS reminders written during the quiet
hours are deferred (Outbox.next_attempt_at) to the end of the quiet hours, never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import BindParameter, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cases.clock import BEIJING
from cases.db import in_writer_turns, is_sqlite, writer_turn
from cases.models import (
    MONITORED_STATUSES,
    OPEN_STATUSES,
    Area,
    AreaLevel,
    Assignment,
    Case,
    CaseEvent,
    CaseStatus,
    Channel,
    Evaluation,
    OutboxStatus,
    ReminderLog,
    Role,
    Staff,
    Task,
    TaskStatus,
)
from cases.notify import StaffNotifier
from cases.regions import ancestors, nearest_setting
from cases.workdays import add_workdays, is_workday  # noqa: E402 - re-exported for callers

log = logging.getLogger(__name__)


CLOSED_STATUSES = frozenset({CaseStatus.REFUSED, CaseStatus.WITHDRAWN, CaseStatus.ELIMINATED})

# Task kinds and who does them ("cadre" = the case's contact cadre).
ACKNOWLEDGE = "acknowledge"
EVALUATE = "evaluate"
CADRE, VILLAGE, TOWNSHIP, COUNTY = "cadre", "village", "township", "county"


@dataclass(frozen=True)
class StepRule:
    """While a case is in `status`, a task `kind` is due `days` (working days, or calendar for the
    notice) after it entered the status, for the staff of `role`."""

    status: CaseStatus
    kind: str
    role: str
    setting: str  # the RegionSetting field holding the number of days
    after_notice_end: bool = False


STEP_RULES: tuple[StepRule, ...] = (
    StepRule(CaseStatus.APPLIED, "verify", CADRE, "verify_days"),
    StepRule(CaseStatus.VERIFIED, "village_review", VILLAGE, "township_days"),
    StepRule(CaseStatus.PUBLIC_NOTICE, "notice_end", VILLAGE, "ack_days", after_notice_end=True),
    StepRule(CaseStatus.TOWNSHIP_REVIEW, "township", TOWNSHIP, "township_days"),
    StepRule(CaseStatus.COUNTY_REVIEW, "county", COUNTY, "county_days"),
    StepRule(CaseStatus.ELIM_PROPOSED, "elim_verify", CADRE, "verify_days"),
    StepRule(CaseStatus.ELIM_VERIFIED, "elim_review", VILLAGE, "township_days"),
    StepRule(CaseStatus.ELIM_NOTICE, "elim_notice_end", VILLAGE, "ack_days", after_notice_end=True),
    StepRule(CaseStatus.ELIM_TOWNSHIP, "elim_township", TOWNSHIP, "township_days"),
    StepRule(CaseStatus.ELIM_COUNTY, "elim_county", COUNTY, "county_days"),
)
RULE_BY_KIND = {r.kind: r for r in STEP_RULES}
VISIT_KINDS = frozenset({"verify", "elim_verify"})  # step tasks whose step is a home visit (入户核实)
CADRE_KINDS = frozenset({ACKNOWLEDGE, EVALUATE} | {r.kind for r in STEP_RULES if r.role == CADRE})
TASK_KINDS = (ACKNOWLEDGE, EVALUATE, *(r.kind for r in STEP_RULES))

# Defaults when no RegionSetting covers the case's area (domain README "Timing").
DEFAULT_DAYS = {
    "ack_days": 1,
    "assign_days": 1,
    "verify_days": 7,
    "notice_days": 7,
    "township_days": 5,
    "county_days": 10,
    "evaluation_days": 90,
    "escalation_margin_days": 2,
}


@dataclass(frozen=True)
class ReminderPolicy:
    """Delivery knobs (from Settings): SMS quiet hours in Beijing time, the digest hour, 'due soon'."""

    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    digest_at: time = time(8, 0)
    workday_end: time = time(18, 0)
    due_soon: timedelta = timedelta(hours=24)
    escalation_margin_days: int | None = None  # overrides the region setting when given
    fallback_escalation_margin_days: int = DEFAULT_DAYS["escalation_margin_days"]  # no region setting


# --- working days ------------------------------------------------------------------------------


def last_workday_on_or_before(day: date) -> date:
    while not is_workday(day):
        day -= timedelta(days=1)
    return day


def local_date(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def at_local(day: date, when: time) -> datetime:
    return datetime.combine(day, when, tzinfo=BEIJING)


def quarter_of(day: date) -> tuple[str, date, date]:
    """("2026Q1", first day, last day) of the quarter holding `day`."""
    q = (day.month - 1) // 3 + 1
    first = date(day.year, 3 * q - 2, 1)
    nxt = date(day.year + (q == 4), (3 * q) % 12 + 1, 1)
    return f"{day.year}Q{q}", first, nxt - timedelta(days=1)


# --- settings and people -----------------------------------------------------------------------


def staff_for_role(db: Session, case_area: str, role: str) -> Staff | None:
    """The first active staff of `role` responsible for the case's village / township / county."""
    staff_id = Lookups(db).staff_id(case_area, role)
    return None if staff_id is None else db.get(Staff, staff_id)


class Lookups:
    """Areas' ancestors, deadline settings and role holders, each read once for a tick (or a single sync).
    They change rarely, and the rules read them only to give a new task its deadline and assignee or to
    escalate: a value read a few seconds before an edit is as good as one read before the tick began."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self._chains: dict[str, list[tuple[str, AreaLevel]]] = {}
        self._days: dict[tuple[str, int, tuple[tuple[str, int], ...]], dict[str, int]] = {}
        self._staff: dict[tuple[str, str], int | None] = {}

    def know_chain(self, areas: Sequence[Area]) -> None:
        """Take the chain of areas[0] as read by the caller (`ancestors`, nearest first): not read again."""
        if areas:
            self._chains[areas[0].code] = [(a.code, a.level) for a in areas]

    def chain(self, area_code: str) -> list[tuple[str, AreaLevel]]:
        """The area and its ancestors (code, level), nearest first."""
        found = self._chains.get(area_code)
        if found is None:
            found = self._chains[area_code] = [(a.code, a.level) for a in ancestors(self.db, area_code)]
        return found

    def days(self, area_code: str, year: int, defaults: dict[str, int] | None = None) -> dict[str, int]:
        """The deadline settings for an area and year (once per area, year and defaults): the nearest
        ancestor's row for the year or an earlier one; `defaults` (over DEFAULT_DAYS) when none covers it."""
        key = (area_code, year, tuple(sorted((defaults or {}).items())))
        found = self._days.get(key)
        if found is not None:
            return found
        chain = [code for code, _level in self.chain(area_code)] or [area_code]
        row = nearest_setting(self.db, chain, year)
        if row is None:
            found = DEFAULT_DAYS | (defaults or {})
        else:
            found = {
                k: int(getattr(row, k) if getattr(row, k) is not None else v) for k, v in DEFAULT_DAYS.items()
            }
        self._days[key] = found
        return found

    def staff_id(self, case_area: str, role: str) -> int | None:
        """staff_for_role's id, once per area and role."""
        key = (case_area, role)
        if key in self._staff:
            return self._staff[key]
        level = {VILLAGE: AreaLevel.VILLAGE, TOWNSHIP: AreaLevel.TOWNSHIP, COUNTY: AreaLevel.COUNTY}[role]
        area = next((code for code, lv in self.chain(case_area) if lv == level), None)
        if area is None and role == VILLAGE:
            area = case_area
        found = None
        if area is not None:
            found = self.db.scalar(
                select(Staff.id)
                .where(Staff.area_code == area, Staff.role == Role(role), Staff.active.is_(True))
                .order_by(Staff.id)
                .limit(1)
            )
        self._staff[key] = found
        return found


def _assignee(lookups: Lookups, case: Case, role: str, cadre: int | None) -> int | None:
    if role == CADRE:
        return cadre
    person = lookups.staff_id(case.area_code, role)
    if person is None and role == VILLAGE:
        return cadre
    return person


def escalation_target(db: Session, task: Task) -> Staff | None:
    """Overdue cadre and village work goes up to the township; township work to the county."""
    target = _escalation_target_id(Lookups(db), task)
    return None if target is None else db.get(Staff, target)


def _escalation_target_id(lookups: Lookups, task: Task) -> int | None:
    rule = RULE_BY_KIND.get(task.kind)
    up = COUNTY if rule is not None and rule.role in (TOWNSHIP, COUNTY) else TOWNSHIP
    return None if task.area_code is None else lookups.staff_id(task.area_code, up)


# --- the rules ---------------------------------------------------------------------------------


@dataclass
class Wanted:
    """A task the case's state calls for."""

    kind: str
    cycle: str
    due_at: datetime
    assignee_staff_id: int | None


SYNC_BATCH = 25  # cases per transaction of a sync (cases.sweeps): about 10 ms in the writer turn

Pause = Callable[[float], None]

_IDS: BindParameter[int] = bindparam("ids", expanding=True)
_ASSIGNMENTS = (  # current ones; the latest wins
    select(Assignment)
    .where(Assignment.case_id.in_(_IDS), Assignment.ended_at.is_(None))
    .order_by(Assignment.id)
)
_STATUS_EVENTS = select(CaseEvent.case_id, CaseEvent.id, CaseEvent.to_status, CaseEvent.at).where(
    CaseEvent.case_id.in_(_IDS), CaseEvent.to_status.is_not(None)
)
_TASKS = (  # the rules' own: a callback task on a case is the hotline's
    select(Task).where(Task.case_id.in_(_IDS), Task.kind.in_(TASK_KINDS)).order_by(Task.id)
)
_EVALUATED = select(Evaluation.case_id, Evaluation.evaluated_on).where(Evaluation.case_id.in_(_IDS))


@dataclass
class CaseInputs:
    """What the rules read of a case besides its row: read for a batch of cases at once (`load_inputs`)."""

    assignment: Assignment | None = None  # the current contact cadre's
    status_events: list[tuple[int, str | None, datetime]] = field(default_factory=list)  # (id, to_status, at)
    tasks: list[Task] = field(default_factory=list)
    evaluated_on: list[date] = field(default_factory=list)

    def entered(self, case: Case) -> tuple[datetime, str]:
        """When the case entered its current status, and a cycle key telling repeated visits apart."""
        status = str(case.status)
        latest = max((e for e in self.status_events if e[1] == status), default=None)
        if latest is not None:
            return latest[2], f"e{latest[0]}"
        if case.status == CaseStatus.APPLIED:
            return case.opened_at, ""
        return case.updated_at, ""

    def evaluated_in(self, first: date, last: date) -> bool:
        return any(first <= day <= last for day in self.evaluated_on)


def load_inputs(db: Session, case_ids: Sequence[int]) -> dict[int, CaseInputs]:
    """The rules' inputs for these cases, in four statements whatever their number."""
    inputs = {case_id: CaseInputs() for case_id in case_ids}
    if not case_ids:
        return inputs
    params = {"ids": list(case_ids)}
    for assignment in db.scalars(_ASSIGNMENTS, params):
        inputs[assignment.case_id].assignment = assignment
    for case_id, event_id, to_status, at in db.execute(_STATUS_EVENTS, params):
        inputs[case_id].status_events.append((event_id, to_status, at))
    for task in db.scalars(_TASKS, params):
        if task.case_id is not None:
            inputs[task.case_id].tasks.append(task)
    for case_id, day in db.execute(_EVALUATED, params):
        inputs[case_id].evaluated_on.append(day)
    return inputs


def wanted_tasks(db: Session, case: Case, now: datetime, policy: ReminderPolicy) -> list[Wanted]:
    """The tasks this case's state calls for now."""
    return _wanted(case, load_inputs(db, [case.id])[case.id], now, policy, Lookups(db))


def acknowledge_due(
    days: dict[str, int], assigned_at: datetime, policy: ReminderPolicy | None = None
) -> datetime:
    """When an assignment is to be acknowledged: `ack_days` working days after it, at the working day's end
    (`days`: the case area's Lookups.days). The 'case_assigned' notice says the same moment."""
    policy = policy or ReminderPolicy()
    return at_local(add_workdays(local_date(assigned_at), days["ack_days"]), policy.workday_end)


def _wanted(
    case: Case, inputs: CaseInputs, now: datetime, policy: ReminderPolicy, lookups: Lookups
) -> list[Wanted]:
    if case.status not in OPEN_STATUSES:
        return []
    days = lookups.days(case.area_code, local_date(now).year)
    out: list[Wanted] = []
    assignment = inputs.assignment
    cadre = assignment.staff_id if assignment is not None else None
    if assignment is not None and assignment.acknowledged_at is None:
        due_at = acknowledge_due(days, assignment.assigned_at, policy)
        # the cycle names the assignment ("a" and its id; assignment_of reads it back)
        out.append(Wanted(ACKNOWLEDGE, f"a{assignment.id}", due_at, assignment.staff_id))
    for rule in STEP_RULES:
        if rule.status != case.status:
            continue
        entered, cycle = inputs.entered(case)
        if rule.after_notice_end:
            notice_end = case.notice_end or (local_date(entered) + timedelta(days=days["notice_days"] - 1))
            due_day = add_workdays(notice_end, days[rule.setting])
        else:
            due_day = add_workdays(local_date(entered), days[rule.setting])
        assignee = _assignee(lookups, case, rule.role, cadre)
        out.append(Wanted(rule.kind, cycle, at_local(due_day, policy.workday_end), assignee))
    if case.status in MONITORED_STATUSES and case.monitored_at is not None:
        label, _first, last = quarter_of(local_date(now))
        # A household monitored in the last fortnight of a quarter is first evaluated the next quarter.
        if local_date(case.monitored_at) <= last - timedelta(days=14):
            due_day = last_workday_on_or_before(last)
            out.append(Wanted(EVALUATE, label, at_local(due_day, policy.workday_end), cadre))
    return out


def _condition_met(inputs: CaseInputs, task: Task) -> bool:
    """Whether an open task's work is done although the case still calls for its kind."""
    if task.kind == EVALUATE:
        _label, first, last = quarter_of(date(int(task.cycle[:4]), 3 * int(task.cycle[-1]) - 2, 1))
        return inputs.evaluated_in(first, last)
    return False


def assignment_of(task: Task) -> int | None:
    """The assignment an acknowledge task is for (its cycle is "a" and the assignment's id)."""
    digits = task.cycle[1:]
    return int(digits) if task.kind == ACKNOWLEDGE and task.cycle[:1] == "a" and digits.isdigit() else None


def _assignment_ended(db: Session, task: Task) -> bool:
    assignment_id = assignment_of(task)
    assignment = db.get(Assignment, assignment_id) if assignment_id is not None else None
    return assignment is None or assignment.ended_at is not None


def sync_case_tasks(
    db: Session, case: Case, now: datetime, policy: ReminderPolicy | None = None
) -> list[Task]:
    """Create the tasks the case's state calls for, close those whose condition is met, and keep
    cadre tasks with the current contact cadre. Returns the case's open tasks."""
    sync_with(db, case, load_inputs(db, [case.id])[case.id], now, policy or ReminderPolicy(), Lookups(db))
    db.flush()
    return list(
        db.scalars(
            select(Task)
            .where(Task.case_id == case.id, Task.status == TaskStatus.OPEN)
            .order_by(Task.due_at, Task.id)
        )
    )


def sync_cases(
    db: Session,
    cases: Sequence[Case],
    now: datetime,
    policy: ReminderPolicy | None = None,
    lookups: Lookups | None = None,
) -> None:
    """sync_case_tasks for many cases in the caller's transaction, their inputs read a batch at a time
    (`lookups`: a tick's, shared by all its batches)."""
    policy, lookups = policy or ReminderPolicy(), lookups or Lookups(db)
    for start in range(0, len(cases), SYNC_BATCH):
        batch = cases[start : start + SYNC_BATCH]
        inputs = load_inputs(db, [case.id for case in batch])
        for case in batch:
            sync_with(db, case, inputs[case.id], now, policy, lookups)
    db.flush()


def sync_with(
    db: Session, case: Case, inputs: CaseInputs, now: datetime, policy: ReminderPolicy, lookups: Lookups
) -> None:
    """The rules over one case whose inputs are read (load_inputs), with the caller's Lookups."""
    wanted = {(w.kind, w.cycle): w for w in _wanted(case, inputs, now, policy, lookups)}
    existing = {(t.kind, t.cycle): t for t in inputs.tasks}
    cadre = inputs.assignment.staff_id if inputs.assignment is not None else None
    for key, task in existing.items():
        if task.status != TaskStatus.OPEN:
            continue
        if key not in wanted:
            task.status = TaskStatus.CANCELLED if case.status in CLOSED_STATUSES else TaskStatus.DONE
            task.done_at = now
            if task.kind == ACKNOWLEDGE and _assignment_ended(db, task):
                task.status = TaskStatus.CANCELLED  # the assignment ended: the new cadre acknowledges anew
        elif _condition_met(inputs, task):
            task.status, task.done_at = TaskStatus.DONE, now
        elif (
            task.kind in CADRE_KINDS
            and task.kind != ACKNOWLEDGE
            and cadre is not None
            and task.assignee_staff_id != cadre
        ):
            task.assignee_staff_id = cadre
    for key, w in wanted.items():
        if key in existing:
            continue
        task = Task(
            case_id=case.id,
            kind=w.kind,
            cycle=w.cycle,
            assignee_staff_id=w.assignee_staff_id,
            area_code=case.area_code,
            due_at=w.due_at,
            status=TaskStatus.OPEN,
            created_at=now,
        )
        if _condition_met(inputs, task):
            task.status, task.done_at = TaskStatus.DONE, now
        _add_task(db, task)


def _add_task(db: Session, task: Task) -> None:
    """Add a new task. On PostgreSQL several workers may sync the same case at once: a task another one
    has just created is theirs, not an error. (SQLite: one writer, and a batch reads in its writer turn.)"""
    if is_sqlite(db):
        db.add(task)
        return
    try:
        with db.begin_nested():
            db.add(task)
    except IntegrityError:
        pass


# --- classification ----------------------------------------------------------------------------


OK, SOON, OVERDUE = "ok", "soon", "overdue"
COLOURS = {OK: "green", SOON: "orange", OVERDUE: "red"}


def urgency(task: Task, now: datetime, policy: ReminderPolicy | None = None) -> str:
    """'overdue' (red) past its due time, 'soon' (orange) within the due-soon window, else 'ok'."""
    policy = policy or ReminderPolicy()
    if task.status != TaskStatus.OPEN:
        return OK
    if now >= task.due_at:
        return OVERDUE
    if task.due_at - now <= policy.due_soon:
        return SOON
    return OK


def colour(task: Task, now: datetime, policy: ReminderPolicy | None = None) -> str:
    return COLOURS[urgency(task, now, policy)]


def open_tasks_for(db: Session, staff_id: int) -> list[Task]:
    """A staff member's open tasks, most pressing first."""
    return list(
        db.scalars(
            select(Task)
            .where(Task.assignee_staff_id == staff_id, Task.status == TaskStatus.OPEN)
            .order_by(Task.due_at, Task.id)
        )
    )


# --- cadre actions -----------------------------------------------------------------------------


class TaskError(ValueError):
    """A task action that cannot be done (unknown task, not yours, already closed, bad days, a step's
    task)."""


# A step's task (入户核实, 村评议, ...) is not closed by a word or a button: it closes by itself once its step
# is recorded (sync_case_tasks). Closed by hand, 入户核实 stopped its reminders with no visit on record and
# the case waited in 'applied' for a visit no one had recorded.
STEP_TASK = "step_task"


def _own_open_task(db: Session, task_id: int, staff_id: int) -> Task:
    task = db.get(Task, task_id)
    if task is None or task.assignee_staff_id != staff_id:
        raise TaskError("not_found")
    if task.status != TaskStatus.OPEN:
        raise TaskError("closed")
    return task


def complete_task(db: Session, *, task_id: int, staff_id: int, note: str, now: datetime) -> Task:
    """Close a task by its assignee. Acknowledging records the assignment's acknowledgement; an
    evaluation task records the quarterly Evaluation with the note as its result; a step's task is refused
    (STEP_TASK: it closes when its step is recorded)."""
    task = _own_open_task(db, task_id, staff_id)
    if task.kind in RULE_BY_KIND:
        raise TaskError(STEP_TASK)
    note = note.strip()
    if task.kind == ACKNOWLEDGE and task.case_id is not None:
        assignment = db.scalar(
            select(Assignment)
            .where(
                Assignment.case_id == task.case_id,
                Assignment.staff_id == staff_id,
                Assignment.ended_at.is_(None),
            )
            .order_by(Assignment.id.desc())
            .limit(1)
        )
        if assignment is not None and assignment.acknowledged_at is None:
            assignment.acknowledged_at = now
    if task.kind == EVALUATE and task.case_id is not None:
        if not note:
            raise TaskError("note_required")
        db.add(
            Evaluation(
                case_id=task.case_id,
                evaluated_on=local_date(now),
                staff_id=staff_id,
                result=note,
                created_at=now,
            )
        )
    task.status, task.done_at, task.done_note = TaskStatus.DONE, now, note or None
    db.flush()
    return task


MAX_POSTPONE_DAYS = 30


def postpone_task(db: Session, *, task_id: int, staff_id: int, days: int, reason: str, now: datetime) -> Task:
    """Move a task's deadline by `days` working days (from the later of now and the old deadline)."""
    task = _own_open_task(db, task_id, staff_id)
    if not 1 <= days <= MAX_POSTPONE_DAYS:
        raise TaskError("bad_days")
    if not reason.strip():
        raise TaskError("reason_required")
    base = max(task.due_at, now)
    workday_end = task.due_at.astimezone(BEIJING).timetz()
    task.due_at = at_local(add_workdays(local_date(base), days), workday_end.replace(tzinfo=None))
    task.postponed_reason = reason.strip()
    task.escalated_at = None
    db.flush()
    return task


def reassign_tasks(
    db: Session, *, case_id: int, from_staff_id: int, to_staff_id: int, now: datetime, notifier: StaffNotifier
) -> list[Task]:
    """Move a case's open tasks from one cadre to another and tell both (a reassigned case)."""
    tasks = list(
        db.scalars(
            select(Task).where(
                Task.case_id == case_id,
                Task.assignee_staff_id == from_staff_id,
                Task.status == TaskStatus.OPEN,
            )
        )
    )
    for task in tasks:
        if task.kind == ACKNOWLEDGE:  # acknowledging belongs to the ended assignment
            task.status, task.done_at = TaskStatus.CANCELLED, now
        else:
            task.assignee_staff_id = to_staff_id
    db.flush()
    tasks = [t for t in tasks if t.status == TaskStatus.OPEN]
    case = db.get(Case, case_id)
    params = {"case_number": case.number if case else "", "tasks": len(tasks)}
    notifier.notify_staff(db, staff_id=from_staff_id, event="tasks_moved_away", params=params)
    notifier.notify_staff(db, staff_id=to_staff_id, event="tasks_moved_in", params=params)
    return tasks


# --- sending -----------------------------------------------------------------------------------


def in_quiet_hours(now: datetime, policy: ReminderPolicy) -> datetime | None:
    """When the SMS quiet hours holding `now` end (aware), or None outside them."""
    local = now.astimezone(BEIJING)
    t = local.time().replace(tzinfo=None)
    start, end = policy.quiet_start, policy.quiet_end
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return at_local(day, end)


def task_params(db: Session, task: Task, now: datetime, policy: ReminderPolicy) -> dict[str, Any]:
    """What a reminder says about a task: nothing sensitive (case number, kind, village, deadline)."""
    case = db.get(Case, task.case_id) if task.case_id else None
    village = db.get(Area, case.area_code) if case else None
    return {
        "task_id": task.id,
        "task_kind": task.kind,
        "case_number": case.number if case else "",
        "village": village.name if village else "",
        "due_at": task.due_at.isoformat(),
        "urgency": urgency(task, now, policy),
    }


@dataclass
class RunReport:
    """What one run did: cases whose tasks were synced (all open ones in the day's full sweep, else the
    changed ones), reminders written per kind, SMS deferred by quiet hours."""

    cases: int = 0
    full_sweep: bool = False
    sent: dict[str, int] = field(default_factory=dict)
    deferred_sms: int = 0

    def count(self, kind: str) -> None:
        self.sent[kind] = self.sent.get(kind, 0) + 1


class _Sender:
    def __init__(
        self, db: Session, now: datetime, notifier: StaffNotifier, policy: ReminderPolicy, report: RunReport
    ) -> None:
        self.db, self.now, self.notifier, self.policy, self.report = db, now, notifier, policy, report
        self.quiet_until = in_quiet_hours(now, policy)

    def send(
        self,
        *,
        task_id: int | None,
        staff_id: int,
        kind: str,
        due_at: datetime,
        event: str,
        params: dict[str, Any],
    ) -> bool:
        """Log and notify once per (task, kind, due_at, staff); False when it was already sent."""
        db = self.db
        already = db.scalar(
            select(ReminderLog.id).where(
                ReminderLog.task_id.is_(None) if task_id is None else ReminderLog.task_id == task_id,
                ReminderLog.kind == kind,
                ReminderLog.due_at == due_at,
                ReminderLog.staff_id == staff_id,
            )
        )
        if already is not None:
            return False
        key = f"{kind}:{task_id or '-'}:{staff_id}:{due_at.astimezone(BEIJING).isoformat()}"
        try:
            with db.begin_nested():
                entry = ReminderLog(
                    task_id=task_id,
                    staff_id=staff_id,
                    kind=kind,
                    due_at=due_at,
                    dedupe_key=key,
                    created_at=self.now,
                )
                db.add(entry)
                db.flush()
        except IntegrityError:
            return False  # another worker sent it meanwhile
        # the rows this notification wrote, as the notifier says: on PostgreSQL a query for the rows newer
        # than before would also find other writers' rows committed meanwhile (a household's reply)
        rows = self.notifier.notify_staff(db, staff_id=staff_id, event=event, params=params)
        db.flush()
        if rows:
            entry.outbox_id = rows[0].id
        if self.quiet_until is not None:
            for row in rows:
                if (
                    row.channel == Channel.SMS
                    and row.status == OutboxStatus.PENDING
                    and row.next_attempt_at < self.quiet_until
                ):
                    row.next_attempt_at = self.quiet_until
                    self.report.deferred_sms += 1
        self.report.count(kind)
        return True


def run_reminders(
    db: Session, now: datetime, notifier: StaffNotifier, policy: ReminderPolicy | None = None,
    *, pause: Pause | None = None,
) -> RunReport:
    """Sync the tasks of the changed cases, or of every case at the day's first run, then send due-soon,
    overdue, escalation and daily digest reminders, each once; both committed in batches, each batch in
    the process's writer turn, with `pause` after each."""
    policy = policy or ReminderPolicy()
    report = RunReport()
    lookups = Lookups(db)  # areas, deadlines and role holders, read once for the whole tick
    from cases import sweeps  # it imports this module: which cases the rules run over, in batches

    report.cases, report.full_sweep = sweeps.sync_due(db, now, policy, pause=pause, lookups=lookups)
    _send_due(db, now, notifier, policy, report, lookups, pause)
    return report


SEND_BATCH = 25  # due tasks per transaction of the sending: about 50 ms in the writer turn


def _send_due(
    db: Session,
    now: datetime,
    notifier: StaffNotifier,
    policy: ReminderPolicy,
    report: RunReport,
    lookups: Lookups,
    pause: Pause | None = None,
) -> None:
    """Only tasks due soon or overdue can call for a reminder; whatever the log already holds for their
    current due date is read at once, so a tick with nothing new to send builds no message. Sent SEND_BATCH
    tasks a transaction, each in the writer turn: a tick after many new cases (each new assignment's
    acknowledgement is due soon) wrote ~2 ms of reminder a case, and in one turn held SQLite's writer
    for seconds while every request waited. The reminder log makes each batch's work happen once."""
    horizon = now + policy.due_soon  # urgency() is 'ok' after it
    due = (Task.status == TaskStatus.OPEN, Task.due_at <= horizon)
    tasks = list(db.scalars(select(Task).where(*due).order_by(Task.due_at, Task.id)))
    logged = {
        (task_id, kind, due_at, staff_id)
        for task_id, kind, due_at, staff_id in db.execute(
            select(ReminderLog.task_id, ReminderLog.kind, ReminderLog.due_at, ReminderLog.staff_id)
            .join(Task, Task.id == ReminderLog.task_id)
            .where(*due, ReminderLog.due_at == Task.due_at)
        )
    }
    announced = _announced_due_soon(db, tasks, policy)
    db.commit()  # the read snapshot ends here: each batch writes in its own writer turn

    def send(batch: Sequence[Task]) -> None:
        sender = _Sender(db, now, notifier, policy, report)
        for task in batch:
            level = urgency(task, now, policy)
            if task.assignee_staff_id is not None and level != OK:
                kind = "overdue" if level == OVERDUE else "due"
                said = kind == "due" and task.id in announced  # by the assignment's notice, just now
                if not said and (task.id, kind, task.due_at, task.assignee_staff_id) not in logged:
                    sender.send(
                        task_id=task.id,
                        staff_id=task.assignee_staff_id,
                        kind=kind,
                        due_at=task.due_at,
                        event=f"task_{kind}",
                        params=task_params(db, task, now, policy),
                    )
            if level == OVERDUE:
                _maybe_escalate(db, task, now, policy, sender, lookups, logged)

    in_writer_turns(db, tasks, SEND_BATCH, send, pause)
    with writer_turn(db):
        _digests(db, now, policy, _Sender(db, now, notifier, policy, report))
        db.commit()


def _announced_due_soon(db: Session, tasks: Sequence[Task], policy: ReminderPolicy) -> set[int]:
    """Acknowledge tasks whose assignment came already inside the due-soon window (a case assigned after
    the working day: acknowledged by the next day's end, under 24 hours away). The 'case_assigned' notice
    the cadre got then says it is to be acknowledged; a 'due soon' reminder on the next tick, minutes
    later, would say it again. They are reminded when overdue, and escalated, as any task."""
    wanted = {aid: t for t in tasks if (aid := assignment_of(t)) is not None}
    if not wanted:
        return set()
    assigned = db.execute(
        select(Assignment.id, Assignment.assigned_at).where(Assignment.id.in_(list(wanted)))
    )
    return {wanted[aid].id for aid, at in assigned if wanted[aid].due_at - at <= policy.due_soon}


def _maybe_escalate(
    db: Session,
    task: Task,
    now: datetime,
    policy: ReminderPolicy,
    sender: _Sender,
    lookups: Lookups,
    logged: set[tuple[int | None, str, datetime, int]],
) -> None:
    margin = policy.escalation_margin_days
    if margin is None:
        fallback = {"escalation_margin_days": policy.fallback_escalation_margin_days}
        days = lookups.days(task.area_code or "", local_date(now).year, fallback)
        margin = days["escalation_margin_days"]
    if now < task.due_at + timedelta(days=margin):
        return
    target = _escalation_target_id(lookups, task)
    if target is None or target == task.assignee_staff_id:
        return
    if (task.id, "escalation", task.due_at, target) in logged:
        return
    params = task_params(db, task, now, policy)
    assignee = db.get(Staff, task.assignee_staff_id) if task.assignee_staff_id else None
    params["assignee"] = assignee.name if assignee else ""
    params["days_overdue"] = (local_date(now) - local_date(task.due_at)).days
    if sender.send(
        task_id=task.id,
        staff_id=target,
        kind="escalation",
        due_at=task.due_at,
        event="task_escalated",
        params=params,
    ):
        task.escalated_at = now


def digest_lines(db: Session, staff_id: int, now: datetime, policy: ReminderPolicy) -> list[dict[str, Any]]:
    return [task_params(db, t, now, policy) for t in open_tasks_for(db, staff_id)]


def _digests(db: Session, now: datetime, policy: ReminderPolicy, sender: _Sender) -> None:
    """One digest a day per staff member with open tasks, from the digest hour (Beijing) on."""
    local = now.astimezone(BEIJING)
    if local.time().replace(tzinfo=None) < policy.digest_at:
        return
    slot = at_local(local.date(), policy.digest_at)
    staff_ids = sorted(
        {
            sid
            for sid in db.scalars(
                select(Task.assignee_staff_id)
                .where(Task.status == TaskStatus.OPEN, Task.assignee_staff_id.is_not(None))
                .distinct()
            )
            if sid is not None
        }
    )
    had = set(  # today's digest is written once: the lines are built only for who has not had it
        db.scalars(
            select(ReminderLog.staff_id).where(
                ReminderLog.task_id.is_(None), ReminderLog.kind == "digest", ReminderLog.due_at == slot
            )
        )
    )
    for staff_id in staff_ids:
        if staff_id in had:
            continue
        lines = digest_lines(db, staff_id, now, policy)
        params = {
            "date": local.date().isoformat(),
            "tasks": lines,
            "overdue": sum(1 for x in lines if x["urgency"] == OVERDUE),
            "soon": sum(1 for x in lines if x["urgency"] == SOON),
        }
        sender.send(
            task_id=None, staff_id=staff_id, kind="digest", due_at=slot, event="daily_digest", params=params
        )


def tick(
    session_factory: Any, clock: Any, notifier: StaffNotifier, policy: ReminderPolicy | None = None,
    *, pause: Pause | None = None,
) -> RunReport:
    """One scheduler tick for `shenbao worker`/`serve`: a fresh session, run_reminders, commit."""
    with session_factory() as db:
        return run_reminders(db, clock(), notifier, policy, pause=pause)


def summarize(tasks: Iterable[Task], now: datetime, policy: ReminderPolicy | None = None) -> dict[str, int]:
    """Counts of open tasks by urgency."""
    counts = {OK: 0, SOON: 0, OVERDUE: 0}
    for task in tasks:
        counts[urgency(task, now, policy)] += 1
    return counts


__all__: Sequence[str] = (
    "ReminderPolicy",
    "run_reminders",
    "sync_case_tasks",
    "sync_cases",
    "urgency",
    "colour",
    "complete_task",
    "postpone_task",
    "reassign_tasks",
    "add_workdays",
    "is_workday",
    "quarter_of",
    "tick",
    "TaskError",
)
