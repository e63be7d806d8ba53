"""The household withdraws its consent (撤回授权): whose signatures, who may, and what the case shows then."""

from __future__ import annotations

import pytest

from cases import annex1, intake, status
from cases.errors import IntakeError
from cases.models import AuthorizationKind, CaseStatus, Channel, RegionSetting
from cases.notify import RecordingNotifier
from tests.cases.conftest import PROVINCE, World
from tests.cases.test_cases_intake import HEAD_ID, SPOUSE_ID, contact, draft


def _sign(world: World, case: object, name: str, id_number: str | None, contact_id: int | None,
          **kw: object) -> object:
    return intake.sign_authorization(
        db=world.db, vault=world.vault, case=case, signer_name=name, signer_id_number=id_number,  # type: ignore[arg-type]
        channel=Channel.TELEGRAM, message_ref="m-sign", contact_id=contact_id, now=world.now,
        text_version=annex1.CURRENT_VERSION, **kw)  # type: ignore[arg-type]


def test_a_signature_taken_at_the_visit_is_withdrawn_as_the_heads(
    world: World, notifier: RecordingNotifier
) -> None:
    db, vault = world.db, world.vault
    phone = contact(world, Channel.SMS, "+8613900001111")
    case = intake.submit_report(db=db, vault=vault, draft=draft(channel=Channel.SMS, contact_id=phone.id),
                                now=world.now, notifier=notifier).case
    _sign(world, case, "张三", None, None, witnessed_by_staff_id=world.cadre.id)
    case.status = CaseStatus.TOWNSHIP_REVIEW  # set-up: later steps were done with the signature
    assert intake.signature_gaps(db=db, vault=vault, case=case) == []
    notifier.sent.clear()

    records = intake.withdraw_household_consent(db=db, case=case, contact_id=phone.id, channel=Channel.SMS,
                                                message_ref="SM-1", now=world.now, notifier=notifier)
    assert [(r.kind, r.message_ref, r.contact_id) for r in records] == [
        (AuthorizationKind.WITHDRAW, "SM-1", phone.id)]
    assert intake.signature_gaps(db=db, vault=vault, case=case) == ["张三"]
    summary = status.status_summary(db, case, vault=vault)
    assert summary.next_step == "sign_authorization" and summary.pending_signers_masked == ["张*"]
    assert notifier.events() == [("staff", world.cadre.id, "authorization_withdrawn")]
    with pytest.raises(IntakeError) as again:
        intake.consent_to_withdraw(db=db, case=case, contact_id=phone.id)
    assert again.value.reason == "nothing_signed"


def test_only_the_linked_identity_and_only_its_own_signatures(
    world: World, notifier: RecordingNotifier
) -> None:
    db, vault = world.db, world.vault
    db.add(RegionSetting(area_code=PROVINCE, year=2026, income_line=7000, elimination_floor=5000,
                         signers="all_adults"))
    head_phone = contact(world, Channel.TELEGRAM, "tg-head")
    result = intake.submit_report(db=db, vault=vault, draft=draft(contact_id=head_phone.id), now=world.now,
                                  notifier=notifier)
    case, household = result.case, result.household
    intake.add_member(db=db, vault=vault, household=household, name="李梅", relation="配偶",
                      id_number=SPOUSE_ID)
    spouse_phone = contact(world, Channel.WECHAT, "wx-spouse")
    intake.link_contact_to_household(db=db, contact_id=spouse_phone.id, household_id=household.id,
                                     now=world.now)
    _sign(world, case, "张三", HEAD_ID, head_phone.id)
    _sign(world, case, "李梅", SPOUSE_ID, spouse_phone.id)

    stranger = contact(world, Channel.TELEGRAM, "tg-stranger")
    cadre_chat = contact(world, Channel.TELEGRAM, "tg-cadre")
    cadre_chat.staff_id = world.cadre.id
    for outsider in (stranger, cadre_chat):
        with pytest.raises(IntakeError) as refused:
            intake.consent_to_withdraw(db=db, case=case, contact_id=outsider.id)
        assert refused.value.reason == "not_linked"

    (mine,) = intake.consent_to_withdraw(db=db, case=case, contact_id=spouse_phone.id)
    assert mine.signer_name == "李梅"  # the spouse's phone withdraws the spouse's signature, not the head's
    intake.withdraw_household_consent(db=db, case=case, contact_id=spouse_phone.id, channel=Channel.WECHAT,
                                      message_ref="wx-9", now=world.now, notifier=notifier)
    assert intake.pending_signatures(db=db, vault=vault, case=case) == ["李梅"]

    case.status = CaseStatus.REFUSED
    with pytest.raises(IntakeError) as closed:
        intake.consent_to_withdraw(db=db, case=case, contact_id=head_phone.id)
    assert closed.value.reason == "case_closed"
    assert intake.signature_gaps(db=db, vault=vault, case=case) == []
