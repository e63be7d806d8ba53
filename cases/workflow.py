"""The identification workflow and the risk-elimination workflow, step by step, each role-checked.

Identification (Hunan 二（二）2 识别程序): 第一步 提交申请 (annex 1 signed) -> 第二步 入户核实
(>= 2 staff, annex 2; `cases.visits.record_home_visit`) -> 第三步 村（居）评议公示 ("公示，时间为7天。
公示期满，对无异议或虽有异议但调查核实符合监测对象条件的农户 ... 报乡镇") -> 第四步 乡镇（街道）审核 ->
第五步 县级比对审定 -> monitored, category 1/2/3. Refusal with a reason at any step;
a refused household may ask for a review (复核).
Risk elimination (二（三）2): 村（居）提出名单 -> 入户核实 (>= 2, annexes 4 and 5 signed by the household) ->
村（居）民主评议 + 公示7天 ("公示期间有异议的，由村（居）“两委”负责组织调查核实") -> 乡镇审核 -> 县级审定.
二（三）1: "对无劳动能力的，落实社会保障措施后，暂不标注‘风险消除’；对年人均纯收入低于 5000 元的监测对象，
不得标注‘风险消除’". Mode (A53): 帮扶消除 / 自然消除.

Step functions take `*, db, case, actor, now, note, notifier`, flush, never commit, and raise
`WorkflowError(reason)` (English reason code; the API answers 409) for an illegal step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from cases import income
from cases.assignments import assign, reassign_all
from cases.clock import BEIJING
from cases.codes import CATEGORIES, ELIMINATION_MODES
from cases.errors import WorkflowError
from cases.intake import auto_assign, current_assignment, notify_cadre, open_case_for_household
from cases.models import OPEN_STATUSES, Case, CaseStatus, Household, Objection, Role, Staff
from cases.notify import Notifier
from cases.regions import RegionSettingMissing, setting_for
from cases.steps import (
    ASSIGN_ROLES,
    COUNTY_ROLES,
    ELIMINATION,
    FOLLOW_UP_ROLES,
    IDENTIFICATION,
    REFUSE_ROLES,
    TOWNSHIP_ROLES,
    VERIFIER_ROLES,
    VILLAGE_ROLES,
    log_step,
    move,
    require_staff,
    require_status,
    status_of,
)
from cases.visits import (
    VisitInput,
    add_measure,
    latest_visit,
    record_evaluation,
    record_home_visit,
    require_authorization,
)

__all__ = [
    "WorkflowError",
    "VisitInput",
    "record_home_visit",
    "add_measure",
    "record_evaluation",
    "assign",
    "reassign_all",
    "village_review",
    "raise_objection",
    "resolve_objection",
    "conclude_notice",
    "township_review",
    "county_approve",
    "refuse",
    "request_review",
    "withdraw",
    "propose_elimination",
    "allowed_actions",
    "notice_days_for",
    "ACTIONS",
]

NOTICE = (CaseStatus.PUBLIC_NOTICE, CaseStatus.ELIM_NOTICE)
STAFF_FOR_HOUSEHOLD_ROLES = frozenset({Role.CADRE, Role.VILLAGE, Role.TOWNSHIP, Role.HOTLINE})
ANY_STAFF = frozenset(Role)
DEFAULT_NOTICE_DAYS = 7
# A review (复核) goes back to the step that refused; a refusal at the notice needs a new village review.
REVIEW_RETURNS_TO = {
    CaseStatus.APPLIED: CaseStatus.APPLIED,
    CaseStatus.VERIFIED: CaseStatus.VERIFIED,
    CaseStatus.PUBLIC_NOTICE: CaseStatus.VERIFIED,
    CaseStatus.TOWNSHIP_REVIEW: CaseStatus.TOWNSHIP_REVIEW,
    CaseStatus.COUNTY_REVIEW: CaseStatus.COUNTY_REVIEW,
}


def _today(now: datetime) -> date:
    return now.astimezone(BEIJING).date()


def _open_objections(db: Session, case: Case) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(Objection)
            .where(Objection.case_id == case.id, Objection.status == "open")
        )
        or 0
    )


def notice_days_for(db: Session, case: Case, on: date) -> int:
    """The public notice length (calendar days) of the case's region, 7 by default."""
    try:
        return setting_for(db, case.area_code, on.year).notice_days
    except RegionSettingMissing:
        return DEFAULT_NOTICE_DAYS


