"""Masked by default; an unmasked value is revealed only with an audit entry."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cases.intake import ReportDraft, submit_report
from cases.models import AuditEntry, Channel, ReporterKind
from cases.notify import NullNotifier
from cases.reveal import masked, reveal
from tests.cases.conftest import VILLAGE, World


def test_masked_then_audited_reveal(world: World) -> None:
    draft = ReportDraft(
        channel=Channel.SMS,
        reporter_kind=ReporterKind.SELF,
        raw_text="x",
        head_name="欧阳娜娜",
        id_number="430421199001013458",
        phone="13900001111",
        village_code=VILLAGE,
    )
    household = submit_report(
        db=world.db, vault=world.vault, draft=draft, now=world.now, notifier=NullNotifier()
    ).household
    view = masked(household, world.vault)
    assert (view.id_number_masked, view.phone_masked, view.head_name_masked) == (
        "430421********3458",
        "139****1111",
        "欧阳**",
    )
    value = reveal(
        db=world.db,
        vault=world.vault,
        household=household,
        field="id_number",
        actor=world.village_staff,
        now=world.now,
        purpose="核对户籍",
    )
    world.db.commit()
    assert value == "430421199001013458"
    entry = world.db.scalars(
        select(AuditEntry).where(AuditEntry.action == "household.reveal_id_number")
    ).one()
    assert entry.actor_staff_id == world.village_staff.id and entry.detail == {"purpose": "核对户籍"}
    with pytest.raises(ValueError):
        reveal(
            db=world.db,
            vault=world.vault,
            household=household,
            field="phone",
            actor=world.cadre,
            now=world.now,
            purpose=" ",
        )
