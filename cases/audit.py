"""The audit log: every state change and every unmasked view (design.md "Privacy by construction").

`record` refuses details that look like a resident ID or a mobile number, so an audit entry can never
become a second copy of the sensitive data it is meant to watch over.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cases import journal
from cases.models import AuditEntry

_SENSITIVE = re.compile(r"(?<!\d)(\d{17}[\dXx]|\d{15}|1[3-9]\d{9})(?!\d)")


class SensitiveDetail(ValueError):
    """An audit detail contained what looks like an ID or phone number."""


def _scan(value: Any, path: str) -> None:
    if isinstance(value, str):
        if _SENSITIVE.search(value):
            raise SensitiveDetail(f"audit detail {path!r} looks like an ID or phone number; mask it")
    elif isinstance(value, dict):
        for key, item in value.items():
            _scan(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _scan(item, f"{path}[{index}]")


def record(
    *,
    db: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int | None,
    area_code: str | None,
    detail: dict[str, Any] | None,
    now: datetime,
    actor_staff_id: int | None = None,
) -> AuditEntry:
    """Add one audit entry (flushed with the caller's transaction, never committed here; inside
    `journal.batched`, inserted at the block's end)."""
    if now.tzinfo is None:
        raise ValueError("naive datetime refused")
    payload = dict(detail or {})
    _scan(payload, "detail")
    row = {
        "at": now,
        "actor": actor,
        "actor_staff_id": actor_staff_id,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "area_code": area_code,
        "detail": payload,
    }
    return journal.add(db, AuditEntry, row)


def staff_actor(staff_id: int) -> str:
    return f"staff:{staff_id}"