# --- guards shared by the steps and by allowed_actions ------------------------------------------


def _guard_village_review(db: Session, case: Case, actor: Staff, today: date) -> None:
    require_status(case, (CaseStatus.VERIFIED, CaseStatus.ELIM_VERIFIED), "village review")
    require_staff(db, case, actor, VILLAGE_ROLES, "village review")


def _guard_conclude(db: Session, case: Case, actor: Staff, today: date) -> None:
    require_status(case, NOTICE, "concluding the public notice")
    require_staff(db, case, actor, VILLAGE_ROLES, "concluding the public notice")
    if case.notice_end is None or today <= case.notice_end:
        raise WorkflowError("notice_running", f"the public notice runs until {case.notice_end} inclusive")
    if _open_objections(db, case):
        raise WorkflowError("objection_open", "an objection must be investigated and resolved first")


def _guard_objection(db: Session, case: Case, actor: Staff, today: date) -> None:
    require_status(case, NOTICE, "an objection")
    require_staff(db, case, actor, ANY_STAFF, "an objection")


def _guard_resolve(db: Session, case: Case, actor: Staff, today: date) -> None:
    require_status(case, NOTICE, "resolving an objection")
    require_staff(db, case, actor, VILLAGE_ROLES | TOWNSHIP_ROLES, "resolving an objection")
    if not _open_objections(db, case):
        raise WorkflowError("no_open_objection", "there is no open objection")


def _guard_township(db: Session, case: Case, actor: Staff, today: date) -> None:
    require_status(case, (CaseStatus.TOWNSHIP_REVIEW, CaseStatus.ELIM_TOWNSHIP), "township review")
    require_staff(db, case, actor, TOWNSHIP_ROLES, "township review")


def _guard_county(db: Session, case: Case, actor: Staff, today: date) -> None:
    require_status(case, (CaseStatus.COUNTY_REVIEW, CaseStatus.ELIM_COUNTY), "county approval")
    require_staff(db, case, actor, COUNTY_ROLES, "county approval")
    require_authorization(db, case)  # 县级比对审定 cross-checks the family's assets with departments


def _guard_refuse(db: Session, case: Case, actor: Staff, today: date) -> None:
    current = require_status(case, tuple(CaseStatus(s) for s in REFUSE_ROLES), "refusal")
    require_staff(db, case, actor, REFUSE_ROLES[current], "refusal at this step")


def _guard_withdraw(db: Session, case: Case, actor: Staff | None, today: date) -> None:
    require_status(case, IDENTIFICATION, "withdrawal")
    if actor is not None:
        require_staff(db, case, actor, STAFF_FOR_HOUSEHOLD_ROLES, "recording a withdrawal")


def _guard_review(db: Session, case: Case, actor: Staff | None, today: date) -> None:
    require_status(case, (CaseStatus.REFUSED,), "a review request")
    if actor is not None:
        require_staff(db, case, actor, STAFF_FOR_HOUSEHOLD_ROLES, "recording a review request")
    other = open_case_for_household(db=db, household_id=case.household_id)
    if other is not None:
        raise WorkflowError("household_has_open_case", "the household already has an open case")


def _guard_propose(db: Session, case: Case, actor: Staff, today: date) -> None:
    require_status(case, (CaseStatus.MONITORED,), "an elimination proposal")
    require_staff(db, case, actor, VILLAGE_ROLES, "an elimination proposal")
    household = db.get(Household, case.household_id)
    if household is not None and household.has_labour_capacity is False:
        raise WorkflowError("no_labour_capacity", "a household without labour capacity stays monitored")
    visit = latest_visit(db, case)
    if visit is not None:
        try:
            floor = setting_for(db, case.area_code, today.year).elimination_floor
        except RegionSettingMissing as exc:
            raise WorkflowError("no_region_setting", str(exc)) from exc
        if income.below_elimination_floor(visit.a34_per_capita, floor):
            raise WorkflowError(
                "below_elimination_floor",
                f"last per-capita net income {visit.a34_per_capita} is below {floor}",
            )


