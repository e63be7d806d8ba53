"""Turn stored rows into response models: masked values only (design.md "Privacy by construction")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import schemas
from cases.codes import MEASURES
from cases.crypto import Vault, mask_id, mask_name, mask_parsed, mask_phone, mask_text
from cases.intake import pending_signatures
from cases.members import DETAILS, a26_from_members
from cases.models import (
    Area,
    Assignment,
    Authorization,
    Case,
    CaseEvent,
    HomeVisit,
    HotlineCall,
    Household,
    Measure,
    Member,
    Objection,
    Report,
    Staff,
    VisitVerifier,
)


def _decrypt(vault: Vault, token: str | None) -> str | None:
    return vault.decrypt(token) if token else None


def area_name(db: Session, code: str | None) -> str | None:
    area = db.get(Area, code) if code else None
    return area.name if area else None


def area_names(db: Session, codes: Iterable[str]) -> dict[str, str]:
    wanted = set(codes)
    if not wanted:
        return {}
    rows = db.execute(select(Area.code, Area.name).where(Area.code.in_(wanted)))
    return {code: name for code, name in rows}


def staff_ref(staff: Staff) -> schemas.StaffRef:
    return schemas.StaffRef(id=staff.id, name=staff.name, role=staff.role)


def staff_out(db: Session, staff: Staff, vault: Vault) -> schemas.StaffOut:
    return schemas.StaffOut(
        id=staff.id,
        username=staff.username,
        name=staff.name,
        role=staff.role,
        area_code=staff.area_code,
        area_name=area_name(db, staff.area_code),
        phone=mask_phone(_decrypt(vault, staff.phone_enc)) or None,
    )


def current_assignees(db: Session, case_ids: list[int]) -> dict[int, Staff]:
    """The current contact cadre of each case that has one."""
    if not case_ids:
        return {}
    rows = db.execute(
        select(Assignment.case_id, Staff)
        .join(Staff, Staff.id == Assignment.staff_id)
        .where(Assignment.case_id.in_(case_ids), Assignment.ended_at.is_(None))
        .order_by(Assignment.id)
    )
    return {case_id: staff for case_id, staff in rows}


def case_summaries(db: Session, cases: list[Case]) -> list[schemas.CaseSummary]:
    names = area_names(db, (c.area_code for c in cases))
    assignees = current_assignees(db, [c.id for c in cases])
    households = {
        h.id: h
        for h in db.scalars(select(Household).where(Household.id.in_({c.household_id for c in cases})))
    }
    return [
        _summary(c, names.get(c.area_code), assignees.get(c.id), households[c.household_id]) for c in cases
    ]


def _summary(
    case: Case, village: str | None, assignee: Staff | None, household: Household
) -> schemas.CaseSummary:
    return schemas.CaseSummary(
        number=case.number,
        status=case.status,
        category=case.category,
        urgent=case.urgent,
        risks=list(case.risks),
        guarantees=list(case.guarantees),
        discovery=case.discovery,
        village_code=case.area_code,
        village_name=village,
        head_name_masked=mask_name(household.head_name),
        assigned_to=staff_ref(assignee) if assignee else None,
        opened_at=case.opened_at,
        updated_at=case.updated_at,
    )


def household_out(household: Household, vault: Vault) -> schemas.HouseholdOut:
    return schemas.HouseholdOut(
        id=household.id,
        head_name=household.head_name,
        id_number_masked=mask_id(_decrypt(vault, household.id_number_enc)),
        phone_masked=mask_phone(_decrypt(vault, household.phone_enc)),
        village_code=household.village_code,
        group_name=household.group_name,
        address=mask_text(household.address) if household.address else None,
        size=household.size,
        formerly_poor=household.formerly_poor,
        has_labour_capacity=household.has_labour_capacity,
        members=[member_out(m, vault) for m in sorted(household.members, key=_head_first)],
        a26_derived=a26_from_members(household.members),
    )


def _head_first(member: Member) -> tuple[bool, int]:
    return (not member.is_head, member.id)


def member_out(member: Member, vault: Vault) -> schemas.MemberOut:
    """A member with A9-A17; the ID number masked, of the birth date only the year."""
    return schemas.MemberOut(
        id=member.id,
        name=member.name,
        relation=member.relation,
        id_number_masked=mask_id(_decrypt(vault, member.id_number_enc)),
        birth_year=member.birth_date.year if member.birth_date else None,
        is_head=member.is_head,
        **{column: getattr(member, column) for column in DETAILS},
    )


def case_household_out(db: Session, case: Case, vault: Vault) -> schemas.HouseholdOut:
    """The case's household with its members, as it stands now (after a member was added or removed)."""
    household = db.get(Household, case.household_id)
    assert household is not None
    db.refresh(household, ["members"])
    return household_out(household, vault)


def report_out(report: Report) -> schemas.ReportOut:
    return schemas.ReportOut(
        id=report.id,
        created_at=report.created_at,
        channel=report.channel,
        reporter_kind=report.reporter_kind,
        proxy_relation=report.proxy_relation,
        proxy_name_masked=mask_name(report.proxy_name),
        raw_text=mask_text(report.raw_text),
        parsed=mask_parsed(report.parsed),
        risks=list(report.risks),
        disasters=list(report.disasters),
        guarantees=list(report.guarantees),
        other_risk_text=mask_text(report.other_risk_text) if report.other_risk_text else None,
        urgent=report.urgent,
    )


