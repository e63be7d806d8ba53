"""Contact cadre assignment and reassignment ("风险不消除，帮扶责任不脱钩": a case always has a cadre).

Hunan 三（三）: "从市县、乡镇干部和驻村工作队中选择有帮扶能力的干部作为监测帮扶联系人 ... 监测对象风险不消除，
帮扶责任不脱钩". A reassignment ends the old Assignment, starts a new one, moves the open Tasks to the new
cadre and tells both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.errors import WorkflowError
from cases.intake import case_params, current_assignment, pick_cadre
from cases.models import OPEN_STATUSES, Assignment, Case, Role, Staff, Task, TaskStatus
from cases.notify import Notifier
from cases.steps import ASSIGN_ROLES, in_scope, log_step, require_staff, status_of

ASSIGNABLE_ROLES = frozenset({Role.CADRE, Role.VILLAGE, Role.TOWNSHIP})


def assign(
    *,
    db: Session,
    case: Case,
    actor: Staff,
    now: datetime,
    note: str | None,
    notifier: Notifier,
    staff_id: int,
) -> Assignment:
    """Make `staff_id` the case's contact cadre (ending any current assignment, moving its open tasks)."""
    require_staff(db, case, actor, ASSIGN_ROLES, "assignment")
    return _assign(db, case, actor=actor, now=now, note=note, notifier=notifier, staff_id=staff_id)


def _assign(
    db: Session,
    case: Case,
    *,
    actor: Staff | None,
    now: datetime,
    note: str | None,
    notifier: Notifier,
    staff_id: int,
) -> Assignment:
    if status_of(case) not in OPEN_STATUSES:
        raise WorkflowError("case_closed", "a closed case is not assigned")
    new = db.get(Staff, staff_id)
    if new is None or not new.active or new.role not in ASSIGNABLE_ROLES:
        raise WorkflowError("not_assignable", "only an active cadre, village or township staff member")
    if not in_scope(db, case, new):
        raise WorkflowError("assignee_out_of_area", "the new contact works outside the case's area")
    old = current_assignment(db, case)
    if old is not None and old.staff_id == staff_id:
        raise WorkflowError("already_assigned", "this staff member is already the case's contact")
    moved: list[int] = []
    if old is not None:
        old.ended_at = now
        old.reason = (old.reason + "; " if old.reason else "") + f"ended: {note or 'reassigned'}"
        for task in db.scalars(
            select(Task).where(
                Task.case_id == case.id,
                Task.status == TaskStatus.OPEN,
                Task.assignee_staff_id == old.staff_id,
            )
        ):
            task.assignee_staff_id = staff_id
            moved.append(task.id)
    row = Assignment(
        case_id=case.id,
        staff_id=staff_id,
        assigned_at=now,
        assigned_by_staff_id=actor.id if actor else None,
        reason=note,
    )
    db.add(row)
    db.flush()
    data = {"staff_id": staff_id, "previous_staff_id": old.staff_id if old else None, "moved_tasks": moved}
    log_step(db, case, action="reassigned" if old else "assigned", now=now, actor=actor, note=note, data=data)
    params = case_params(db, case, assigned_at=now) | {"status": status_of(case).value}
    notifier.notify_staff(db, staff_id=staff_id, event="case_assigned", params=params)
    if old is not None:
        notifier.notify_staff(db, staff_id=old.staff_id, event="case_unassigned", params=params)
    return row


def reassign_all(
    *,
    db: Session,
    from_staff: Staff,
    actor: Staff,
    now: datetime,
    note: str | None,
    notifier: Notifier,
) -> list[Assignment]:
    """Move every open case of a transferred, retired or ill cadre to the village's least-loaded cadre."""
    rows = db.scalars(
        select(Assignment)
        .join(Case, Case.id == Assignment.case_id)
        .where(
            Assignment.staff_id == from_staff.id,
            Assignment.ended_at.is_(None),
            Case.status.in_(list(OPEN_STATUSES)),
        )
        .order_by(Assignment.id)
    ).all()
    done: list[Assignment] = []
    for assignment in rows:
        case = db.get(Case, assignment.case_id)
        assert case is not None
        require_staff(db, case, actor, ASSIGN_ROLES, "assignment")
        target = pick_cadre(db, case.area_code, exclude=(from_staff.id,))
        if target is None:
            raise WorkflowError("no_cadre_available", f"no other active cadre in village {case.area_code}")
        done.append(_assign(db, case, actor=actor, now=now, note=note, notifier=notifier, staff_id=target.id))
    return done
