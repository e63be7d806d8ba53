"""Area scoping: a staff member sees what lies under their area's code prefix, nothing else."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from cases.models import Role, Staff

# staff who work on the ground (not the hotline): they may see a household's unmasked ID or phone number
# and open its photos, voice messages and files, each view audited
FIELD_STAFF = (Role.CADRE, Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY, Role.ADMIN)
GROUPS = (2, 2, 2, 3, 3)  # province, city, county, township, village digits of a 12-digit code


def scope_prefix(area_code: str) -> str:
    """The code without its trailing all-zero groups: 430421000000 -> 430421, 430421100000 -> 430421100."""
    code = area_code.ljust(12, "0")
    ends = [sum(GROUPS[: i + 1]) for i in range(len(GROUPS))]
    keep = 0
    for start, end in zip([0, *ends], ends, strict=False):
        if code[start:end].strip("0"):
            keep = end
    return code[:keep]


def in_scope(staff: Staff, area_code: str | None) -> bool:
    """True when `area_code` lies within the staff member's area (a missing area is nobody's)."""
    return area_code is not None and area_code.startswith(scope_prefix(staff.area_code))


def scope_filter(
    staff: Staff, column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None]
) -> ColumnElement[bool]:
    """A WHERE clause keeping rows whose area column lies within the staff member's area."""
    prefix = scope_prefix(staff.area_code)
    return column.startswith(prefix, autoescape=True) if prefix else column.is_not(None)
