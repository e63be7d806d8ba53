"""`shenbao demo` seeds the demo county once; a second run adds nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.cli import main
from api.settings import Settings
from cases import demo
from cases.models import Area, AreaLevel, Case, RegionSetting, Role, Staff
from cases.passwords import verify_password


def test_demo_is_idempotent(settings: Settings, db: Session, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"], settings) == 0
    first = capsys.readouterr().out
    assert f"{len(demo.AREAS)} areas, {len(demo.STAFF)} staff added" in first
    assert "cadre1" in first and demo.DEMO_PASSWORD in first
    assert "4 demo cases" in first
    assert "  西渡镇: 梅花村 西渡村 赤水村" in first and "  樟木乡: 里仁村 仁爱村" in first
    assert main(["demo"], settings) == 0
    second = capsys.readouterr().out
    assert "0 areas, 0 staff added" in second and "demo cases" not in second
    statuses = sorted(str(c.status) for c in db.scalars(select(Case)))
    assert statuses == ["applied", "monitored", "public_notice", "verified"]
    assert db.scalar(select(func.count()).select_from(Area)) == len(demo.AREAS)
    assert {s.role for s in db.scalars(select(Staff))} == set(Role)
    setting = db.scalars(select(RegionSetting)).one()
    assert (setting.year, setting.income_line, setting.elimination_floor) == (2021, 6500, 5000)
    cadre = db.scalars(select(Staff).where(Staff.username == "cadre1")).one()
    assert verify_password(demo.DEMO_PASSWORD, cadre.password_hash)
    assert cadre.area_code == demo.MEIHUA
    villages = {a.code for a in db.scalars(select(Area).where(Area.level == AreaLevel.VILLAGE))}
    cadres = select(Staff).where(Staff.role == Role.CADRE, Staff.active)
    with_cadre = {s.area_code for s in db.scalars(cadres)}
    assert villages and villages == with_cadre  # a report from any demo village gets its contact cadre


def test_demo_refuses_production(settings: Settings, db: Session) -> None:
    production = settings.model_copy(update={"environment": "production"})
    assert main(["demo"], production) == 2
    assert db.scalar(select(func.count()).select_from(Staff)) == 0
