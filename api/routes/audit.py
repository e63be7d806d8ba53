"""The audit log (admin and county staff), within their area."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from api import schemas
from api.deps import SessionDep, require_roles
from api.errors import responses
from api.scope import scope_filter
from cases.models import AuditEntry, Role, Staff

router = APIRouter(prefix="/api/audit", tags=["audit"])
Auditor = Annotated[Staff, Depends(require_roles(Role.ADMIN, Role.COUNTY))]


@router.get("", response_model=schemas.AuditPage, responses=responses(401, 403))
def list_audit(
    staff: Auditor,
    db: SessionDep,
    action: Annotated[
        str | None, Query(max_length=64, description="exact action or a prefix ending in '.'")
    ] = None,
    entity: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    actor_staff_id: int | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> schemas.AuditPage:
    """Audit entries about your area, newest first (state changes and every unmasked view)."""
    query = select(AuditEntry).where(scope_filter(staff, AuditEntry.area_code))
    if action:
        query = query.where(
            AuditEntry.action.startswith(action) if action.endswith(".") else AuditEntry.action == action
        )
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if actor_staff_id is not None:
        query = query.where(AuditEntry.actor_staff_id == actor_staff_id)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(AuditEntry.id.desc()).offset((page - 1) * page_size).limit(page_size))
    return schemas.AuditPage(
        items=[schemas.AuditOut.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
    )
