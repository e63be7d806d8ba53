"""Cases: list and detail within the staff member's area, measures, and audited reveals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import String, cast, exists, func, select

from api import schemas, services, views
from api.deps import CaseDep, CurrentStaff, NowDep, SessionDep, VaultDep, require_roles
from api.errors import responses
from api.scope import scope_filter, scope_prefix
from cases.models import Assignment, Case, CaseStatus, Role, Staff

router = APIRouter(prefix="/api/cases", tags=["cases"])
FIELD_STAFF = (Role.CADRE, Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY, Role.ADMIN)
FieldStaff = Annotated[Staff, Depends(require_roles(*FIELD_STAFF))]


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


@router.get("/{number}", response_model=schemas.CaseDetail, responses=responses(401, 404))
def get_case(case: CaseDep, staff: CurrentStaff, db: SessionDep, vault: VaultDep) -> schemas.CaseDetail:
    """One case: household (masked), timeline, reports, visits, measures, assignment, signatures."""
    return views.case_detail(db, case, vault, allowed_actions=[])


@router.post(
    "/{number}/measures",
    response_model=schemas.MeasureOut,
    status_code=201,
    responses=responses(401, 403, 404, 409, 422),
)
def add_measure(
    body: schemas.MeasureIn, case: CaseDep, staff: FieldStaff, db: SessionDep, now: NowDep
) -> schemas.MeasureOut:
    """Record an assistance measure (A39-A52) on a monitored household's case."""
    measure = services.add_measure(db=db, case=case, actor=staff, now=now, **body.model_dump())
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
