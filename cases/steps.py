"""What every workflow step shares: role and area checks, the status change, its event and audit entry."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cases import audit
from cases.errors import WorkflowError
from cases.events import add_event, staff_label
from cases.models import Case, CaseStatus, Role, Staff
from cases.notify import Notifier
from cases.regions import ancestors

IDENTIFICATION = (
    CaseStatus.APPLIED,
    CaseStatus.VERIFIED,
    CaseStatus.PUBLIC_NOTICE,
    CaseStatus.TOWNSHIP_REVIEW,
    CaseStatus.COUNTY_REVIEW,
)
ELIMINATION = (
    CaseStatus.ELIM_PROPOSED,
    CaseStatus.ELIM_VERIFIED,
    CaseStatus.ELIM_NOTICE,
    CaseStatus.ELIM_TOWNSHIP,
    CaseStatus.ELIM_COUNTY,
)
# 入户调查核实组由乡镇（街道）干部、驻村（包村）干部、村（居）干部组成 (Hunan 二（二）2 第二步)
VERIFIER_ROLES = frozenset({Role.CADRE, Role.VILLAGE, Role.TOWNSHIP})
VILLAGE_ROLES = frozenset({Role.VILLAGE, Role.CADRE})
TOWNSHIP_ROLES = frozenset({Role.TOWNSHIP})
COUNTY_ROLES = frozenset({Role.COUNTY})
ASSIGN_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY, Role.ADMIN})
FOLLOW_UP_ROLES = frozenset({Role.CADRE, Role.VILLAGE, Role.TOWNSHIP})
# Who may refuse at each step: the level responsible for that step.
REFUSE_ROLES: dict[str, frozenset[Role]] = {
    CaseStatus.APPLIED: VILLAGE_ROLES | TOWNSHIP_ROLES,
    CaseStatus.VERIFIED: VILLAGE_ROLES,
    CaseStatus.PUBLIC_NOTICE: VILLAGE_ROLES,
    CaseStatus.TOWNSHIP_REVIEW: TOWNSHIP_ROLES,
    CaseStatus.COUNTY_REVIEW: COUNTY_ROLES,
    CaseStatus.ELIM_PROPOSED: VILLAGE_ROLES | TOWNSHIP_ROLES,
    CaseStatus.ELIM_VERIFIED: VILLAGE_ROLES,
    CaseStatus.ELIM_NOTICE: VILLAGE_ROLES,
    CaseStatus.ELIM_TOWNSHIP: TOWNSHIP_ROLES,
    CaseStatus.ELIM_COUNTY: COUNTY_ROLES,
}


def status_of(case: Case) -> CaseStatus:
    return CaseStatus(case.status)


def in_scope(db: Session, case: Case, staff: Staff) -> bool:
    """Whether the staff member's area is the case's village or one of its ancestors."""
    return staff.area_code in {a.code for a in ancestors(db, case.area_code)}


def require_staff(db: Session, case: Case, actor: Staff, roles: Iterable[Role], step: str) -> None:
    """Refuse a step by an inactive account, a wrong role, or someone outside the case's area."""
    if not actor.active:
        raise WorkflowError("inactive_staff", "this staff account is inactive")
    allowed = {Role(r) for r in roles}
    if Role(actor.role) not in allowed:
        names = ", ".join(sorted(r.value for r in allowed))
        raise WorkflowError("role_not_allowed", f"{step} is taken by: {names}")
    if not in_scope(db, case, actor):
        raise WorkflowError("out_of_area", "the case is outside this staff member's area")


def require_status(case: Case, allowed: Iterable[CaseStatus], step: str) -> CaseStatus:
    current = status_of(case)
    if current not in set(allowed):
        raise WorkflowError("illegal_step", f"{step} is not possible while the case is {current.value}")
    return current


def log_step(
    db: Session,
    case: Case,
    *,
    action: str,
    now: datetime,
    actor: Staff | None,
    actor_label: str | None = None,
    note: str | None = None,
    from_status: CaseStatus | None = None,
    to_status: CaseStatus | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """One CaseEvent and one audit entry for a step (and the case's updated_at)."""
    label = actor_label or (staff_label(actor) if actor is not None else "system")
    add_event(
        db,
        case,
        action=action,
        now=now,
        actor_label=label,
        actor_staff_id=actor.id if actor is not None else None,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
        note=note,
        data=data,
    )
    detail = dict(data or {})
    if from_status or to_status:
        detail.update(
            {"from": from_status.value if from_status else None, "to": to_status.value if to_status else None}
        )
    audit.record(
        db=db,
        actor=audit.staff_actor(actor.id) if actor is not None else (actor_label or "system"),
        action=f"case.{action}",
        entity="case",
        entity_id=case.id,
        area_code=case.area_code,
        detail=detail,
        now=now,
        actor_staff_id=actor.id if actor is not None else None,
    )
    case.updated_at = now


def move(
    db: Session,
    case: Case,
    to: CaseStatus,
    *,
    action: str,
    now: datetime,
    actor: Staff | None,
    note: str | None,
    notifier: Notifier,
    actor_label: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Change status, record the step, and tell the household."""
    before = status_of(case)
    case.status = to
    log_step(
        db,
        case,
        action=action,
        now=now,
        actor=actor,
        actor_label=actor_label,
        note=note,
        from_status=before,
        to_status=to,
        data=data,
    )
    db.flush()
    params: dict[str, Any] = {"case_number": case.number, "status": to.value, "action": action}
    if to == CaseStatus.REFUSED:
        params["reason"] = case.refused_reason
    if to == CaseStatus.MONITORED:
        params["category"] = case.category
    if to == CaseStatus.PUBLIC_NOTICE and case.notice_end is not None:
        params["notice_end"] = case.notice_end.isoformat()  # the household is told until when
    notifier.notify_household(db, household_id=case.household_id, event="case_status_changed", params=params)
