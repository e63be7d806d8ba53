"""Reports, households, one open case across channels, assignment, signatures, status summary."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, delete, event, select, text, update

from cases import annex1, intake, reminders, status
from cases.crypto import Vault
from cases.errors import IntakeError
from cases.intake import ReportDraft, pending_signatures, sign_authorization, submit_report
from cases.models import (
    AuditEntry,
    Authorization,
    Case,
    CaseEvent,
    CaseStatus,
    Channel,
    Contact,
    Household,
    ImmutableRecordError,
    RegionSetting,
    Report,
    ReporterKind,
)
from cases.notify import RecordingNotifier
from tests.cases.conftest import COUNTY, PROVINCE, VILLAGE, VILLAGE3, World

HEAD_ID = "430421199001013458"  # check digit valid (computed below in test_fixture_ids_are_valid)
SPOUSE_ID = "430421199203041529"
CHILD_ID = "430421201505060012"


def test_fixture_ids_are_valid() -> None:
    from cases.ids import check_id

    for raw in (HEAD_ID, SPOUSE_ID, CHILD_ID):
        assert check_id(raw, today=date(2026, 3, 2)).valid, raw


def draft(**kw: object) -> ReportDraft:
    base: dict[str, object] = dict(
        channel=Channel.TELEGRAM,
        reporter_kind=ReporterKind.SELF,
        raw_text="我爸住院了，花了三万多",
        risks=["01"],
        head_name="张三",
        id_number=HEAD_ID,
        phone="13900001111",
        household_size=4,
        village_code=VILLAGE,
        group_name="三组",
    )
    base.update(kw)
    return ReportDraft(**base)  # type: ignore[arg-type]


def contact(world: World, channel: Channel, external: str) -> Contact:
    c = Contact(channel=channel, external_id=external, created_at=world.now)
    world.db.add(c)
    world.db.flush()
    return c


def test_new_report_opens_case_encrypts_and_assigns(world: World, notifier: RecordingNotifier) -> None:
    db, vault = world.db, world.vault
    tg = contact(world, Channel.TELEGRAM, "tg-1")
    result = submit_report(
        db=db, vault=vault, draft=draft(contact_id=tg.id), now=world.now, notifier=notifier
    )
    db.commit()
    case, household = result.case, result.household
    assert not result.joined_existing
    assert case.status == CaseStatus.APPLIED and case.area_code == VILLAGE and case.risks == ["01"]
    assert len(case.number) == 10 and case.number.startswith("SB")
    assert set(case.number[2:]) <= set(intake.CROCKFORD)
    # encrypted at rest, found by keyed hash
    raw_row = db.execute(text("SELECT id_number_enc, phone_enc, id_hash FROM households")).one()
    assert HEAD_ID not in str(raw_row) and "13900001111" not in str(raw_row)
    assert vault.decrypt(household.id_number_enc or "") == HEAD_ID
    assert intake.find_household_by_id_number(db=db, vault=vault, id_number=HEAD_ID.lower()) is household
    # the head is a member; the self-reporting contact is linked
    assert [(m.name, m.is_head) for m in household.members] == [("张三", True)]
    assert db.get(Contact, tg.id).household_id == household.id  # type: ignore[union-attr]
    # auto-assigned to the village cadre with the fewest open cases (tie -> lowest id)
    assignment = intake.current_assignment(db, case)
    assert assignment is not None and assignment.staff_id == world.cadre.id
    assert ("household", household.id, "case_opened") in notifier.events()
    assert ("staff", world.cadre.id, "case_assigned") in notifier.events()
    params = [p for k, _, e, p in notifier.sent if e == "case_assigned"][0]
    assert params["head_name_masked"] == "张*" and params["case_number"] == case.number
    # the notice names the moment the reminders hold the acknowledgement due
    (ack,) = [w for w in reminders.wanted_tasks(db, case, world.now, reminders.ReminderPolicy())
              if w.kind == reminders.ACKNOWLEDGE]
    assert params["due_at"] == ack.due_at.isoformat()
    actions = [e.action for e in db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert actions == ["case_opened", "assigned"]
    audits = [a.action for a in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert "case.open" in audits and "assignment.create" in audits
    assert db.scalars(select(AuditEntry)).all()  # nothing sensitive reached the audit log:
    for row in db.execute(text("SELECT detail FROM audit_log")).scalars():
        assert HEAD_ID not in str(row) and "13900001111" not in str(row)


def test_the_cadres_deadline_comes_from_the_nearest_setting_and_the_village_is_read_once(
    world: World, notifier: RecordingNotifier, engine: Engine
) -> None:
    """The filing reads the village's chain once: the acknowledgement's deadline takes it from there."""
    db = world.db
    year = reminders.local_date(world.now).year
    db.add(RegionSetting(area_code=COUNTY, year=year, income_line=6500, ack_days=3))
    db.flush()
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        result = submit_report(db=db, vault=world.vault, draft=draft(), now=world.now, notifier=notifier)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    recursive = [s for s in seen if "RECURSIVE" in s.upper()]
    assert len(recursive) == 1
    params = [p for k, _, e, p in notifier.sent if e == "case_assigned"][0]
    expected = reminders.acknowledge_due(reminders.DEFAULT_DAYS | {"ack_days": 3}, world.now)
    assert params["due_at"] == expected.isoformat() and result.cadre is not None
    assert expected > reminders.acknowledge_due(reminders.DEFAULT_DAYS, world.now)


def test_one_open_case_across_channels(world: World, notifier: RecordingNotifier) -> None:
    db, vault = world.db, world.vault
    first = submit_report(db=db, vault=vault, draft=draft(), now=world.now, notifier=notifier)
    sms = submit_report(
        db=db,
        vault=vault,
        now=world.now,
        notifier=notifier,
        draft=draft(
            channel=Channel.SMS, raw_text="房子漏雨", risks=[], guarantees=["A23"], id_number=HEAD_ID.lower()
        ),
    )
    hotline = submit_report(
        db=db,
        vault=vault,
        now=world.now,
        notifier=notifier,
        draft=draft(
            channel=Channel.HOTLINE,
            reporter_kind=ReporterKind.HOTLINE,
            raw_text="来电：张三家遭水灾",
            risks=["04"],
            disasters=["01"],
            urgent=True,
            head_name=None,
            phone=None,
        ),
    )
    screening = submit_report(
        db=db,
        vault=vault,
        now=world.now,
        notifier=notifier,
        draft=draft(
            channel=Channel.CONSOLE,
            reporter_kind=ReporterKind.CADRE,
            raw_text="走访排查：儿子务工收入不稳",
            risks=["07"],
            phone=None,
        ),
    )
    alert = submit_report(
        db=db,
        vault=vault,
        now=world.now,
        notifier=notifier,
        draft=draft(
            channel=Channel.CONSOLE,
            reporter_kind=ReporterKind.DEPARTMENT,
            raw_text="医保部门预警：大额医疗费用",
            risks=["01"],
            head_name=None,
            phone=None,
        ),
    )
    db.commit()
    assert all(r.joined_existing for r in (sms, hotline, screening, alert))
    assert first.case.id == sms.case.id == hotline.case.id == screening.case.id == alert.case.id
    case = db.get(Case, first.case.id)
    assert case is not None and case.risks == ["01", "04", "07"]
    assert case.guarantees == ["A23"] and case.urgent
    assert case.discovery == ReporterKind.SELF  # how it was first found
    reports = db.scalars(select(Report).where(Report.case_id == case.id).order_by(Report.id))
    assert [r.reporter_kind for r in reports] == [
        ReporterKind.SELF,
        ReporterKind.SELF,
        ReporterKind.HOTLINE,
        ReporterKind.CADRE,
        ReporterKind.DEPARTMENT,
    ]
    assert db.scalar(select(Household.id).where(Household.id != first.household.id)) is None
    assert len(db.scalars(select(Case)).all()) == 1
    assert ("staff", world.cadre.id, "case_report_joined") in notifier.events()


def test_report_with_a_members_id_joins_the_household_case(world: World, notifier: RecordingNotifier) -> None:
    db, vault = world.db, world.vault
    first = submit_report(db=db, vault=vault, draft=draft(), now=world.now, notifier=notifier)
    intake.add_member(
        db=db, vault=vault, household=first.household, name="李梅", relation="配偶", id_number=SPOUSE_ID
    )
    proxy = submit_report(
        db=db,
        vault=vault,
        now=world.now,
        notifier=notifier,
        draft=draft(
            channel=Channel.WECHAT,
            reporter_kind=ReporterKind.PROXY,
            head_name="李梅",
            id_number=SPOUSE_ID,
            proxy_relation="邻居",
            proxy_name="王大妈",
            proxy_phone="13700002222",
        ),
    )
    assert proxy.joined_existing and proxy.case.id == first.case.id
    assert proxy.report.proxy_phone_enc and vault.decrypt(proxy.report.proxy_phone_enc) == "13700002222"


def test_closed_case_lets_a_new_one_open(world: World, notifier: RecordingNotifier) -> None:
    db, vault = world.db, world.vault
    first = submit_report(db=db, vault=vault, draft=draft(), now=world.now, notifier=notifier)
    first.case.status = CaseStatus.WITHDRAWN
    db.flush()
    again = submit_report(db=db, vault=vault, draft=draft(), now=world.now, notifier=notifier)
    assert not again.joined_existing and again.case.id != first.case.id
    assert again.household.id == first.household.id


def test_proxy_contact_is_not_linked_and_new_household_without_id(
    world: World, notifier: RecordingNotifier
) -> None:
    db, vault = world.db, world.vault
    c = contact(world, Channel.SMS, "+8613700002222")
    result = submit_report(
        db=db,
        vault=vault,
        now=world.now,
        notifier=notifier,
        draft=draft(reporter_kind=ReporterKind.PROXY, id_number=None, head_name="刘老汉", contact_id=c.id),
    )
    assert result.household.id_hash is None
    assert db.get(Contact, c.id).household_id is None  # type: ignore[union-attr]


def test_self_contact_without_id_reuses_its_household(world: World, notifier: RecordingNotifier) -> None:
    db, vault = world.db, world.vault
    c = contact(world, Channel.TELEGRAM, "tg-9")
    first = submit_report(db=db, vault=vault, draft=draft(contact_id=c.id), now=world.now, notifier=notifier)
    second = submit_report(
        db=db,
        vault=vault,
        now=world.now,
        notifier=notifier,
        draft=draft(contact_id=c.id, id_number=None, head_name=None, raw_text="还有"),
    )
    assert second.joined_existing and second.case.id == first.case.id


def test_assignment_balances_and_missing_cadre(world: World, notifier: RecordingNotifier) -> None:
    db, vault = world.db, world.vault
    a = submit_report(db=db, vault=vault, draft=draft(), now=world.now, notifier=notifier)
    b = submit_report(
        db=db,
        vault=vault,
        now=world.now,
        notifier=notifier,
        draft=draft(id_number=SPOUSE_ID, head_name="李梅"),
    )
    first = intake.current_assignment(db, a.case)
    second = intake.current_assignment(db, b.case)
    assert first is not None and second is not None
    assert {first.staff_id, second.staff_id} == {world.cadre.id, world.cadre2.id}
    world.other_cadre.active = False
    c = submit_report(
        db=db,
        vault=vault,
        now=world.now,
        notifier=notifier,
        draft=draft(id_number=CHILD_ID, head_name="张小", village_code=VILLAGE3),
    )
    assert intake.current_assignment(db, c.case) is None
    assert [e.action for e in c.case.events][-1] == "assignment_pending"


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"id_number": "430421199001013451"}, "invalid_id_number"),
        ({"village_code": "999999999999"}, "unknown_village"),
        ({"village_code": None}, "village_required"),
        ({"head_name": None}, "head_name_required"),
    ],
)
def test_refused_reports(
    world: World, notifier: RecordingNotifier, kw: dict[str, object], reason: str
) -> None:
    with pytest.raises(IntakeError) as err:
        submit_report(db=world.db, vault=world.vault, draft=draft(**kw), now=world.now, notifier=notifier)
    assert err.value.reason == reason


def test_find_case_by_number_is_tolerant(world: World, notifier: RecordingNotifier) -> None:
    case = submit_report(db=world.db, vault=world.vault, draft=draft(), now=world.now, notifier=notifier).case
    sloppy = case.number.lower().replace("0", "o").replace("1", "l")
    assert intake.find_case_by_number(db=world.db, number=sloppy) is case
    assert intake.find_case_by_number(db=world.db, number=" " + case.number[2:] + " ") is case
    assert intake.find_case_by_number(db=world.db, number="SBZZZZZZZZ") is None or case.number == "SBZZZZZZZZ"


def test_a_case_number_already_taken_is_drawn_again(world: World, notifier: RecordingNotifier,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    first = submit_report(db=world.db, vault=world.vault, draft=draft(), now=world.now,
                          notifier=notifier).case
    taken = first.number[2:]
    draws = iter(taken + "Z" * 8)  # the randomness draws the taken number first, then SBZZZZZZZZ
    monkeypatch.setattr(intake.secrets, "choice", lambda _alphabet: next(draws))
    other = submit_report(db=world.db, vault=world.vault, now=world.now, notifier=notifier,
                          draft=draft(head_name="李四", id_number=SPOUSE_ID)).case
    world.db.commit()
    assert other.number == "SBZZZZZZZZ" and first.number != other.number
    assert world.db.scalars(select(Case.number).order_by(Case.id)).all() == [first.number, "SBZZZZZZZZ"]


def _sign(world: World, case: Case, name: str, id_number: str | None, **kw: object) -> Authorization:
    return sign_authorization(
        db=world.db,
        vault=world.vault,
        case=case,
        signer_name=name,
        signer_id_number=id_number,
        channel=Channel.TELEGRAM,
        message_ref="m-1",
        contact_id=None,
        now=world.now,
        text_version=annex1.CURRENT_VERSION,
        **kw,
    )  # type: ignore[arg-type]


def test_signature_evidence_and_pending(world: World, notifier: RecordingNotifier) -> None:
    db, vault = world.db, world.vault
    case = submit_report(db=db, vault=vault, draft=draft(), now=world.now, notifier=notifier).case
    assert pending_signatures(db=db, vault=vault, case=case) == ["张三"]
    assert status.status_summary(db, case, vault=vault).next_step == "sign_authorization"
    auth = _sign(world, case, " 张 三", HEAD_ID)
    db.commit()
    assert auth.text_sha256 == annex1.sha256() and auth.text_version == annex1.CURRENT_VERSION
    assert auth.signer_name == "张三" and vault.decrypt(auth.signer_id_enc or "") == HEAD_ID
    assert auth.channel == Channel.TELEGRAM and auth.message_ref == "m-1" and auth.signed_at == world.now
    assert pending_signatures(db=db, vault=vault, case=case) == []
    assert _sign(world, case, "张三", HEAD_ID).id == auth.id  # a repeated "agree" adds no row
    summary = status.status_summary(db, case, vault=vault)
    assert summary.next_step == "home_verification" and summary.cadre_name == "李四"
    assert summary.cadre_phone_masked == "139****5678" and summary.steps_done == 1


@pytest.mark.parametrize(
    ("name", "id_number", "reason"),
    [
        ("王二", HEAD_ID, "signer_not_in_household"),
        ("张三", SPOUSE_ID, "signer_id_mismatch"),
        ("张三", "430421199001013451", "invalid_id_number"),
        ("张三", None, "signer_id_required"),
    ],
)
def test_signature_refusals(
    world: World, notifier: RecordingNotifier, name: str, id_number: str | None, reason: str
) -> None:
    case = submit_report(db=world.db, vault=world.vault, draft=draft(), now=world.now, notifier=notifier).case
    with pytest.raises(IntakeError) as err:
        _sign(world, case, name, id_number)
    assert err.value.reason == reason


def test_witnessed_signature_without_id_and_unknown_version(
    world: World, notifier: RecordingNotifier
) -> None:
    case = submit_report(db=world.db, vault=world.vault, draft=draft(), now=world.now, notifier=notifier).case
    auth = _sign(world, case, "张三", None, witnessed_by_staff_id=world.cadre.id)
    assert auth.witnessed_by_staff_id == world.cadre.id
    with pytest.raises(IntakeError) as err:
        sign_authorization(
            db=world.db,
            vault=world.vault,
            case=case,
            signer_name="张三",
            signer_id_number=HEAD_ID,
            channel=Channel.SMS,
            message_ref=None,
            contact_id=None,
            now=world.now,
            text_version="v0",
        )
    assert err.value.reason == "unknown_text_version"


def test_authorizations_are_immutable_and_withdrawal_is_a_new_record(
    world: World, notifier: RecordingNotifier
) -> None:
    db, vault = world.db, world.vault
    case = submit_report(db=db, vault=vault, draft=draft(), now=world.now, notifier=notifier).case
    auth = _sign(world, case, "张三", HEAD_ID)
    db.commit()
    auth.signer_name = "李四"
    with pytest.raises(ImmutableRecordError):
        db.flush()
    db.rollback()
    db.delete(auth)
    with pytest.raises(ImmutableRecordError):
        db.flush()
    db.rollback()
    with pytest.raises(ImmutableRecordError):
        db.execute(update(Authorization).values(signer_name="x"))
    db.rollback()
    with pytest.raises(ImmutableRecordError):
        db.execute(delete(Authorization))
    db.rollback()
    auth = db.get(Authorization, auth.id)  # type: ignore[assignment]
    assert auth is not None and auth.signer_name == "张三"
    withdrawal = intake.withdraw_authorization(
        db=db,
        authorization=auth,
        channel=Channel.SMS,
        message_ref="s-9",
        contact_id=None,
        now=world.now,
        note="不想申请了",
    )
    db.commit()
    assert withdrawal.kind == "withdraw" and withdrawal.withdraws_id == auth.id
    assert len(db.scalars(select(Authorization)).all()) == 2
    assert pending_signatures(db=db, vault=vault, case=case) == ["张三"]
    with pytest.raises(IntakeError):
        intake.withdraw_authorization(
            db=db, authorization=auth, channel=Channel.SMS, message_ref=None, contact_id=None, now=world.now
        )


def test_pending_signatures_for_every_adult_region(world: World, notifier: RecordingNotifier) -> None:
    db, vault = world.db, world.vault
    db.add(
        RegionSetting(
            area_code=PROVINCE, year=2026, income_line=7000, elimination_floor=5000, signers="all_adults"
        )
    )
    result = submit_report(db=db, vault=vault, draft=draft(), now=world.now, notifier=notifier)
    household, case = result.household, result.case
    intake.add_member(
        db=db, vault=vault, household=household, name="李梅", relation="配偶", id_number=SPOUSE_ID
    )
    intake.add_member(
        db=db, vault=vault, household=household, name="张小", relation="子女", id_number=CHILD_ID
    )
    intake.add_member(
        db=db, vault=vault, household=household, name="张奶奶", relation="母亲"
    )  # birth unknown
    assert pending_signatures(db=db, vault=vault, case=case) == ["张三", "李梅", "张奶奶"]
    _sign(world, case, "李梅", SPOUSE_ID)
    assert pending_signatures(db=db, vault=vault, case=case) == ["张三", "张奶奶"]
    _sign(world, case, "张奶奶", None, witnessed_by_staff_id=world.cadre.id)
    _sign(world, case, "张三", HEAD_ID)
    assert pending_signatures(db=db, vault=vault, case=case) == []
    # the child becomes an adult: on that day the setting asks for their signature too
    assert pending_signatures(db=db, vault=vault, case=case, on=date(2033, 5, 6)) == ["张小"]
    with pytest.raises(IntakeError):
        _sign(world, case, "张小", HEAD_ID)


def test_vault_key_matters_for_lookup(world: World, notifier: RecordingNotifier) -> None:
    submit_report(db=world.db, vault=world.vault, draft=draft(), now=world.now, notifier=notifier)
    other = Vault("a-different-secret-0123456789")
    assert intake.find_household_by_id_number(db=world.db, vault=other, id_number=HEAD_ID) is None


def test_household_without_head_member_still_needs_the_signature(
    world: World, notifier: RecordingNotifier
) -> None:
    """Households imported or seeded without Member rows must not skip annex 1."""
    db, vault = world.db, world.vault
    household = Household(head_name="陈五", village_code=VILLAGE, created_at=world.now)
    db.add(household)
    db.flush()
    c = contact(world, Channel.TELEGRAM, "tg-chen")
    c.household_id = household.id
    case = submit_report(
        db=db,
        vault=vault,
        now=world.now,
        notifier=notifier,
        draft=draft(contact_id=c.id, id_number=None, head_name=None),
    ).case
    assert case.household_id == household.id
    assert pending_signatures(db=db, vault=vault, case=case) == ["陈五"]
    _sign(world, case, "陈五", None, witnessed_by_staff_id=world.cadre.id)
    assert pending_signatures(db=db, vault=vault, case=case) == []


def test_joined_case_without_cadre_is_assigned_when_one_exists(
    world: World, notifier: RecordingNotifier
) -> None:
    db, vault = world.db, world.vault
    world.other_cadre.active = False
    first = submit_report(
        db=db, vault=vault, now=world.now, notifier=notifier, draft=draft(village_code=VILLAGE3)
    )
    assert intake.current_assignment(db, first.case) is None
    world.other_cadre.active = True
    again = submit_report(
        db=db, vault=vault, now=world.now, notifier=notifier, draft=draft(channel=Channel.SMS)
    )
    assert again.joined_existing
    assignment = intake.current_assignment(db, first.case)
    assert assignment is not None and assignment.staff_id == world.other_cadre.id


def test_proxy_report_for_an_ill_person_shows_the_pending_signature(
    world: World, notifier: RecordingNotifier
) -> None:
    """A neighbour reports for a bedridden man: the case opens, but the household's own signature is pending;
    the proxy cannot sign for him, a cadre can witness his signature at home."""
    db, vault = world.db, world.vault
    result = submit_report(
        db=db,
        vault=vault,
        now=world.now,
        notifier=notifier,
        draft=draft(
            channel=Channel.WECHAT,
            reporter_kind=ReporterKind.PROXY,
            raw_text="隔壁张三中风瘫在床上，我帮他报一下",
            proxy_relation="邻居",
            proxy_name="王大妈",
            proxy_phone="13700002222",
            phone=None,
        ),
    )
    case = result.case
    assert result.report.proxy_relation == "邻居" and result.report.reporter_kind == ReporterKind.PROXY
    assert pending_signatures(db=db, vault=vault, case=case) == ["张三"]
    assert status.status_summary(db, case, vault=vault).next_step == "sign_authorization"
    with pytest.raises(IntakeError) as err:
        _sign(world, case, "王大妈", None)
    assert err.value.reason == "signer_not_in_household"
    _sign(world, case, "张三", None, witnessed_by_staff_id=world.cadre.id)
    assert pending_signatures(db=db, vault=vault, case=case) == []


def test_a_household_on_record_is_vouched_for_only_by_its_own_identities(
    world: World, notifier: RecordingNotifier
) -> None:
    """Knowing a household's ID number and name proves nothing: a later report from another chat joins the
    case but does not link that chat; the household's linked chat and an SMS from its phone on record do."""
    db, vault = world.db, world.vault
    own = contact(world, Channel.TELEGRAM, "tg-own")
    first = submit_report(db=db, vault=vault, draft=draft(contact_id=own.id), now=world.now,
                          notifier=notifier)
    assert first.vouched
    other = contact(world, Channel.WECHAT, "wx-other")
    joined = submit_report(db=db, vault=vault, draft=draft(contact_id=other.id, phone="13700007777"),
                           now=world.now, notifier=notifier)
    assert joined.joined_existing and not joined.vouched
    assert db.get(Contact, other.id).household_id is None  # type: ignore[union-attr]
    again = submit_report(db=db, vault=vault, draft=draft(contact_id=own.id), now=world.now,
                          notifier=notifier)
    assert again.vouched
    sms = contact(world, Channel.SMS, "+8613900001111")  # the phone on record
    by_sms = submit_report(db=db, vault=vault, draft=draft(channel=Channel.SMS, contact_id=sms.id),
                           now=world.now, notifier=notifier)
    assert by_sms.vouched and db.get(Contact, sms.id).household_id == first.household.id  # type: ignore[union-attr]


