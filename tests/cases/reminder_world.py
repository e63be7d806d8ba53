"""A small county for reminder, cadre-command and console tests: areas, staff, a household and its case."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from cases.models import (
    Area,
    AreaLevel,
    Assignment,
    Case,
    CaseEvent,
    CaseStatus,
    Channel,
    Contact,
    Household,
    Outbox,
    RegionSetting,
    ReporterKind,
    Role,
    Staff,
)

COUNTY, TOWNSHIP, VILLAGE, OTHER_VILLAGE = "430421000000", "430421100000", "430421100201", "430421100202"
T = TypeVar("T")


def at_once(sessions: sessionmaker[Session], work: Callable[[Session], T],
            workers: int = 2) -> tuple[list[T], list[BaseException]]:
    """`work` in `workers` threads, each on a session of its own, let go together behind a barrier (as two
    worker processes' ticks meet): what they returned and what they raised."""
    barrier = threading.Barrier(workers)
    results: list[T] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with sessions() as db:
                barrier.wait()
                results.append(work(db))
        except BaseException as exc:  # noqa: BLE001 - surfaced to the test
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


class OutboxNotifier:
    """Writes one Outbox row per linked contact of the staff member, as bot/notify.py does (plain text)."""

    def __init__(self) -> None:
        self.events: list[tuple[int, str, dict[str, Any]]] = []
        self.now: datetime | None = None

    def notify_staff(self, db: Session, *, staff_id: int, event: str, params: dict[str, Any]) -> list[Outbox]:
        from sqlalchemy import select

        self.events.append((staff_id, event, params))
        contacts = db.scalars(select(Contact).where(Contact.staff_id == staff_id)).all()
        rows = [Outbox(channel=c.channel, to=c.external_id, contact_id=c.id, kind="reminder",
                       body=f"{event} {params.get('case_number', '')}", extra={},
                       next_attempt_at=self.now or c.created_at, created_at=self.now or c.created_at)
                for c in contacts]
        db.add_all(rows)
        db.flush()
        return rows

    def notify_household(self, db: Session, *, household_id: int, event: str, params: dict[str, Any]) -> None:
        return None


@dataclass
class World:
    cadre: Staff
    cadre2: Staff
    village: Staff
    township: Staff
    county: Staff
    other_cadre: Staff
    case: Case
    assignment: Assignment


def build_world(db: Session, now: datetime, *, status: CaseStatus = CaseStatus.APPLIED,
                setting: bool = True) -> World:
    db.add_all([
        Area(code="430000000000", name="湖南省", level=AreaLevel.PROVINCE),
        Area(code=COUNTY, name="衡阳县", level=AreaLevel.COUNTY, parent_code="430000000000"),
        Area(code=TOWNSHIP, name="西渡镇", level=AreaLevel.TOWNSHIP, parent_code=COUNTY),
        Area(code=VILLAGE, name="梅花村", level=AreaLevel.VILLAGE, parent_code=TOWNSHIP),
        Area(code=OTHER_VILLAGE, name="杉桥村", level=AreaLevel.VILLAGE, parent_code=TOWNSHIP),
    ])
    db.flush()
    if setting:
        db.add(RegionSetting(area_code="430000000000", year=2021, income_line=Decimal("6500"),
                             elimination_floor=Decimal("5000"), signers="applicant", ack_days=1,
                             assign_days=1,
                             verify_days=7, notice_days=7, township_days=5, county_days=10,
                             evaluation_days=90, escalation_margin_days=2))

    def staff(username: str, name: str, role: Role, area: str) -> Staff:
        s = Staff(username=username, name=name, role=role, area_code=area, active=True, created_at=now)
        db.add(s)
        return s

    cadre = staff("cadre1", "李明", Role.CADRE, VILLAGE)
    cadre2 = staff("cadre2", "王芳", Role.CADRE, VILLAGE)
    village = staff("village1", "赵村长", Role.VILLAGE, VILLAGE)
    township = staff("township1", "陈镇长", Role.TOWNSHIP, TOWNSHIP)
    county = staff("county1", "周局长", Role.COUNTY, COUNTY)
    other = staff("cadre9", "孙强", Role.CADRE, OTHER_VILLAGE)
    household = Household(head_name="张三", village_code=VILLAGE, size=4, created_at=now)
    db.add(household)
    db.flush()
    case = Case(number="SB7Q2K9M", household_id=household.id, area_code=VILLAGE, status=status,
                discovery=ReporterKind.SELF, risks=["01"], guarantees=[], opened_at=now, updated_at=now,
                monitored_at=now if status == CaseStatus.MONITORED else None)
    db.add(case)
    db.flush()
    db.add(CaseEvent(case_id=case.id, at=now, action="applied", from_status=None, to_status="applied",
                     actor_label="system", data={}))
    assignment = Assignment(case_id=case.id, staff_id=cadre.id, assigned_at=now)
    db.add(assignment)
    db.add_all([
        Contact(channel=Channel.TELEGRAM, external_id="7001", staff_id=cadre.id, created_at=now),
        Contact(channel=Channel.SMS, external_id="+8613900001111", staff_id=cadre.id, created_at=now),
        Contact(channel=Channel.TELEGRAM, external_id="7002", staff_id=cadre2.id, created_at=now),
        Contact(channel=Channel.SMS, external_id="+8613900002222", staff_id=township.id, created_at=now),
    ])
    db.commit()
    return World(cadre, cadre2, village, township, county, other, case, assignment)


def move(db: Session, case: Case, status: CaseStatus, at: datetime, **fields: Any) -> None:
    """Put the case in `status` at `at` with a timeline event (what the workflow records)."""
    db.add(CaseEvent(case_id=case.id, at=at, action=str(status), from_status=str(case.status),
                     to_status=str(status), actor_label="test", data={}))
    case.status = status
    case.updated_at = at
    for k, v in fields.items():
        setattr(case, k, v)
    db.commit()