def _guard_visit(db: Session, case: Case, actor: Staff, today: date) -> None:
    require_status(case, (CaseStatus.APPLIED, CaseStatus.ELIM_PROPOSED), "home verification")
    require_staff(db, case, actor, VERIFIER_ROLES, "home verification")
    require_authorization(db, case)


def _guard_assign(db: Session, case: Case, actor: Staff, today: date) -> None:
    require_status(case, tuple(CaseStatus(s) for s in OPEN_STATUSES), "assignment")
    require_staff(db, case, actor, ASSIGN_ROLES, "assignment")


def _guard_follow_up(db: Session, case: Case, actor: Staff, today: date) -> None:
    require_status(case, (CaseStatus.MONITORED, *ELIMINATION), "follow-up")
    require_staff(db, case, actor, FOLLOW_UP_ROLES, "follow-up")


Guard = Callable[[Session, Case, Staff, date], None]
ACTIONS: dict[str, Guard] = {
    "record_home_visit": _guard_visit,
    "village_review": _guard_village_review,
    "raise_objection": _guard_objection,
    "resolve_objection": _guard_resolve,
    "conclude_notice": _guard_conclude,
    "township_review": _guard_township,
    "county_approve": _guard_county,
    "refuse": _guard_refuse,
    "withdraw": _guard_withdraw,
    "request_review": _guard_review,
    "propose_elimination": _guard_propose,
    "assign": _guard_assign,
    "add_measure": _guard_follow_up,
    "record_evaluation": _guard_follow_up,
}


def allowed_actions(case: Case, staff: Staff, *, now: datetime | None = None) -> list[str]:
    """The steps this staff member may take on this case now (for the console's buttons)."""
    db = object_session(case)
    if db is None:
        raise ValueError("the case must belong to a session")
    today = _today(now) if now is not None else _today(case.updated_at)
    allowed: list[str] = []
    for name, guard in ACTIONS.items():
        try:
            guard(db, case, staff, today)
        except WorkflowError:
            continue
        allowed.append(name)
    return allowed


# --- identification and elimination steps -------------------------------------------------------


def village_review(
    *, db: Session, case: Case, actor: Staff, now: datetime, note: str | None, notifier: Notifier
) -> Case:
    """村评议 passed: the 7-day public notice starts today (calendar days, Beijing)."""
    today = _today(now)
    _guard_village_review(db, case, actor, today)
    days = notice_days_for(db, case, today)
    case.notice_start, case.notice_end = today, today + timedelta(days=days - 1)
    to = CaseStatus.ELIM_NOTICE if status_of(case) == CaseStatus.ELIM_VERIFIED else CaseStatus.PUBLIC_NOTICE
    move(
        db,
        case,
        to,
        action="village_reviewed",
        now=now,
        actor=actor,
        note=note,
        notifier=notifier,
        data={"notice_start": today.isoformat(), "notice_end": case.notice_end.isoformat()},
    )
    return case


def raise_objection(
    *,
    db: Session,
    case: Case,
    actor: Staff,
    now: datetime,
    note: str | None,
    notifier: Notifier,
    raised_by: str,
    content: str,
) -> Objection:
    """Record an objection (异议) raised during the public notice; it blocks the case until resolved."""
    _guard_objection(db, case, actor, _today(now))
    if not content.strip():
        raise WorkflowError("objection_content_required", "an objection needs its content")
    row = Objection(
        case_id=case.id,
        raised_at=now,
        raised_by=raised_by.strip() or "anonymous",
        content=content.strip(),
        status="open",
    )
    db.add(row)
    db.flush()
    log_step(
        db, case, action="objection_raised", now=now, actor=actor, note=note, data={"objection_id": row.id}
    )
    notify_cadre(db, case, notifier, "objection_raised", {"case_number": case.number, "objection_id": row.id})
    return row


