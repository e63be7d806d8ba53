"""What a notice to staff is about (its subject), kept with its outbox rows, and whether it still holds when
the dispatcher is about to send it.

A reminder can wait long between being written and being sent: an SMS to staff written in the quiet hours
goes when they end, a row that failed waits on back-off, a backlog waits for its rate slot. Meanwhile the
cadre may have done the task, it may have been cancelled, rescheduled or moved to a colleague, or the case
closed; the notice is then out of date and is dropped instead (bot.outbox.claim_due, one query a batch).
Only notices with a subject are checked: a reply to a household, or a household's notification, never is.

Subjects, as stored under `Outbox.extra["subject"]` (plain JSON):
- a task reminder to its assignee (task_due, task_overdue): {"task": id, "due_at": iso, "staff": id};
- an escalation to the township or county (task_escalated): {"task": id, "due_at": iso}. The task moved
  to another cadre is still overdue, so the escalation still holds;
- the daily digest: {"tasks": [ids], "staff": id}, out of date when none of its tasks is still theirs;
- news of a case for its contact cadre (a report joined, the household added words, an objection, the
  authorization withdrawn): {"case": number, "staff": id, "while_assigned": true}, out of date once the case
  is another cadre's;
- a new case's notice to its contact cadre (case_assigned): {"case": number, "staff": id}, out of date
  once the case is assigned to someone else, acknowledged or closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import CompoundSelect, Row, and_, bindparam, null, select, union_all
from sqlalchemy.orm import Session

from cases.models import OPEN_STATUSES, Assignment, Case, CaseStatus, Task, TaskStatus
from cases.reminders import RULE_BY_KIND

# why a notice was dropped: stored as the row's error_code
TASK_DONE = "stale:task_done"
TASK_CANCELLED = "stale:task_cancelled"
TASK_GONE = "stale:task_gone"
RESCHEDULED = "stale:rescheduled"  # the deadline moved: a reminder for the new one comes in its time
REASSIGNED = "stale:reassigned"  # the task or case is a colleague's now (they are told themselves)
ACKNOWLEDGED = "stale:acknowledged"  # the cadre acknowledged the new case already (another channel's copy)
CASE_CLOSED = "stale:case_closed"  # refused, or its risk eliminated
CASE_WITHDRAWN = "stale:case_withdrawn"
DIGEST_EMPTY = "stale:digest"  # none of the digest's tasks is still open and theirs
DIGEST_OLD = "stale:digest_old"  # a day's digest ("今天：") held past its day: that day's own replaces it
REASONS: dict[str, str] = {
    TASK_DONE: "the task was done",
    TASK_CANCELLED: "the task was cancelled",
    TASK_GONE: "the task no longer exists",
    RESCHEDULED: "the task's deadline moved",
    REASSIGNED: "the task or case was moved to another staff member",
    ACKNOWLEDGED: "the new case was acknowledged",
    CASE_CLOSED: "the case was closed",
    CASE_WITHDRAWN: "the case was withdrawn",
    DIGEST_EMPTY: "none of the digest's tasks is open any more",
    DIGEST_OLD: "the digest was for an earlier day",
}

ASSIGNEE_EVENTS = frozenset({"task_due", "task_overdue"})  # cases.reminders: f"task_{kind}"
ESCALATION = "task_escalated"
DIGEST = "daily_digest"
ASSIGNED = "case_assigned"
# news of a case for its contact cadre: out of date once the case is another cadre's (it says 您的案件 ...);
# whether the case closed meanwhile does not matter (the news is still true)
WHILE_ASSIGNED = frozenset({"case_report_joined", "case_supplemented", "objection_raised",
                            "authorization_withdrawn"})


def subject_of(event: str, staff_id: int, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The subject of a notice of `event` to staff member `staff_id` with `params`, or None (not checked)."""
    task_id = params.get("task_id")
    if event in ASSIGNEE_EVENTS and isinstance(task_id, int):
        return {"task": task_id, "due_at": params.get("due_at"), "staff": staff_id}
    if event == ESCALATION and isinstance(task_id, int):
        return {"task": task_id, "due_at": params.get("due_at")}
    if event == DIGEST:
        ids = [t["task_id"] for t in params.get("tasks") or []
               if isinstance(t, Mapping) and isinstance(t.get("task_id"), int)]
        day = params.get("date")
        return ({"tasks": ids, "staff": staff_id} | ({"date": day} if isinstance(day, str) else {})
                if ids else None)
    if event == ASSIGNED and isinstance(params.get("case_number"), str):
        return {"case": params["case_number"], "staff": staff_id}
    if event in WHILE_ASSIGNED and isinstance(params.get("case_number"), str):
        return {"case": params["case_number"], "staff": staff_id, "while_assigned": True}
    return None


