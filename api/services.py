"""API-side services the domain does not offer as such: measures, audited reveals, hotline calls.

Each takes keyword arguments, flushes, and leaves the commit to the route (one transaction per request).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ApiError, not_found
from api.views import member_of
from cases import audit
from cases.crypto import Vault, mask_name, mask_text
from cases.events import add_event, staff_label
from cases.ids import normalize_phone
from cases.intake import IntakeResult, ReportDraft, submit_report
from cases.models import (
    OPEN_STATUSES,
    AuditEntry,
    Case,
    Channel,
    HotlineCall,
    Household,
    Report,
    ReporterKind,
    Staff,
)
from cases.notify import Notifier
from cases.staff_reports import name_on_record


def reveal(
    *,
    db: Session,
    vault: Vault,
    case: Case,
    actor: Staff,
    field: str,
    member_id: int | None,
    reason: str,
    now: datetime,
) -> tuple[str, AuditEntry]:
    """The unmasked ID or phone number of a case's household (or a member's ID), recorded in the audit log."""
    household = db.get(Household, case.household_id)
    assert household is not None
    token: str | None
    if member_id is not None:
        member = member_of(household, member_id)
        if member is None or field != "id_number":
            raise not_found("member")
        token = member.id_number_enc
    else:
        token = household.id_number_enc if field == "id_number" else household.phone_enc
    if not token:
        raise ApiError(404, "value_not_recorded", f"no {field} is recorded for this household")
    entry = audit.record(
        db=db,
        actor=audit.staff_actor(actor.id),
        actor_staff_id=actor.id,
        action=f"reveal.{field}",
        entity="household",
        entity_id=household.id,
        area_code=case.area_code,
        detail={"case": case.number, "member_id": member_id, "reason": mask_text(reason)},
        now=now,
    )
    db.flush()
    return vault.decrypt(token), entry


def log_call(
    *,
    db: Session,
    vault: Vault,
    operator: Staff,
    caller_phone: str | None,
    summary: str,
    started_at: datetime,
    duration_seconds: int | None,
    area_code: str | None,
    callback_at: datetime | None,
    now: datetime,
) -> HotlineCall:
    """Log a 12317 call; the caller's number is stored encrypted with a lookup hash."""
    phone = normalize_phone(caller_phone) if caller_phone else None
    if caller_phone and phone is None:
        raise ApiError(422, "invalid_phone", "the caller's number is not a phone number")
    household = None
    if phone is not None:
        household = db.scalar(
            select(Household).where(Household.phone_hash == vault.lookup_hash(phone)).limit(1)
        )
    call = HotlineCall(
        operator_staff_id=operator.id,
        caller_phone_enc=vault.encrypt_optional(phone),
        caller_phone_hash=vault.hash_optional(phone),
        started_at=started_at,
        duration_seconds=duration_seconds,
        summary=summary,
        parsed={},
        area_code=area_code or (household.village_code if household else None),
        household_id=household.id if household else None,
        callback_at=callback_at,
    )
    db.add(call)
    db.flush()
    audit.record(
        db=db,
        actor=audit.staff_actor(operator.id),
        actor_staff_id=operator.id,
        action="hotline.log",
        entity="hotline_call",
        entity_id=call.id,
        area_code=call.area_code,
        detail={"household_id": call.household_id},
        now=now,
    )
    return call


def head_name_differs(*, db: Session, vault: Vault, id_number: str | None, head_name: str | None,
                      confirmed: bool) -> bool:
    """Whether a staff member's report names a head the record does not have for its ID number (a typo,
    or a member's number given as the head's), which they confirmed; unconfirmed, 409 head_name_differs
    with the head on record masked, before anything is written."""
    differs = (name_on_record(db=db, vault=vault, id_number=id_number, head_name=head_name)
               if id_number and head_name else None)
    if differs is None:
        return False
    if not confirmed:
        whose = "the head's number" if differs.heads_number else "a member's number, not the head's"
        raise ApiError(409, "head_name_differs", f"the ID number is {whose} of a household on record headed "
                       f"by {mask_name(differs.head_name)}: check the name, or resend with name_confirmed")
    return True


def call_to_report(
    *,
    db: Session,
    vault: Vault,
    notifier: Notifier,
    call: HotlineCall,
    operator: Staff,
    draft: ReportDraft,
    now: datetime,
    name_differs: bool = False,
) -> IntakeResult:
    """Turn a logged call into a report (reporter_kind hotline); it joins the household's open case if any.
    `name_differs`: the operator confirmed a head's name other than the record's (audited so)."""
    if call.report_id is not None:
        raise ApiError(409, "call_already_reported", "this call is already a report")
    result = submit_report(db=db, vault=vault, draft=draft, now=now, notifier=notifier)
    call.case_id, call.report_id, call.household_id = result.case.id, result.report.id, result.household.id
    call.area_code = result.case.area_code
    audit.record(
        db=db,
        actor=audit.staff_actor(operator.id),
        actor_staff_id=operator.id,
        action="hotline.report",
        entity="hotline_call",
        entity_id=call.id,
        area_code=call.area_code,
        detail={"case": result.case.number, "joined": result.joined_existing,
                **({"name_differs": True} if name_differs else {})},
        now=now,
    )
    db.flush()
    return result


def attach_call(
    *,
    db: Session,
    vault: Vault,
    notifier: Notifier,
    call: HotlineCall,
    case: Case,
    operator: Staff,
    now: datetime,
) -> Report:
    """Add a logged call to an existing open case as a hotline report."""
    if call.report_id is not None:
        raise ApiError(409, "call_already_reported", "this call is already a report")
    if case.status not in OPEN_STATUSES:
        raise ApiError(409, "case_closed", "the case is closed; log a new report instead")
    report = Report(
        case_id=case.id,
        household_id=case.household_id,
        channel=Channel.HOTLINE,
        reporter_kind=ReporterKind.HOTLINE,
        raw_text=call.summary,
        parsed=dict(call.parsed),
        created_at=now,
    )
    db.add(report)
    db.flush()
    call.case_id, call.report_id, call.household_id, call.area_code = (
        case.id,
        report.id,
        case.household_id,
        case.area_code,
    )
    detail = {"report_id": report.id, "hotline_call_id": call.id}
    add_event(
        db,
        case,
        action="report_joined",
        now=now,
        actor_label=staff_label(operator),
        actor_staff_id=operator.id,
        data=detail,
    )
    audit.record(
        db=db,
        actor=audit.staff_actor(operator.id),
        actor_staff_id=operator.id,
        action="hotline.attach",
        entity="case",
        entity_id=case.id,
        area_code=case.area_code,
        detail=detail,
        now=now,
    )
    case.updated_at = now
    return report
