"""The demo county: a handful of real townships and villages of 衡阳县 (Hengyang County, Hunan), the
Hunan 2021 region setting, one staff account per role, and (once the database has none) a few cases.

A county's real lists come in through `shenbao import areas|staff`; this is only for trying Shenbao.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.importers import AreaRow, seed_areas
from cases.models import AreaLevel, RegionSetting, Role, Staff
from cases.passwords import hash_password

PROVINCE = "430000000000"
COUNTY = "430421000000"
XIDU = "430421100000"
SANHU = "430421112000"
MEIHUA = "430421100225"
ZHONGHU = "430421112201"
DEMO_PASSWORD = "shenbao-demo"  # noqa: S105 - printed on purpose; `shenbao demo` refuses production

P, C, X, T, V = AreaLevel.PROVINCE, AreaLevel.CITY, AreaLevel.COUNTY, AreaLevel.TOWNSHIP, AreaLevel.VILLAGE
AREAS: list[AreaRow] = [
    AreaRow(PROVINCE, "湖南省", P, None),
    AreaRow("430400000000", "衡阳市", C, PROVINCE),
    AreaRow(COUNTY, "衡阳县", X, "430400000000"),
    AreaRow(XIDU, "西渡镇", T, COUNTY),
    AreaRow(MEIHUA, "梅花村委会", V, XIDU),
    AreaRow("430421100203", "西渡村委会", V, XIDU),
    AreaRow("430421100210", "赤水村", V, XIDU),
    AreaRow(SANHU, "三湖镇", T, COUNTY),
    AreaRow("430421112200", "龟石村委会", V, SANHU),
    AreaRow(ZHONGHU, "中湖村委会", V, SANHU),
    AreaRow("430421200000", "樟木乡", T, COUNTY),
    AreaRow("430421200201", "里仁村委会", V, "430421200000"),
    AreaRow("430421200204", "仁爱村委会", V, "430421200000"),
]


@dataclass(frozen=True)
class DemoStaff:
    username: str
    name: str
    role: Role
    area_code: str


STAFF: list[DemoStaff] = [
    DemoStaff("admin", "系统管理员", Role.ADMIN, PROVINCE),
    DemoStaff("county", "县乡村振兴局 刘局", Role.COUNTY, COUNTY),
    DemoStaff("hotline", "12317 热线 周敏", Role.HOTLINE, COUNTY),
    DemoStaff("xidu", "西渡镇 李镇长", Role.TOWNSHIP, XIDU),
    DemoStaff("meihua", "梅花村 王书记", Role.VILLAGE, MEIHUA),
    DemoStaff("cadre1", "帮扶联系人 赵强", Role.CADRE, MEIHUA),
    DemoStaff("cadre2", "帮扶联系人 陈芳", Role.CADRE, MEIHUA),
    DemoStaff("sanhu", "三湖镇 孙镇长", Role.TOWNSHIP, SANHU),
    DemoStaff("zhonghu", "中湖村 吴主任", Role.VILLAGE, ZHONGHU),
    DemoStaff("cadre3", "帮扶联系人 郑伟", Role.CADRE, ZHONGHU),
]


@dataclass
class DemoResult:
    areas_added: int
    staff_added: int
    setting_added: bool
    logins: list[DemoStaff]


def seed_region_setting(db: Session) -> bool:
    """Hunan 2021: line 6,500, elimination floor 5,000 yuan per person per year; the applicant signs."""
    query = select(RegionSetting).where(RegionSetting.area_code == PROVINCE, RegionSetting.year == 2021)
    found = db.scalar(query)
    if found is not None:
        return False
    db.add(
        RegionSetting(
            area_code=PROVINCE,
            year=2021,
            income_line=Decimal("6500"),
            elimination_floor=Decimal("5000"),
            signers="applicant",
            ack_days=1,
            assign_days=1,
            verify_days=7,
            notice_days=7,
            township_days=5,
            county_days=10,
            evaluation_days=90,
            escalation_margin_days=2,
        )
    )
    db.flush()
    return True


@lru_cache(maxsize=1)
def _demo_hash() -> str:
    """One argon2 hash of the demo password, shared by the demo accounts (they share the password anyway)."""
    return hash_password(DEMO_PASSWORD)


def seed_staff(db: Session, now: datetime) -> int:
    """One account per role (password DEMO_PASSWORD); existing usernames are left alone."""
    have = set(db.scalars(select(Staff.username)))
    added = 0
    for person in STAFF:
        if person.username in have:
            continue
        db.add(
            Staff(
                username=person.username,
                name=person.name,
                role=person.role,
                area_code=person.area_code,
                password_hash=_demo_hash(),
                active=True,
                created_at=now,
            )
        )
        added += 1
    db.flush()
    return added


def seed(*, db: Session, now: datetime) -> DemoResult:
    """Seed the demo county (idempotent); caller commits."""
    areas = seed_areas(db=db, rows=AREAS)
    setting = seed_region_setting(db)
    staff = seed_staff(db, now)
    return DemoResult(areas_added=areas, staff_added=staff, setting_added=setting, logins=STAFF)
