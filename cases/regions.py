"""Areas and the per-region-per-year settings (income line, elimination floor, signers, deadlines).

domain README: "The line is set per province per year ... Configure it by region and year; never
hard-code it." Hunan 2021 (Hunan implementation opinions 二（一）1): "我省2021年收入监测范围以家庭人均纯收入
6500元为基准线"; 二（三）1: "对年人均纯收入低于 5000 元的监测对象，不得标注‘风险消除’".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, literal, select
from sqlalchemy.orm import Session, aliased

from cases.clock import BEIJING
from cases.models import Area, AreaLevel, RegionSetting

SIGNERS_APPLICANT = "applicant"
SIGNERS_ALL_ADULTS = "all_adults"
SIGNERS = (SIGNERS_APPLICANT, SIGNERS_ALL_ADULTS)
HUNAN_2021_LINE = Decimal("6500")
HUNAN_ELIMINATION_FLOOR = Decimal("5000")


class RegionSettingMissing(LookupError):
    """No setting for this area (or any ancestor) in this or any earlier year."""


def _chain_query() -> Select[Any]:
    """The area and its ancestors in one recursive query, nearest first (depth-capped against cycles)."""
    start = select(Area.code, Area.parent_code, literal(0).label("depth")).where(
        Area.code == bindparam("code")
    )
    chain = start.cte("chain", recursive=True)
    parent = aliased(Area)
    chain = chain.union_all(
        select(parent.code, parent.parent_code, chain.c.depth + 1).where(
            parent.code == chain.c.parent_code, chain.c.depth < MAX_DEPTH
        )
    )
    return select(Area).join(chain, Area.code == chain.c.code).order_by(chain.c.depth)


MAX_DEPTH = 16  # province/city/county/township/village is 5; a corrupt parent cycle stops here
_CHAIN = _chain_query()


def ancestors(db: Session, area_code: str) -> list[Area]:
    """The area itself, then its parent, up to the root (nearest first)."""
    chain: list[Area] = []
    area: Area
    for area in db.scalars(_CHAIN, {"code": area_code}):
        if area in chain:  # a parent cycle in bad data
            break
        chain.append(area)
    return chain


_SETTINGS_OF = select(RegionSetting).where(
    RegionSetting.area_code.in_(bindparam("chain", expanding=True)), RegionSetting.year <= bindparam("year"))


def nearest_setting(db: Session, chain: Sequence[str], year: int) -> RegionSetting | None:
    """Of the settings of `chain`'s areas (an area and its ancestors, nearest first): the one for `year` of
    the nearest area that has one; otherwise the most recent earlier year's. None when there is none."""
    rank = {code: i for i, code in enumerate(chain)}
    rows = db.scalars(_SETTINGS_OF, {"chain": list(chain), "year": year}).all()
    return min(rows, key=lambda r: (-r.year, rank[r.area_code])) if rows else None


def setting_for(db: Session, area_code: str, year: int) -> RegionSetting:
    """The setting of the nearest ancestor with a row for `year`; otherwise the most recent earlier year."""
    found = nearest_setting(db, [a.code for a in ancestors(db, area_code)] or [area_code], year)
    if found is None:
        raise RegionSettingMissing(f"no region setting for area {area_code} in or before {year}")
    return found


def year_of(moment: datetime) -> int:
    """The calendar year in Beijing of an aware datetime."""
    return moment.astimezone(BEIJING).year


def seed_hunan_2021(db: Session, province_code: str = "430000000000") -> RegionSetting:
    """Hunan 2021: line 6,500 yuan, floor 5,000 yuan, the applicant alone signs annex 1 (idempotent)."""
    code = province_code.ljust(12, "0")
    if db.get(Area, code) is None:
        db.add(Area(code=code, name="湖南省", level=AreaLevel.PROVINCE, parent_code=None))
        db.flush()
    existing = db.scalar(
        select(RegionSetting).where(RegionSetting.area_code == code, RegionSetting.year == 2021)
    )
    if existing is not None:
        return existing
    row = RegionSetting(
        area_code=code,
        year=2021,
        income_line=HUNAN_2021_LINE,
        elimination_floor=HUNAN_ELIMINATION_FLOOR,
        signers=SIGNERS_APPLICANT,
        ack_days=1,
        assign_days=1,
        verify_days=7,
        notice_days=7,
        township_days=5,
        county_days=10,
        evaluation_days=90,
        escalation_margin_days=2,
    )
    db.add(row)
    db.flush()
    return row


def area_name(db: Session, code: str | None) -> str | None:
    area = db.get(Area, code) if code else None
    return area.name if area else None
