"""Export of monitored households with the annex 2 codes (CSV or XLSX) for the national system: the XLSX has
the households' members (annex 2's 家庭成员信息) on a second sheet; as CSV they are a file of their own."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from api.deps import NowDep, SessionDep, VaultDep, require_roles
from api.errors import ApiError, responses
from api.scope import scope_filter
from cases import audit
from cases.crypto import Vault
from cases.export import ExportResult, monitored_rows, to_csv, to_xlsx
from cases.models import Case, Role, Staff

router = APIRouter(prefix="/api/exports", tags=["exports"])
Exporter = Annotated[Staff, Depends(require_roles(Role.TOWNSHIP, Role.COUNTY, Role.ADMIN))]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
Unmasked = Annotated[bool, Query(description="full ID and phone numbers (county/admin only; audited)")]


def _file(content: bytes, fmt: str, name: str, staff: Staff, now: datetime) -> Response:
    stamp = now.strftime("%Y%m%d")
    return Response(
        content=content,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}-{staff.area_code}-{stamp}.{fmt}"'},
    )


def _exported(
    *, db: Session, vault: Vault, staff: Staff, now: datetime, unmasked: bool, action: str, fmt: str,
    members: bool,
) -> ExportResult:
    """The area's monitored households and members; an unmasked one for county and admin staff only, and
    every export in the audit log (how many households, and members when the file has them, masked or not)."""
    if unmasked and staff.role not in (Role.COUNTY, Role.ADMIN):
        raise ApiError(403, "role_not_allowed", "unmasked exports are for county and admin staff")
    result = monitored_rows(db=db, vault=vault, where=scope_filter(staff, Case.area_code), unmasked=unmasked)
    audit.record(
        db=db,
        actor=audit.staff_actor(staff.id),
        actor_staff_id=staff.id,
        action=action,
        entity="export",
        entity_id=None,
        area_code=staff.area_code,
        detail={"format": fmt, "rows": len(result.rows), "unmasked": unmasked}
        | ({"members": len(result.members.rows)} if members else {}),
        now=now,
    )
    db.commit()
    return result


@router.get(
    "/monitored.{fmt}",
    responses=responses(401, 403, 422)
    | {
        200: {
            "description": "the file (CSV with a BOM for Excel, or XLSX)",
            "content": {m: {"schema": {"type": "string", "format": "binary"}} for m in MEDIA.values()},
        }
    },
    response_class=Response,
)
def export_monitored(
    fmt: Literal["csv", "xlsx"],
    staff: Exporter,
    db: SessionDep,
    vault: VaultDep,
    now: NowDep,
    unmasked: Unmasked = False,
) -> Response:
    """Monitored households of your area with annex 2 codes, one row each (the XLSX has their members on a
    second sheet, 家庭成员; as CSV they are `monitored-members.csv`); every export is in the audit log."""
    result = _exported(db=db, vault=vault, staff=staff, now=now, unmasked=unmasked, action="export.monitored",
                       fmt=fmt, members=fmt == "xlsx")
    return _file(to_csv(result) if fmt == "csv" else to_xlsx(result), fmt, "monitored", staff, now)


@router.get(
    "/monitored-members.csv",
    responses=responses(401, 403, 422)
    | {
        200: {
            "description": "the members' CSV, with a BOM for Excel",
            "content": {MEDIA["csv"]: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    response_class=Response,
)
def export_monitored_members(
    staff: Exporter, db: SessionDep, vault: VaultDep, now: NowDep, unmasked: Unmasked = False
) -> Response:
    """The members of the same households (annex 2's 家庭成员信息): one row each, the head first, keyed by the
    case number of `monitored.csv`; ID numbers masked unless `unmasked` (county/admin; audited)."""
    result = _exported(db=db, vault=vault, staff=staff, now=now, unmasked=unmasked,
                       action="export.monitored_members", fmt="csv", members=True)
    return _file(to_csv(result.members), "csv", "monitored-members", staff, now)
