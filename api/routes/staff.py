"""Staff of your area (to pick verifiers and contact cadres)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from api import schemas, views
from api.deps import CurrentStaff, SessionDep, VaultDep
from api.errors import responses
from api.scope import scope_filter, scope_prefix
from cases.models import Role, Staff

router = APIRouter(prefix="/api/staff", tags=["staff"])


@router.get("", response_model=list[schemas.StaffOut], responses=responses(401))
def list_staff(
    staff: CurrentStaff,
    db: SessionDep,
    vault: VaultDep,
    role: Role | None = None,
    area: Annotated[str | None, Query(pattern=r"^\d{6,12}$")] = None,
) -> list[schemas.StaffOut]:
    """Active staff within your area (phones masked)."""
    query = select(Staff).where(scope_filter(staff, Staff.area_code), Staff.active.is_(True))
    if role is not None:
        query = query.where(Staff.role == str(role))
    if area:
        query = query.where(Staff.area_code.startswith(scope_prefix(area)))
    return [views.staff_out(db, s, vault) for s in db.scalars(query.order_by(Staff.area_code, Staff.id))]
