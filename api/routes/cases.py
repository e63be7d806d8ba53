"""Cases: staff reports (cadre screening, department alerts), list and detail within the staff member's area,
measures, and audited reveals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import String, cast, exists, func, select

from api import schemas, services, views
from api.deps import CaseDep, CurrentStaff, NotifierDep, NowDep, SessionDep, VaultDep, require_roles
from api.errors import ApiError, responses
from api.scope import FIELD_STAFF, in_scope, scope_filter, scope_prefix
from cases import visits, workflow
from cases.intake import ReportDraft
from cases.models import Area, Assignment, Case, CaseStatus, Channel, ReporterKind, Staff
from cases.staff_reports import file_staff_report, may_file

router = APIRouter(prefix="/api/cases", tags=["cases"])
FieldStaff = Annotated[Staff, Depends(require_roles(*FIELD_STAFF))]
# who may file a cadre's or a department's report (cases.staff_reports.REPORTERS narrows it)
ReportingStaff = FieldStaff


@router.get("", response_model=schemas.CasePage, responses=responses(401, 404))
def list_cases(
    staff: CurrentStaff,
    db: SessionDep,
    status: Annotated[list[CaseStatus] | None, Query(description="one or more statuses")] = None,
    village: Annotated[
        str | None, Query(pattern=r"^\d{6,12}$", description="a village (or any area) code")
    ] = None,
    risk: Annotated[str | None, Query(pattern=r"^0[1-9]$", description="an A27 risk code")] = None,
    urgent: bool | None = None,
    assigned_to_me: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> schemas.CasePage:
    """Cases in your area, urgent and most recently changed first."""
    query = select(Case).where(scope_filter(staff, Case.area_code))
    if status:
        query = query.where(Case.status.in_([str(s) for s in status]))
    if village:
        query = query.where(Case.area_code.startswith(scope_prefix(village)))
    if risk:
        query = query.where(cast(Case.risks, String).like(f'%"{risk}"%'))
    if urgent is not None:
        query = query.where(Case.urgent.is_(urgent))
    if assigned_to_me:
        query = query.where(
            exists().where(
                Assignment.case_id == Case.id, Assignment.staff_id == staff.id, Assignment.ended_at.is_(None)
            )
        )
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(Case.urgent.desc(), Case.updated_at.desc(), Case.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return schemas.CasePage(
        items=views.case_summaries(db, list(rows)), total=total, page=page, page_size=page_size
    )


@router.post("", response_model=schemas.IntakeOut, status_code=201, responses=responses(401, 403, 409, 422))
def report_by_staff(
    body: schemas.StaffReportIn,
    staff: ReportingStaff,
    db: SessionDep,
    vault: VaultDep,
    notifier: NotifierDep,
    now: NowDep,
) -> schemas.IntakeOut:
    """A household found by cadre screening or a department alert: it opens a case, or joins the household's
    open case (matched on the ID number, whatever channel opened it). The household still signs annex 1.
    An ID number of a household on record headed by someone else is 409 head_name_differs (the head on
    record masked), unless `name_confirmed`: the record is never changed by a report."""
    if not may_file(staff, body.reporter_kind):
        raise ApiError(403, "role_not_allowed", f"a {body.reporter_kind} report is not filed by {staff.role}")
    if db.get(Area, body.village_code) is None or not in_scope(staff, body.village_code):
        raise ApiError(422, "unknown_village", "the village is not a known area of yours")
    differs = services.head_name_differs(db=db, vault=vault, id_number=body.id_number,
                                         head_name=body.head_name, confirmed=body.name_confirmed)
    draft = ReportDraft(
        channel=Channel.CONSOLE,
        reporter_kind=ReporterKind(body.reporter_kind),
        raw_text=body.raw_text,
        risks=body.risks,
        disasters=body.disasters,
        guarantees=body.guarantees,
        other_risk_text=body.other_risk_text,
        urgent=body.urgent,
        parsed={"department": body.department},  # and who filed it: file_staff_report adds them
        head_name=body.head_name,
        id_number=body.id_number,
        phone=body.phone,
        household_size=body.household_size,
        village_code=body.village_code,
        group_name=body.group_name,
    )
    result = file_staff_report(db=db, vault=vault, staff=staff, draft=draft, now=now, notifier=notifier,
                               name_differs=differs)
    db.commit()
    return schemas.IntakeOut(
        case_number=result.case.number, joined_existing=result.joined_existing, report_id=result.report.id
    )


@router.get("/{number}", response_model=schemas.CaseDetail, responses=responses(401, 404))
def get_case(
    case: CaseDep, staff: CurrentStaff, db: SessionDep, vault: VaultDep, now: NowDep
) -> schemas.CaseDetail:
    """One case: household (masked), timeline, reports, visits, measures, assignment, signatures."""
    return views.case_detail(db, case, vault, allowed_actions=workflow.allowed_actions(case, staff, now=now))


@router.post(
    "/{number}/measures",
    response_model=schemas.MeasureOut,
    status_code=201,
    responses=responses(401, 403, 404, 409, 422),
)
def add_measure(
    body: schemas.MeasureIn, case: CaseDep, staff: CurrentStaff, db: SessionDep, now: NowDep
) -> schemas.MeasureOut:
    """Record an assistance measure (A39-A52) on a monitored household's case."""
    measure = visits.add_measure(db=db, case=case, actor=staff, now=now, **body.model_dump())
    db.commit()
    db.refresh(measure)
    return views.measure_out(measure)


@router.post(
    "/{number}/reveal",
    response_model=schemas.RevealOut,
    responses=responses(401, 403, 404, 422),
)
def reveal(
    body: schemas.RevealIn, case: CaseDep, staff: FieldStaff, db: SessionDep, vault: VaultDep, now: NowDep
) -> schemas.RevealOut:
    """The unmasked ID or phone number, for a stated reason; every such view is in the audit log."""
    value, entry = services.reveal(
        db=db,
        vault=vault,
        case=case,
        actor=staff,
        field=body.field,
        member_id=body.member_id,
        reason=body.reason,
        now=now,
    )
    db.commit()
    return schemas.RevealOut(field=body.field, value=value, audit_id=entry.id)