# One statement for a batch: its tasks (with their case's status) and its new cases (with the current
# assignments); primary-key and unique-index look-ups, each branch skipped when the batch has none.
_TASKS = (
    select(
        Task.id.label("task_id"),
        Task.kind,
        Task.status.label("task_status"),
        Task.assignee_staff_id,
        Task.due_at,
        Case.number.label("case_number"),
        Case.status.label("case_status"),
        null().label("cadre"),
        null().label("acknowledged_at"),
    )
    .outerjoin(Case, Case.id == Task.case_id)
    .where(Task.id.in_(bindparam("task_ids", expanding=True)))
)
_CASES = (
    select(
        null().label("task_id"),
        null().label("kind"),
        null().label("task_status"),
        null().label("assignee_staff_id"),
        null().label("due_at"),
        Case.number.label("case_number"),
        Case.status.label("case_status"),
        Assignment.staff_id.label("cadre"),
        Assignment.acknowledged_at.label("acknowledged_at"),
    )
    .outerjoin(Assignment, and_(Assignment.case_id == Case.id, Assignment.ended_at.is_(None)))
    .where(Case.number.in_(bindparam("case_numbers", expanding=True)))
)
_BOTH: CompoundSelect[*tuple[Any, ...]] = union_all(_TASKS, _CASES)


def why_stale(
    db: Session, subjects: Mapping[int, Mapping[str, Any]], *, today: date | None = None
) -> dict[int, str]:
    """For each key whose subject no longer holds, the reason (an error code above); one query in all.
    `today` (Beijing): a digest of an earlier day is out of date whatever its tasks (it says 今天)."""
    out = _why_stale(db, subjects)
    day = today.isoformat() if today is not None else ""
    for key, subject in subjects.items():
        if key not in out and isinstance(subject.get("date"), str) and subject["date"] < day:
            out[key] = DIGEST_OLD
    return out


def _why_stale(db: Session, subjects: Mapping[int, Mapping[str, Any]]) -> dict[int, str]:
    task_ids: set[int] = set()
    numbers: set[str] = set()
    for subject in subjects.values():
        if isinstance(subject.get("task"), int):
            task_ids.add(subject["task"])
        task_ids.update(t for t in subject.get("tasks") or [] if isinstance(t, int))
        if isinstance(subject.get("case"), str):
            numbers.add(subject["case"])
    if not task_ids and not numbers:
        return {}
    query = _BOTH if task_ids and numbers else _TASKS if task_ids else _CASES
    params: dict[str, Any] = {}
    if task_ids:
        params["task_ids"] = sorted(task_ids)
    if numbers:
        params["case_numbers"] = sorted(numbers)
    tasks: dict[int, Row[Any]] = {}
    cases: dict[str, tuple[str | None, dict[int, bool]]] = {}  # number -> status, {cadre: acknowledged}
    for row in db.execute(query, params):
        if row.task_id is not None:
            tasks[row.task_id] = row
        elif row.case_number is not None:
            _status, cadres = cases.setdefault(row.case_number, (row.case_status, {}))
            if row.cadre is not None:
                cadres[int(row.cadre)] = row.acknowledged_at is not None
    out: dict[int, str] = {}
    for key, subject in subjects.items():
        reason = None
        if isinstance(subject.get("task"), int):
            staff = subject.get("staff")
            reason = _task_stale(tasks.get(subject["task"]), subject.get("due_at"),
                                 staff if isinstance(staff, int) else None)
        elif subject.get("tasks"):
            staff = subject.get("staff")
            held = [_task_stale(tasks.get(t), None, staff if isinstance(staff, int) else None)
                    for t in subject["tasks"] if isinstance(t, int)]
            reason = DIGEST_EMPTY if held and all(held) else None
        elif isinstance(subject.get("case"), str) and subject.get("while_assigned"):
            found, staff = cases.get(subject["case"]), subject.get("staff")
            moved = found is not None and isinstance(staff, int) and staff not in found[1]
            reason = REASSIGNED if moved else None
        elif isinstance(subject.get("case"), str):
            reason = _case_stale(cases.get(subject["case"]), subject.get("staff"))
        if reason is not None:
            out[key] = reason
    return out


def _closed(status: str | None) -> str | None:
    if status is None or CaseStatus(status) in OPEN_STATUSES:
        return None
    return CASE_WITHDRAWN if status == CaseStatus.WITHDRAWN else CASE_CLOSED


def _task_stale(task: Row[Any] | None, due_at: Any, staff: int | None) -> str | None:
    """Why a reminder of this task (for its deadline `due_at`, to its assignee `staff`) is out of date."""
    if task is None:
        return TASK_GONE
    closed = _closed(task.case_status)
    if closed is not None:
        return closed
    if task.task_status == TaskStatus.DONE:
        return TASK_DONE
    if task.task_status != TaskStatus.OPEN:
        return TASK_CANCELLED
    rule = RULE_BY_KIND.get(task.kind)
    if rule is not None and task.case_status is not None and task.case_status != rule.status:
        return TASK_DONE  # the case left the step: the rules close the task on their next run
    if staff is not None and task.assignee_staff_id != staff:
        return REASSIGNED
    if isinstance(due_at, str):
        try:
            moved = datetime.fromisoformat(due_at) != task.due_at
        except ValueError:
            moved = False
        if moved:
            return RESCHEDULED
    return None


def _case_stale(case: tuple[str | None, dict[int, bool]] | None, staff: Any) -> str | None:
    """Why a new case's notice to cadre `staff` is out of date."""
    if case is None:
        return None  # not found by its number: sent as written
    status, cadres = case
    closed = _closed(status)
    if closed is not None:
        return closed
    if not isinstance(staff, int):
        return None
    if staff not in cadres:
        return REASSIGNED
    return ACKNOWLEDGED if cadres[staff] else None
