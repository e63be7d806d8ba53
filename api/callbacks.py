"""The call-backs households ask for in a chat (人工), as the 12317 desk sees them: the console's desk and
the REST API both list and load them here, by one area rule (cases/callbacks.py closes and reveals)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from api.scope import scope_filter
from cases import callbacks
from cases.models import Role, Staff, Task

# who sees a chat's call-back that names no case (so has no area): the desk that serves the whole county
UNPLACED = (Role.HOTLINE, Role.COUNTY, Role.ADMIN)


def visible(staff: Staff) -> ColumnElement[bool]:
    """The chats' call-backs a staff member answers: in their area, or (the county's desk) with none."""
    placed = scope_filter(staff, Task.area_code)
    return or_(placed, Task.area_code.is_(None)) if staff.role in UNPLACED else placed


def waiting(db: Session, staff: Staff, limit: int = 50) -> list[Task]:
    """The open call-backs households asked for in a chat, the most overdue first."""
    return list(db.scalars(select(Task).where(callbacks.from_chats(), visible(staff))
                           .order_by(Task.due_at, Task.id).limit(limit)))


def load(db: Session, staff: Staff, task_id: int) -> Task | None:
    """One open chat call-back this staff member answers; None for anything else."""
    return db.scalar(select(Task).where(Task.id == task_id, callbacks.from_chats(), visible(staff)))