def test_a_household_id_under_another_name_is_refused_for_self_and_proxy_reports(
    world: World, notifier: RecordingNotifier
) -> None:
    db, vault = world.db, world.vault
    submit_report(db=db, vault=vault, draft=draft(), now=world.now, notifier=notifier)
    for kind in (ReporterKind.SELF, ReporterKind.PROXY):
        with pytest.raises(IntakeError) as refused:
            submit_report(db=db, vault=vault, draft=draft(reporter_kind=kind, head_name="李四"),
                          now=world.now, notifier=notifier)
        assert refused.value.reason == "name_not_on_record"
    hotline = submit_report(db=db, vault=vault, now=world.now, notifier=notifier,
                            draft=draft(channel=Channel.CONSOLE, reporter_kind=ReporterKind.HOTLINE,
                                        head_name="张 三"))
    assert hotline.joined_existing  # staff write what the caller says; the cadre checks it at the visit


def test_names_compare_alike_in_either_script_and_stay_as_written() -> None:
    """張偉 on record and 张伟 typed are one name (the chat keeps typed names simplified); spaces and
    full-width letters aside; a different character is another name."""
    assert intake.same_name("張偉", "张伟") and intake.same_name("张 伟", "張偉")
    assert intake.same_name("阿依古丽·买买提", "阿依古丽·买买提") and intake.same_name("ＬＩ Ｗｅｉ", "LIWei")
    assert not intake.same_name("张伟", "张炜") and not intake.same_name("張偉", "章伟")