def resolve_objection(
    *,
    db: Session,
    case: Case,
    actor: Staff,
    now: datetime,
    note: str | None,
    notifier: Notifier,
    objection_id: int,
    upheld: bool,
    resolution: str,
) -> Objection:
    """Close an investigated objection: dismissed lets the notice conclude; upheld refuses the step."""
    _guard_resolve(db, case, actor, _today(now))
    row = db.get(Objection, objection_id)
    if row is None or row.case_id != case.id:
        raise WorkflowError("unknown_objection", "no such objection on this case")
    if row.status != "open":
        raise WorkflowError("objection_closed", "this objection is already resolved")
    if not resolution.strip():
        raise WorkflowError("resolution_required", "say what the investigation found")
    row.status = "upheld" if upheld else "dismissed"
    row.resolution, row.resolved_at, row.resolved_by_staff_id = resolution.strip(), now, actor.id
    db.flush()
    log_step(
        db,
        case,
        action="objection_resolved",
        now=now,
        actor=actor,
        note=note,
        data={"objection_id": row.id, "outcome": row.status},
    )
    if upheld:
        _refuse(
            db,
            case,
            actor=actor,
            now=now,
            note=note,
            notifier=notifier,
            reason=f"objection upheld: {row.resolution}",
        )
    return row


def conclude_notice(
    *, db: Session, case: Case, actor: Staff, now: datetime, note: str | None, notifier: Notifier
) -> Case:
    """公示期满 with no open objection: annex 3 (or 5) filled, the list goes to the township."""
    _guard_conclude(db, case, actor, _today(now))
    to = CaseStatus.ELIM_TOWNSHIP if status_of(case) == CaseStatus.ELIM_NOTICE else CaseStatus.TOWNSHIP_REVIEW
    move(db, case, to, action="notice_concluded", now=now, actor=actor, note=note, notifier=notifier)
    return case


def township_review(
    *, db: Session, case: Case, actor: Staff, now: datetime, note: str | None, notifier: Notifier
) -> Case:
    """乡镇（街道）审核 passed: on to the county."""
    _guard_township(db, case, actor, _today(now))
    to = CaseStatus.ELIM_COUNTY if status_of(case) == CaseStatus.ELIM_TOWNSHIP else CaseStatus.COUNTY_REVIEW
    move(db, case, to, action="township_reviewed", now=now, actor=actor, note=note, notifier=notifier)
    return case


def county_approve(
    *,
    db: Session,
    case: Case,
    actor: Staff,
    now: datetime,
    note: str | None,
    notifier: Notifier,
    category: int | None = None,
) -> Case:
    """县级审定: the household becomes monitored (category 1/2/3), or its risk is marked eliminated."""
    _guard_county(db, case, actor, _today(now))
    if status_of(case) == CaseStatus.ELIM_COUNTY:
        visit = latest_visit(db, case, "elimination")
        if visit is None:
            raise WorkflowError("elimination_visit_missing", "no elimination home visit on record")
        household = db.get(Household, case.household_id)
        if household is not None and household.has_labour_capacity is False:
            raise WorkflowError("no_labour_capacity", "a household without labour capacity stays monitored")
        floor = setting_for(db, case.area_code, _today(now).year).elimination_floor
        if income.below_elimination_floor(visit.a34_per_capita, floor):
            raise WorkflowError("below_elimination_floor", f"per-capita net income is below {floor}")
        case.closed_at = now
        move(
            db,
            case,
            CaseStatus.ELIMINATED,
            action="county_approved",
            now=now,
            actor=actor,
            note=note,
            notifier=notifier,
            data={"mode": case.elimination_mode},
        )
        return case
    if category is None:
        visit = latest_visit(db, case, "identification")
        category = visit.suggested_category if visit is not None else None
    if category not in CATEGORIES:
        raise WorkflowError("category_required", "choose the category: 1, 2 or 3")
    case.category, case.monitored_at = category, now
    move(
        db,
        case,
        CaseStatus.MONITORED,
        action="county_approved",
        now=now,
        actor=actor,
        note=note,
        notifier=notifier,
        data={"category": category},
    )
    return case


