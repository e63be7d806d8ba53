"""A small county for the case-store tests: areas, staff of every role, a vault and a recording notifier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from cases.clock import FrozenClock
from cases.crypto import Vault
from cases.models import Area, AreaLevel, Role, Staff
from cases.notify import RecordingNotifier
from cases.regions import seed_hunan_2021

SECRET = "test-secret-key-0123456789abcdef"
PROVINCE, CITY, COUNTY = "430000000000", "430400000000", "430421000000"
TOWNSHIP, VILLAGE, VILLAGE2 = "430421100000", "430421100201", "430421100202"
TOWNSHIP2, VILLAGE3 = "430421101000", "430421101201"


@dataclass
class World:
    db: Session
    vault: Vault
    now: datetime
    cadre: Staff
    cadre2: Staff
    village_staff: Staff
    village_staff2: Staff
    township: Staff
    county: Staff
    hotline: Staff
    other_cadre: Staff  # a cadre of another village

    def staff(self, username: str, role: Role, area: str, name: str, phone: str | None = None) -> Staff:
        s = Staff(
            username=username,
            name=name,
            role=role,
            area_code=area,
            created_at=self.now,
            phone_enc=self.vault.encrypt_optional(phone),
            phone_hash=self.vault.hash_optional(phone),
        )
        self.db.add(s)
        self.db.flush()
        return s


@pytest.fixture
def vault() -> Vault:
    return Vault(SECRET)


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


def build_areas(db: Session) -> None:
    seed_hunan_2021(db, PROVINCE)
    for code, name, level, parent in (
        (CITY, "衡阳市", AreaLevel.CITY, PROVINCE),
        (COUNTY, "衡阳县", AreaLevel.COUNTY, CITY),
        (TOWNSHIP, "西渡镇", AreaLevel.TOWNSHIP, COUNTY),
        (VILLAGE, "梅花村", AreaLevel.VILLAGE, TOWNSHIP),
        (VILLAGE2, "石狮村", AreaLevel.VILLAGE, TOWNSHIP),
        (TOWNSHIP2, "台源镇", AreaLevel.TOWNSHIP, COUNTY),
        (VILLAGE3, "和平村", AreaLevel.VILLAGE, TOWNSHIP2),
    ):
        db.add(Area(code=code, name=name, level=level, parent_code=parent))
        db.flush()


@pytest.fixture
def world(db: Session, vault: Vault, clock: FrozenClock) -> World:
    build_areas(db)
    now = clock()
    w = World.__new__(World)
    w.db, w.vault, w.now = db, vault, now
    w.cadre = w.staff("cadre1", Role.CADRE, VILLAGE, "李四", "13912345678")
    w.cadre2 = w.staff("cadre2", Role.CADRE, VILLAGE, "王五", "13812345678")
    w.village_staff = w.staff("village1", Role.VILLAGE, VILLAGE, "赵六")
    w.village_staff2 = w.staff("village2", Role.VILLAGE, VILLAGE, "钱七")
    w.township = w.staff("town1", Role.TOWNSHIP, TOWNSHIP, "孙八")
    w.county = w.staff("county1", Role.COUNTY, COUNTY, "周九")
    w.hotline = w.staff("hot1", Role.HOTLINE, COUNTY, "吴十")
    w.other_cadre = w.staff("cadre3", Role.CADRE, VILLAGE3, "郑一")
    db.commit()
    return w
