"""The status view a filing answers with is the one a later look at the case gives (SQLite and PostgreSQL).

A filing that opens a case builds its view from what it has just written (cases.status.NewCase) instead of
reading the case again; these tests compare it with the view read afresh in another session.
"""

from __future__ import annotations

from sqlalchemy import select, update

from cases.intake import add_member
from cases.models import Case, CaseStatus, Channel, Contact, Household, RegionSetting
from cases.regions import SIGNERS_ALL_ADULTS
from conversations.apply import Applier
from conversations.commands import CaseView, Result, SignatureDraft, SubmitReport
from conversations.messages import InboundMessage

from .conftest import ID_LI, ID_ZHANG, MEIHUA, PROVINCE, SHISHI, World

VERSION = "hunan-2021-v1"


def report(*, village: str = MEIHUA, id_number: str | None = ID_ZHANG, name: str = "张三",
           signed: bool = True, declined: bool = False, proxy: bool = False) -> SubmitReport:
    return SubmitReport(
        reporter_kind="proxy" if proxy else "self", raw_text="老伴生病住院了", parsed={}, risks=["01"],
        disasters=[], guarantees=["A23"], other_risk_text=None, urgent=False, head_name=name,
        id_number=id_number, household_size=3, village_code=village, group_name="3组", phone=None,
        proxy_relation="邻居" if proxy else None, proxy_name="王五" if proxy else None,
        signature=SignatureDraft(signer_name=name, text_version=VERSION) if signed else None,
        declined=declined)


def file(world: World, command: SubmitReport, user_key: str = "30001") -> tuple[Result, CaseView]:
    """Apply the command as the dialogue does; its result, and the case's view read in a new session."""
    now = world.clock()
    with world.factory() as db, db.begin():
        contact = db.scalar(select(Contact).where(Contact.external_id == user_key))
        if contact is None:
            contact = Contact(channel=Channel.TELEGRAM, external_id=user_key, created_at=now)
            db.add(contact)
            db.flush()
        message = InboundMessage(channel="telegram", user_key=user_key, external_id="m1", text="张三",
                                 received_at=now)
        applier = Applier(db=db, vault=world.vault, notifier=world.notifier, contact_id=contact.id,
                          message=message, now=now)
        result = applier(command)
    assert result.ok and result.case is not None, result
    with world.factory() as db:
        applier = Applier(db=db, vault=world.vault, notifier=world.notifier, contact_id=contact.id,
                          message=message, now=now)
        case = db.scalar(select(Case).where(Case.number == result.case.number))
        assert case is not None
        return result, applier.view(case)


def test_a_signed_filing_tells_the_cadre_and_nothing_pending(world: World) -> None:
    result, fresh = file(world, report())
    assert result.case == fresh
    assert fresh.cadre_name == "李桂英" and fresh.cadre_phone_masked == "139****0001"
    assert fresh.pending_signers_masked == [] and fresh.next_step == "home_verification"


def test_a_declined_or_unsigned_filing_is_pending(world: World) -> None:
    result, fresh = file(world, report(signed=False, declined=True))
    assert result.case == fresh
    assert fresh.pending_signers_masked == ["张*"] and fresh.next_step == "sign_authorization"
    result, fresh = file(world, report(id_number=None, name="李四", signed=False, proxy=True), "30002")
    assert result.case == fresh and fresh.pending_signers_masked == ["李*"]


def test_a_village_without_a_cadre(world: World) -> None:
    result, fresh = file(world, report(village=SHISHI))
    assert result.case == fresh and fresh.cadre_name is None


def test_a_new_case_of_a_known_household_where_every_adult_signs(world: World) -> None:
    first, _ = file(world, report())
    assert first.case is not None
    with world.factory() as db, db.begin():
        case = db.scalar(select(Case).where(Case.number == first.case.number))
        assert case is not None
        household = db.get(Household, case.household_id)
        assert household is not None
        add_member(db=db, vault=world.vault, household=household, name="李四", relation="配偶",
                   id_number=ID_LI)
        case.status = CaseStatus.WITHDRAWN
        db.execute(update(RegionSetting).where(RegionSetting.area_code == PROVINCE)
                   .values(signers=SIGNERS_ALL_ADULTS))
    result, fresh = file(world, report())
    assert result.case is not None and result.case.number != first.case.number
    assert not result.joined_existing
    assert result.case == fresh
    assert fresh.pending_signers_masked == ["李*"] and fresh.next_step == "sign_authorization"
