"""The case timeline: one CaseEvent per step, with who, when and a note."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cases import journal
from cases.models import Case, CaseEvent, Staff

SYSTEM = "system"


def staff_label(staff: Staff) -> str:
    return f"{staff.name} ({staff.role})"


def add_event(
    db: Session,
    case: Case,
    *,
    action: str,
    now: datetime,
    actor_label: str,
    actor_staff_id: int | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append a timeline event to a case (flushed with the caller's transaction; inside
    `journal.batched`, inserted at the block's end)."""
    row = {
        "case_id": case.id,
        "at": now,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "actor_staff_id": actor_staff_id,
        "actor_label": actor_label,
        "note": note,
        "data": dict(data or {}),
    }
    return journal.add(db, CaseEvent, row)
