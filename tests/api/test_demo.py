"""`shenbao demo` seeds the demo county once; a second run adds nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.app import create_app
from api.cli import main
from api.settings import Settings
from cases import demo
from cases.crypto import Vault
from cases.models import Area, AreaLevel, Case, Household, RegionSetting, Role, Staff
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


def test_a_demo_household_s_status_reply_shows_its_cadre_s_masked_phone(
    settings: Settings, db: Session
) -> None:
    """The demo cadres have (fictional) phones, stored as real ones are: encrypted, with a keyed hash."""
    assert main(["demo"], settings) == 0
    vault = Vault(settings.secret_key)
    cadre = db.scalars(select(Staff).where(Staff.username == "cadre1")).one()
    assert cadre.phone_enc is not None and "1540734" not in cadre.phone_enc  # not stored in the clear
    assert vault.decrypt(cadre.phone_enc) == "15407340006"
    assert cadre.phone_hash == vault.lookup_hash("15407340006")
    phones = [s.phone_enc for s in db.scalars(select(Staff).where(Staff.role == Role.CADRE))]
    assert phones and all(phones)  # every demo cadre has one
    case = db.scalars(select(Case).join(Household).where(Household.head_name == "张德明")).one()
    last4 = demo._demo_id("43042119580312401")[-4:]
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            replies = []
            for i, text in enumerate(("查询", f"{case.number} {last4}")):
                message = {"session": "demo-household", "id": f"demo-message-{i}", "text": text}
                res = client.post("/webhooks/web", json=message)
                assert res.status_code == 200, res.text
                replies = [str(r["text"]) for r in res.json()["replies"]]
    finally:
        app.state.engine.dispose()
    status = "\n".join(replies)
    assert f"案件 {case.number}" in status and "联系干部：赵强 154****0006" in status, status
    assert "15407340006" not in status


def test_a_second_demo_run_gives_an_earlier_demo_cadre_without_a_phone_its_number(
    settings: Settings, db: Session
) -> None:
    """`make run` seeds again on the same database: a county seeded before the demo had phones gets them."""
    assert main(["demo"], settings) == 0
    db.execute(update(Staff).values(phone_enc=None, phone_hash=None))
    db.commit()
    assert main(["demo"], settings) == 0
    db.expire_all()
    cadre = db.scalars(select(Staff).where(Staff.username == "cadre1")).one()
    assert cadre.phone_enc is not None
    assert Vault(settings.secret_key).decrypt(cadre.phone_enc) == "15407340006"
