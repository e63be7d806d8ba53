"""What a household (or its proxy) may be told about its case: the step in plain terms, dates, the contact
cadre (masked phone), who still has to sign; names and phones masked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.callbacks import from_chats
from cases.clock import BEIJING
from cases.crypto import Vault, mask_name, mask_phone
from cases.intake import current_assignment, required_signers, signature_gaps
from cases.models import Authorization, Case, CaseEvent, CaseStatus, Objection, Staff, Task

_NEXT: dict[str, str] = {
    CaseStatus.APPLIED: "home_verification",
    CaseStatus.VERIFIED: "village_review",
    CaseStatus.PUBLIC_NOTICE: "public_notice",
    CaseStatus.TOWNSHIP_REVIEW: "township_review",
    CaseStatus.COUNTY_REVIEW: "county_review",
    CaseStatus.MONITORED: "assistance",
    CaseStatus.REFUSED: "may_request_review",
    CaseStatus.WITHDRAWN: "none",
    CaseStatus.ELIM_PROPOSED: "elimination_home_verification",
    CaseStatus.ELIM_VERIFIED: "elimination_village_review",
    CaseStatus.ELIM_NOTICE: "elimination_public_notice",
    CaseStatus.ELIM_TOWNSHIP: "elimination_township_review",
    CaseStatus.ELIM_COUNTY: "elimination_county_review",
    CaseStatus.ELIMINATED: "none",
}
_STEPS_DONE: dict[str, int] = {
    CaseStatus.APPLIED: 1,
    CaseStatus.VERIFIED: 2,
    CaseStatus.PUBLIC_NOTICE: 2,
    CaseStatus.TOWNSHIP_REVIEW: 3,
    CaseStatus.COUNTY_REVIEW: 4,
    CaseStatus.MONITORED: 5,
    CaseStatus.ELIM_PROPOSED: 1,
    CaseStatus.ELIM_VERIFIED: 2,
    CaseStatus.ELIM_NOTICE: 2,
    CaseStatus.ELIM_TOWNSHIP: 3,
    CaseStatus.ELIM_COUNTY: 4,
    CaseStatus.ELIMINATED: 5,
}


@dataclass(frozen=True)
class StatusSummary:
    """What the household (or its proxy) may be told about a case; names and phones masked."""

    case_number: str
    status: str
    steps_done: int  # of the five steps of the current procedure (identification or elimination)
    next_step: str  # a code: sign_authorization, home_verification, village_review, public_notice, ...
    opened_on: date
    updated_on: date
    notice_start: date | None
    notice_end: date | None
    open_objections: int
    cadre_name: str | None
    cadre_phone_masked: str | None
    pending_signers_masked: list[str]
    refused_reason: str | None
    category: int | None
    monitored_on: date | None
    closed_on: date | None
    review_asked_on: date | None = None  # refused, and a call-back asked since (复核) waits for its call
    reviewed_on: date | None = None  # reopened by a review (复核) that day, and not decided again yet


@dataclass(frozen=True)
class NewCase:
    """What the transaction that opened a case knows of it: the cadre it assigned, the signatures it took;
    no objection and no withdrawal can exist yet. Its status view then reads none of that again."""

    cadre: Staff | None
    signatures: tuple[Authorization, ...] = ()


def status_summary(
    db: Session, case: Case, *, vault: Vault | None = None, new: NewCase | None = None
) -> StatusSummary:
    """The household-facing summary of a case (the cadre's phone needs `vault` to be shown masked)."""

    status = CaseStatus(case.status)
    cadre: Staff | None = None
    if new is not None and status == CaseStatus.APPLIED:
        signed = {a.member_id for a in new.signatures}
        pending = [m.name for m in required_signers(db=db, case=case) if m.id not in signed]
        objections = 0
        cadre = new.cadre
    else:
        pending = signature_gaps(db=db, vault=vault, case=case)
        objections = int(
            db.scalar(
                select(func.count())
                .select_from(Objection)
                .where(Objection.case_id == case.id, Objection.status == "open")
            )
            or 0
        )
        assignment = current_assignment(db, case)
        cadre = db.get(Staff, assignment.staff_id) if assignment is not None else None
    next_step = _NEXT[status]
    if pending:
        next_step = "sign_authorization"
    if status in (CaseStatus.PUBLIC_NOTICE, CaseStatus.ELIM_NOTICE) and objections:
        next_step = "objection_investigation"
    cadre_name = cadre_phone = None
    if cadre is not None:
        cadre_name = cadre.name
        if vault is not None and cadre.phone_enc:
            cadre_phone = mask_phone(vault.decrypt(cadre.phone_enc))

    def day(moment: datetime | None) -> date | None:
        return moment.astimezone(BEIJING).date() if moment is not None else None

    return StatusSummary(
        case_number=case.number,
        status=status.value,
        steps_done=_STEPS_DONE.get(status, 0) - (1 if pending and status == CaseStatus.APPLIED else 0),
        next_step=next_step,
        opened_on=case.opened_at.astimezone(BEIJING).date(),
        updated_on=case.updated_at.astimezone(BEIJING).date(),
        notice_start=case.notice_start,
        notice_end=case.notice_end,
        open_objections=objections,
        cadre_name=cadre_name,
        cadre_phone_masked=cadre_phone,
        pending_signers_masked=[mask_name(n) for n in pending],
        refused_reason=case.refused_reason,
        category=case.category,
        monitored_on=day(case.monitored_at),
        closed_on=day(case.closed_at),
        review_asked_on=day(_review_asked_at(db, case)) if status == CaseStatus.REFUSED else None,
        # a case this filing opened (`new`) was never reviewed: no statement for it (the filing is hot)
        reviewed_on=day(_reviewed_at(db, case)) if status in _UNDER_REVIEW and new is None else None,
    )


# the identification steps a review (复核) reopens the case at: until it is monitored (or refused again)
_UNDER_REVIEW = frozenset({CaseStatus.APPLIED, CaseStatus.VERIFIED, CaseStatus.PUBLIC_NOTICE,
                           CaseStatus.TOWNSHIP_REVIEW, CaseStatus.COUNTY_REVIEW})


def _reviewed_at(db: Session, case: Case) -> datetime | None:
    """When the case was last reopened by a review (复核) of a refusal (cases.workflow.request_review)."""
    found: datetime | None = db.scalar(select(func.max(CaseEvent.at)).where(
        CaseEvent.case_id == case.id, CaseEvent.action == "review_requested"))
    return found


def _review_asked_at(db: Session, case: Case) -> datetime | None:
    """When the household of a refused case asked for its review (复核): the latest call-back asked from a
    chat since the refusal that the hotline has not closed yet (the call reopens the case, request_review;
    closed with the case still refused, a review may be asked for again)."""
    asked = select(func.max(Task.created_at)).where(from_chats(), Task.case_id == case.id)
    if case.closed_at is not None:  # refused_at: a call-back asked while the case was open is no review
        asked = asked.where(Task.created_at >= case.closed_at)
    found: datetime | None = db.scalar(asked)
    return found
