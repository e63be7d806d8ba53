"""Export of monitored households with the annex 2 codes (CSV or XLSX) for the national system."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from api.deps import NowDep, SessionDep, VaultDep, require_roles
from api.errors import ApiError, responses
from api.scope import scope_filter
from cases import audit
from cases.export import monitored_rows, to_csv, to_xlsx
from cases.models import Case, Role, Staff

router = APIRouter(prefix="/api/exports", tags=["exports"])
Exporter = Annotated[Staff, Depends(require_roles(Role.TOWNSHIP, Role.COUNTY, Role.ADMIN))]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


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
    unmasked: Annotated[
        bool, Query(description="full ID and phone numbers (county/admin only; audited)")
    ] = False,
) -> Response:
    """Monitored households of your area with annex 2 codes; every export is in the audit log."""
    if unmasked and staff.role not in (Role.COUNTY, Role.ADMIN):
        raise ApiError(403, "role_not_allowed", "unmasked exports are for county and admin staff")
    result = monitored_rows(db=db, vault=vault, where=scope_filter(staff, Case.area_code), unmasked=unmasked)
    audit.record(
        db=db,
        actor=audit.staff_actor(staff.id),
        actor_staff_id=staff.id,
        action="export.monitored",
        entity="export",
        entity_id=None,
        area_code=staff.area_code,
        detail={"format": fmt, "rows": len(result.rows), "unmasked": unmasked},
        now=now,
    )
    db.commit()
    body = to_csv(result) if fmt == "csv" else to_xlsx(result)
    stamp = now.strftime("%Y%m%d")
    return Response(
        content=body,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="monitored-{staff.area_code}-{stamp}.{fmt}"'},
    )
