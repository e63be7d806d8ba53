"""Small builders for channel tests: areas, staff, households and their contacts, outbox rows."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot import outbox
from cases.crypto import Vault
from cases.models import (
    Area,
    AreaLevel,
    Channel,
    Contact,
    ContactStatus,
    Household,
    Outbox,
    Role,
    Staff,
)

SECRET = "test-secret-key-0123456789abcdef"
VILLAGE = "430421101201"


def vault() -> Vault:
    return Vault(SECRET)


def areas(db: Session) -> None:
    if db.get(Area, VILLAGE) is not None:
        return
    for code, name, level, parent in [
        ("430000000000", "湖南省", AreaLevel.PROVINCE, None),
        ("430400000000", "衡阳市", AreaLevel.CITY, "430000000000"),
        ("430421000000", "衡阳县", AreaLevel.COUNTY, "430400000000"),
        ("430421101000", "西渡镇", AreaLevel.TOWNSHIP, "430421000000"),
        (VILLAGE, "梅花村", AreaLevel.VILLAGE, "430421101000"),
    ]:
        db.add(Area(code=code, name=name, level=level, parent_code=parent))
    db.flush()


def staff(
    db: Session, now: datetime, *, phone: str | None = "13912345678", username: str = "cadre1"
) -> Staff:
    areas(db)
    row = Staff(
        username=username,
        name="李四",
        role=Role.CADRE,
        area_code=VILLAGE,
        created_at=now,
        active=True,
        phone_enc=vault().encrypt(phone) if phone else None,
    )
    db.add(row)
    db.flush()
    return row


def household(db: Session, now: datetime, *, phone: str | None = "13812345678") -> Household:
    areas(db)
    row = Household(
        head_name="王五",
        village_code=VILLAGE,
        created_at=now,
        phone_enc=vault().encrypt(phone) if phone else None,
    )
    db.add(row)
    db.flush()
    return row


def contact(
    db: Session,
    now: datetime,
    channel: Channel,
    external_id: str,
    *,
    staff_id: int | None = None,
    household_id: int | None = None,
    status: ContactStatus = ContactStatus.ACTIVE,
) -> Contact:
    row = Contact(
        channel=channel,
        external_id=external_id,
        staff_id=staff_id,
        household_id=household_id,
        status=status,
        created_at=now,
    )
    db.add(row)
    db.flush()
    return row


def queue(db: Session, now: datetime, channel: str, to: str, body: str = "你好", **kw: Any) -> int:
    row = outbox.add(db, channel=channel, to=to, body=body, now=now, **kw)
    db.commit()
    return row.id


def row(db: Session, row_id: int) -> Outbox:
    db.expire_all()
    got = db.get(Outbox, row_id)
    assert got is not None
    return got


def rows(db: Session, **where: Any) -> list[Outbox]:
    db.expire_all()
    query = select(Outbox).order_by(Outbox.id)
    for key, value in where.items():
        query = query.where(getattr(Outbox, key) == value)
    return list(db.scalars(query))


def contact_status(db: Session, contact_id: int) -> ContactStatus:
    db.expire_all()
    got = db.get(Contact, contact_id)
    assert got is not None
    return got.status


@contextmanager
def contact_locked(engine: Engine, seconds: float = 3.0) -> Iterator[None]:
    """Another worker holds the contacts' dialogue locks (SQLite: the write lock) for `seconds` from now:
    ten times the tests' 0.3 s webhook deadline (with 1 s, a loaded CI machine once reached the handler
    only after the lock was gone, and the 'slow' message was answered in time)."""
    raw = engine.raw_connection()
    if engine.dialect.name == "sqlite":
        raw.cursor().execute("BEGIN IMMEDIATE")
    else:
        raw.cursor().execute("SELECT id FROM dialogue_sessions FOR UPDATE")
    release = threading.Timer(seconds, raw.rollback)
    release.start()
    try:
        yield
    finally:
        release.join()
        raw.close()
