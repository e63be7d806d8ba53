"""Region settings: nearest ancestor, latest earlier year, clear error when none."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from cases.models import RegionSetting
from cases.regions import RegionSettingMissing, ancestors, seed_hunan_2021, setting_for
from tests.cases.conftest import COUNTY, PROVINCE, TOWNSHIP, VILLAGE, VILLAGE3, build_areas


def test_nearest_ancestor_and_year_fallback(db: Session) -> None:
    build_areas(db)
    assert [a.code for a in ancestors(db, VILLAGE)][-1] == PROVINCE
    hunan = setting_for(db, VILLAGE, 2021)
    assert (hunan.area_code, hunan.income_line, hunan.elimination_floor) == (
        PROVINCE,
        Decimal("6500"),
        Decimal("5000"),
    )
    assert setting_for(db, VILLAGE, 2026).year == 2021  # most recent earlier year
    db.add(RegionSetting(area_code=TOWNSHIP, year=2025, income_line=Decimal("7100"), signers="all_adults"))
    db.add(RegionSetting(area_code=COUNTY, year=2025, income_line=Decimal("7000")))
    db.flush()
    assert setting_for(db, VILLAGE, 2025).area_code == TOWNSHIP  # nearest ancestor
    assert setting_for(db, VILLAGE3, 2025).area_code == COUNTY  # other township
    assert setting_for(db, VILLAGE3, 2026).area_code == COUNTY  # 2025 is the latest
    db.add(RegionSetting(area_code=PROVINCE, year=2026, income_line=Decimal("7300")))
    db.flush()
    assert setting_for(db, VILLAGE, 2026).income_line == Decimal("7300")  # this year's line wins
    with pytest.raises(RegionSettingMissing):
        setting_for(db, VILLAGE, 2020)


def test_seed_is_idempotent(db: Session) -> None:
    first = seed_hunan_2021(db, "43")
    again = seed_hunan_2021(db, "430000000000")
    db.commit()
    assert first.id == again.id and first.signers == "applicant" and first.notice_days == 7