def refuse(
    *, db: Session, case: Case, actor: Staff, now: datetime, note: str | None, notifier: Notifier, reason: str
) -> Case:
    """Refuse at the current step with a reason the household is told (elimination: back to monitored)."""
    _guard_refuse(db, case, actor, _today(now))
    _refuse(db, case, actor=actor, now=now, note=note, notifier=notifier, reason=reason)
    return case


def _refuse(
    db: Session, case: Case, *, actor: Staff, now: datetime, note: str | None, notifier: Notifier, reason: str
) -> None:
    if not reason.strip():
        raise WorkflowError("reason_required", "a refusal needs a reason the household is told")
    current = status_of(case)
    if current in ELIMINATION:
        case.elimination_mode = None
        move(
            db,
            case,
            CaseStatus.MONITORED,
            action="elimination_refused",
            now=now,
            actor=actor,
            note=note,
            notifier=notifier,
            data={"reason": reason.strip(), "at": current.value},
        )
        return
    case.refused_reason, case.refused_at_status, case.closed_at = reason.strip(), current.value, now
    move(
        db,
        case,
        CaseStatus.REFUSED,
        action="refused",
        now=now,
        actor=actor,
        note=note,
        notifier=notifier,
        data={"reason": reason.strip(), "at": current.value},
    )


def request_review(
    *,
    db: Session,
    case: Case,
    now: datetime,
    note: str | None,
    notifier: Notifier,
    actor: Staff | None = None,
    channel: str | None = None,
) -> Case:
    """The household asks for a review (复核) of a refusal: the case reopens at the step that refused."""
    _guard_review(db, case, actor, _today(now))
    back_to = REVIEW_RETURNS_TO.get(
        CaseStatus(case.refused_at_status or CaseStatus.APPLIED), CaseStatus.APPLIED
    )
    data = {"refused_at": case.refused_at_status, "refused_reason": case.refused_reason, "channel": channel}
    case.refused_reason, case.refused_at_status, case.closed_at = None, None, None
    if back_to == CaseStatus.VERIFIED:
        case.notice_start = case.notice_end = None
    label = None if actor is not None else f"household via {channel or 'unknown'}"
    move(
        db,
        case,
        back_to,
        action="review_requested",
        now=now,
        actor=actor,
        actor_label=label,
        note=note,
        notifier=notifier,
        data=data,
    )
    assignment = current_assignment(db, case)
    if assignment is None:
        auto_assign(db, case, now, notifier)
    else:
        notifier.notify_staff(
            db,
            staff_id=assignment.staff_id,
            event="review_requested",
            params={"case_number": case.number, "status": back_to.value},
        )
    return case


def withdraw(
    *,
    db: Session,
    case: Case,
    now: datetime,
    note: str | None,
    notifier: Notifier,
    actor: Staff | None = None,
    channel: str | None = None,
) -> Case:
    """The household withdraws its application (before approval); staff may record it on their behalf."""
    _guard_withdraw(db, case, actor, _today(now))
    case.closed_at = now
    label = None if actor is not None else f"household via {channel or 'unknown'}"
    move(
        db,
        case,
        CaseStatus.WITHDRAWN,
        action="withdrawn",
        now=now,
        actor=actor,
        actor_label=label,
        note=note,
        notifier=notifier,
        data={"channel": channel},
    )
    notify_cadre(db, case, notifier, "case_withdrawn", {"case_number": case.number})
    return case


def propose_elimination(
    *, db: Session, case: Case, actor: Staff, now: datetime, note: str | None, notifier: Notifier, mode: str
) -> Case:
    """村（居）提出名单: propose a monitored household for risk elimination (帮扶消除 or 自然消除)."""
    if mode not in ELIMINATION_MODES:
        raise WorkflowError(
            "unknown_elimination_mode", "mode is 'assistance' (帮扶消除) or 'natural' (自然消除)"
        )
    _guard_propose(db, case, actor, _today(now))
    case.elimination_mode = mode
    case.notice_start = case.notice_end = None
    move(
        db,
        case,
        CaseStatus.ELIM_PROPOSED,
        action="elimination_proposed",
        now=now,
        actor=actor,
        note=note,
        notifier=notifier,
        data={"mode": mode},
    )
    return case
