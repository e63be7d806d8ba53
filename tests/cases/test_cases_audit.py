"""The audit log records changes and refuses to become a copy of ID or phone numbers."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from cases import audit
from cases.clock import FrozenClock
from cases.models import AuditEntry


def test_record_and_read_back(db: Session, clock: FrozenClock) -> None:
    entry = audit.record(
        db=db,
        actor="staff:1",
        action="case.view_unmasked",
        entity="case",
        entity_id=7,
        area_code="430421100201",
        detail={"field": "id_number", "masked": "430421********3458"},
        now=clock(),
        actor_staff_id=None,
    )
    db.commit()
    got = db.get(AuditEntry, entry.id)
    assert got is not None and got.entity_id == "7" and got.detail["field"] == "id_number"
    assert got.at == clock()


@pytest.mark.parametrize(
    "detail",
    [
        {"id": "430421199001013458"},
        {"nested": {"phone": "tel 13912345678"}},
        {"list": ["ok", "610104620927690"]},
    ],
)
def test_sensitive_details_refused(db: Session, clock: FrozenClock, detail: dict[str, object]) -> None:
    with pytest.raises(audit.SensitiveDetail):
        audit.record(
            db=db,
            actor="system",
            action="x",
            entity="case",
            entity_id=None,
            area_code=None,
            detail=detail,
            now=clock(),
        )


def test_naive_time_refused(db: Session) -> None:
    with pytest.raises(ValueError):
        audit.record(
            db=db,
            actor="system",
            action="x",
            entity="case",
            entity_id=None,
            area_code=None,
            detail={},
            now=datetime(2026, 1, 1),  # noqa: DTZ001
        )
