"""Turn stored rows into response models (masked values only)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.schemas import StaffOut
from cases.models import Area, Staff


def area_name(db: Session, code: str | None) -> str | None:
    area = db.get(Area, code) if code else None
    return area.name if area else None


def staff_out(db: Session, staff: Staff) -> StaffOut:
    return StaffOut(
        id=staff.id,
        username=staff.username,
        name=staff.name,
        role=staff.role,
        area_code=staff.area_code,
        area_name=area_name(db, staff.area_code),
    )