def authorization_out(
    auth: Authorization, vault: Vault, withdrawal: Authorization | None = None
) -> schemas.AuthorizationOut:
    """A signature or withdrawal as evidence; a signature carries its withdrawal when there is one."""
    return schemas.AuthorizationOut(
        id=auth.id,
        kind=auth.kind,
        withdraws_id=auth.withdraws_id,
        text_version=auth.text_version,
        text_sha256=auth.text_sha256,
        signer_name_masked=mask_name(auth.signer_name),
        signer_id_masked=mask_id(_decrypt(vault, auth.signer_id_enc)),
        channel=auth.channel,
        message_ref=auth.message_ref,
        witnessed_by_staff_id=auth.witnessed_by_staff_id,
        signed_at=auth.signed_at,
        shown_sha256=auth.shown_sha256,
        report_id=auth.report_id,
        shown_variant=auth.shown_variant,
        withdrawn_by_id=withdrawal.id if withdrawal is not None else None,
        withdrawn_at=withdrawal.signed_at if withdrawal is not None else None,
    )


def visit_out(db: Session, visit: HomeVisit) -> schemas.VisitOut:
    verifier_ids = [
        v.staff_id for v in db.scalars(select(VisitVerifier).where(VisitVerifier.visit_id == visit.id))
    ]
    verifiers = db.scalars(select(Staff).where(Staff.id.in_(verifier_ids)).order_by(Staff.id)).all()
    fields = {name: getattr(visit, name) for name in schemas.VisitOut.model_fields if name != "verifiers"}
    return schemas.VisitOut(**fields, verifiers=[staff_ref(s) for s in verifiers])


def measure_out(measure: Measure) -> schemas.MeasureOut:
    kind = MEASURES.get(measure.code)
    return schemas.MeasureOut(
        id=measure.id,
        code=measure.code,
        name=kind.name if kind else None,
        sub_code=measure.sub_code,
        sub_name=kind.sub_codes.get(measure.sub_code or "") if kind else None,
        description=measure.description,
        started_on=measure.started_on,
        amount=measure.amount,
        created_by_staff_id=measure.created_by_staff_id,
        created_at=measure.created_at,
    )


def assignment_out(db: Session, assignment: Assignment) -> schemas.AssignmentOut:
    staff = db.get(Staff, assignment.staff_id)
    assert staff is not None
    return schemas.AssignmentOut(
        id=assignment.id,
        staff=staff_ref(staff),
        assigned_at=assignment.assigned_at,
        assigned_by_staff_id=assignment.assigned_by_staff_id,
        acknowledged_at=assignment.acknowledged_at,
        ended_at=assignment.ended_at,
        reason=assignment.reason,
    )


def objection_out(objection: Objection) -> schemas.ObjectionOut:
    return schemas.ObjectionOut.model_validate(objection, from_attributes=True)


def event_out(event: CaseEvent) -> schemas.EventOut:
    return schemas.EventOut(
        at=event.at,
        action=event.action,
        from_status=event.from_status,
        to_status=event.to_status,
        actor=event.actor_label,
        actor_staff_id=event.actor_staff_id,
        note=mask_text(event.note) if event.note else event.note,
        data=mask_parsed(event.data),
    )


def case_detail(db: Session, case: Case, vault: Vault, *, allowed_actions: list[str]) -> schemas.CaseDetail:
    """Everything a staff member needs on one case, masked."""
    household = db.get(Household, case.household_id)
    assert household is not None
    [summary] = case_summaries(db, [case])

    def rows(model: Any, order: Any) -> list[Any]:
        return list(db.scalars(select(model).where(model.case_id == case.id).order_by(order)))

    assignments = rows(Assignment, Assignment.id)
    auths: list[Authorization] = rows(Authorization, Authorization.id)
    withdrawals = {a.withdraws_id: a for a in auths if a.withdraws_id is not None}
    current = next((a for a in reversed(assignments) if a.ended_at is None), None)
    return schemas.CaseDetail(
        **summary.model_dump(),
        refused_reason=case.refused_reason,
        refused_at_status=case.refused_at_status,
        notice_start=case.notice_start,
        notice_end=case.notice_end,
        elimination_mode=case.elimination_mode,
        monitored_at=case.monitored_at,
        closed_at=case.closed_at,
        household=household_out(household, vault),
        timeline=[event_out(e) for e in rows(CaseEvent, CaseEvent.id)],
        reports=[report_out(r) for r in rows(Report, Report.id)],
        visits=[visit_out(db, v) for v in rows(HomeVisit, HomeVisit.id)],
        measures=[measure_out(m) for m in rows(Measure, Measure.id)],
        assignment=assignment_out(db, current) if current else None,
        assignment_history=[assignment_out(db, a) for a in assignments],
        pending_signatures=pending_signatures(db=db, vault=vault, case=case),
        authorizations=[authorization_out(a, vault, withdrawals.get(a.id)) for a in auths],
        objections=[objection_out(o) for o in rows(Objection, Objection.id)],
        allowed_actions=allowed_actions,
    )


def hotline_call_out(db: Session, call: HotlineCall, vault: Vault) -> schemas.HotlineCallOut:
    case = db.get(Case, call.case_id) if call.case_id else None
    return schemas.HotlineCallOut(
        id=call.id,
        operator_staff_id=call.operator_staff_id,
        caller_phone_masked=mask_phone(_decrypt(vault, call.caller_phone_enc)),
        started_at=call.started_at,
        duration_seconds=call.duration_seconds,
        summary=mask_text(call.summary),
        parsed=mask_parsed(call.parsed),
        area_code=call.area_code,
        case_number=case.number if case else None,
        report_id=call.report_id,
        callback_at=call.callback_at,
        callback_done_at=call.callback_done_at,
    )


def member_of(household: Household, member_id: int) -> Member | None:
    return next((m for m in household.members if m.id == member_id), None)
