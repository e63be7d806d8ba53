"""Annex 1 filled in from a report's stored facts: the signature's shown hash is checked and rebuilt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cases import annex1, annex1_text
from cases.clock import BEIJING
from cases.errors import IntakeError
from cases.intake import sign_authorization, submit_report
from cases.models import Authorization, Channel, ReporterKind
from cases.notify import RecordingNotifier
from tests.cases.conftest import VILLAGE, VILLAGE3, World
from tests.cases.test_cases_intake import HEAD_ID, draft

ADDRESS = "湖南省衡阳市衡阳县西渡镇梅花村"


def test_written_address_from_the_areas_table(world: World) -> None:
    assert annex1_text.written_address(world.db, VILLAGE) == ADDRESS
    assert annex1_text.written_address(world.db, VILLAGE3) == "湖南省衡阳市衡阳县台源镇和平村"
    assert annex1_text.written_address(world.db, None) is None
    assert annex1_text.written_address(world.db, "439999999999") is None
    typed = annex1_text.draft_filling(world.db, name=" 张　三 ", id_number=None, size=None,
                                      village_code=VILLAGE, group=None, risks=[], guarantees=[],
                                      other_text=None, signed_on=None)
    assert (typed.name, typed.address) == ("张三", ADDRESS)  # the name as submit_report stores it


def test_the_report_keeps_the_facts_and_the_signature_the_shown_hash(
    world: World, notifier: RecordingNotifier
) -> None:
    db, vault = world.db, world.vault
    done = submit_report(db=db, vault=vault, draft=draft(risks=["09", "01"], other_risk_text="猪场亏了"),
                         now=world.now, notifier=notifier)
    report = done.report
    assert (report.head_name, report.household_size, report.written_address, report.group_name) == (
        "张三", 4, ADDRESS, "三组")
    assert vault.decrypt(report.id_number_enc or "") == HEAD_ID and HEAD_ID not in str(report.id_number_enc)
    today = world.now.astimezone(BEIJING).date()
    shown = annex1.filled(annex1_text.draft_filling(
        db, name="张三", id_number=HEAD_ID, size=4, village_code=VILLAGE, group="三组", risks=["01", "09"],
        guarantees=[], other_text="猪场亏了", signed_on=today))
    assert "我家因⑥因病、⑭其他（猪场亏了）存在" in shown and "430421********3458" in shown
    assert annex1_text.case_text(db, vault, done.case, signed_on=today) == (shown, report.id)

    def sign(sha: str | None, **kw: object) -> Authorization:
        return sign_authorization(db=db, vault=vault, case=done.case, signer_name="张三",
                                  signer_id_number=HEAD_ID, channel=Channel.TELEGRAM, message_ref="m1",
                                  contact_id=None, now=world.now, text_version=annex1.CURRENT_VERSION,
                                  shown_sha256=sha, **kw)  # type: ignore[arg-type]

    with pytest.raises(IntakeError) as refused:  # not what the stored facts write: nothing recorded
        sign(annex1.digest(shown.replace("张三", "张四")), report_id=report.id)
    assert refused.value.reason == "shown_text_changed"
    assert db.scalar(select(Authorization.id)) is None
    auth = sign(annex1.digest(shown), report_id=report.id)
    assert (auth.report_id, auth.shown_sha256) == (report.id, annex1.digest(shown))
    assert auth.text_sha256 == annex1.sha256()  # the template's hash stays as it was
    db.commit()
    db.expire_all()
    stored = db.get(Authorization, auth.id)
    assert stored is not None and annex1_text.rebuild(db, vault, stored) == shown
    assert annex1_text.verify(db, vault, stored) is True


def test_a_later_report_of_another_case_or_day_is_refused(world: World, notifier: RecordingNotifier) -> None:
    db, vault = world.db, world.vault
    first = submit_report(db=db, vault=vault, draft=draft(), now=world.now, notifier=notifier)
    proxy = draft(id_number=None, head_name="李四", village_code=VILLAGE3, reporter_kind=ReporterKind.PROXY)
    other = submit_report(db=db, vault=vault, draft=proxy, now=world.now, notifier=notifier)
    tomorrow = (world.now + timedelta(days=1)).astimezone(BEIJING).date()
    text, _ = annex1_text.case_text(db, vault, first.case, signed_on=tomorrow)
    with pytest.raises(IntakeError) as wrong_day:  # shown with tomorrow's date, signed today
        annex1_text.check_shown(db, vault, first.case, version=annex1.CURRENT_VERSION,
                                shown_sha256=annex1.digest(text), report_id=None,
                                signed_on=world.now.astimezone(BEIJING).date())
    assert wrong_day.value.reason == "shown_text_changed"
    with pytest.raises(IntakeError) as foreign:
        annex1_text.check_shown(db, vault, first.case, version=annex1.CURRENT_VERSION,
                                shown_sha256=annex1.digest(text), report_id=other.report.id,
                                signed_on=tomorrow)
    assert foreign.value.reason == "unknown_report"
    blanks, _ = annex1_text.case_text(db, vault, other.case, signed_on=None)
    assert "姓名：李四，身份证号：_____，家庭住址：湖南省衡阳市衡阳县台源镇和平村三组。" in blanks


def test_a_witnessed_signature_records_no_shown_text(world: World, notifier: RecordingNotifier) -> None:
    db, vault = world.db, world.vault
    done = submit_report(db=db, vault=vault, draft=draft(id_number=None, reporter_kind=ReporterKind.PROXY),
                         now=world.now, notifier=notifier)
    auth = sign_authorization(db=db, vault=vault, case=done.case, signer_name="张三", signer_id_number=None,
                              channel=Channel.CONSOLE, message_ref=None, contact_id=None, now=world.now,
                              text_version=annex1.CURRENT_VERSION, witnessed_by_staff_id=world.cadre.id)
    assert auth.shown_sha256 is None and auth.report_id is None and auth.shown_variant is None
    assert annex1_text.rebuild(db, vault, auth) is None and annex1_text.verify(db, vault, auth) is None


def test_the_masked_variant_hides_the_name_village_and_group_and_is_verifiable(
    world: World, notifier: RecordingNotifier
) -> None:
    """What an identity not linked to the household reads: the name masked, the address down to the
    township, the free-text cause left out; a signature on it records that variant and verifies."""
    db, vault = world.db, world.vault
    done = submit_report(db=db, vault=vault, draft=draft(risks=["09", "01"], other_risk_text="猪场亏了"),
                         now=world.now, notifier=notifier)
    today = world.now.astimezone(BEIJING).date()
    full, full_report = annex1_text.case_text(db, vault, done.case, signed_on=today)
    masked, masked_report = annex1_text.case_text(db, vault, done.case, signed_on=today,
                                                  variant=annex1_text.MASKED)
    assert full_report == masked_report == done.report.id
    assert ("姓名：张*，身份证号：430421********3458，家庭住址：湖南省衡阳市衡阳县西渡镇***村***组。"
            "家庭4口人。") in masked
    assert "我家因⑥因病、⑭其他存在" in masked
    for secret in ("张三", "梅花村", "三组", "猪场亏了", HEAD_ID):
        assert secret not in masked and (secret in full or secret == HEAD_ID)

    def check(text: str, variant: str) -> int | None:
        return annex1_text.check_shown(db, vault, done.case, version=annex1.CURRENT_VERSION,
                                       shown_sha256=annex1.digest(text), report_id=done.report.id,
                                       signed_on=today, variant=variant)

    assert check(masked, annex1_text.MASKED) == check(full, annex1_text.FULL) == done.report.id
    for text, variant in ((full, annex1_text.MASKED), (masked, annex1_text.FULL)):
        with pytest.raises(IntakeError) as crossed:  # each text passes only as the variant it is
            check(text, variant)
        assert crossed.value.reason == "shown_text_changed"
    with pytest.raises(IntakeError) as unknown:
        check(masked, "partly")
    assert unknown.value.reason == "unknown_variant"

    auth = sign_authorization(db=db, vault=vault, case=done.case, signer_name="张三",
                              signer_id_number=HEAD_ID, channel=Channel.SMS, message_ref="m1",
                              contact_id=None, now=world.now,
                              text_version=annex1.CURRENT_VERSION, shown_sha256=annex1.digest(masked),
                              report_id=done.report.id, shown_variant=annex1_text.MASKED)
    assert (auth.shown_variant, auth.text_sha256) == (annex1_text.MASKED, annex1.sha256())
    db.commit()
    db.expire_all()
    stored = db.get(Authorization, auth.id)
    assert stored is not None and annex1_text.rebuild(db, vault, stored) == masked
    assert annex1_text.verify(db, vault, stored) is True
    stored.shown_variant = annex1_text.FULL  # the recorded variant is what verification rebuilds
    assert annex1_text.rebuild(db, vault, stored) == full and annex1_text.verify(db, vault, stored) is False
    db.rollback()


def test_a_full_text_signature_records_the_full_variant(world: World, notifier: RecordingNotifier) -> None:
    db, vault = world.db, world.vault
    done = submit_report(db=db, vault=vault, draft=draft(), now=world.now, notifier=notifier)
    today = world.now.astimezone(BEIJING).date()
    full, _ = annex1_text.case_text(db, vault, done.case, signed_on=today)
    auth = sign_authorization(db=db, vault=vault, case=done.case, signer_name="张三",
                              signer_id_number=HEAD_ID, channel=Channel.TELEGRAM, message_ref="m1",
                              contact_id=None, now=world.now,
                              text_version=annex1.CURRENT_VERSION, shown_sha256=annex1.digest(full))
    assert auth.shown_variant == annex1_text.FULL and annex1_text.verify(db, vault, auth) is True
    with pytest.raises(IntakeError) as masked_as_full:  # a masked text can't be recorded as the full one
        masked, _ = annex1_text.case_text(db, vault, done.case, signed_on=today, variant=annex1_text.MASKED)
        annex1_text.check_shown(db, vault, done.case, version=annex1.CURRENT_VERSION,
                                shown_sha256=annex1.digest(masked), report_id=None, signed_on=today)
    assert masked_as_full.value.reason == "shown_text_changed"
