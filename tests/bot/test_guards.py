"""Checklist G4, G5, G7 through real channel payloads (Telegram Update JSON, signed Twilio forms) and the
recording fake Bot API; on SQLite and PostgreSQL."""

from __future__ import annotations

import string
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases import intake
from cases.ids import check_digit
from cases.models import AuditEntry, Case, CaseStatus, Contact, Household, LookupAttempt
from tests.bot import channels as ch
from tests.bot.test_telegram import full_report, talk
from tests.bot.world import DESCRIPTION, World, case_number
from tests.conversations.conftest import ID_LI, ID_ZHANG

HOUSEHOLD, STRANGER = 5550001, 5559999
NOT_FOUND = "没有查到"
TOO_MANY = "尝试次数太多"


def reported(world: World) -> str:
    """The household of chat HOUSEHOLD reports and signs; its case number."""
    return case_number(talk(world, full_report(), chat=HOUSEHOLD)[-1])


# --- G4 ------------------------------------------------------------------------------------------------


def test_G4_a_stranger_guessing_a_case_number_gets_the_same_answer_as_for_no_such_case(
    world: World, db: Session
) -> None:
    number = reported(world)
    assert NOT_FOUND not in talk(world, ["查询"], start=3000, chat=HOUSEHOLD)[0]  # identity from the chat
    nobody = "SB" + ("ZZZZZZZZ" if number != "SBZZZZZZZZ" else "YYYYYYYY")
    wrong_digits = "0000" if not ID_ZHANG.endswith("0000") else "1111"
    # the stranger's chat is not linked: asked for the number, then the ID digits, whatever the number
    real = talk(world, ["查询", number, wrong_digits], start=100, chat=STRANGER)
    fake = talk(world, ["查询", nobody, wrong_digits], start=200, chat=STRANGER)
    assert real[1] == fake[1] and "身份证" in real[1]  # no "that case exists" signal
    assert real[2] == fake[2] and NOT_FOUND in real[2]  # byte for byte the same answer
    asked = real + fake
    one_message = talk(
        world, [f"{number} {wrong_digits}", f"{nobody} {wrong_digits}"], start=300, chat=STRANGER
    )
    assert one_message[0] == one_message[1]
    leaked = "\n".join(asked + one_message)
    assert "李桂英" not in leaked and "张" not in leaked and "已提交申请" not in leaked
    # the other purposes (sign, add to, withdraw a case) ask for the same proof and reveal nothing either
    for i, words in enumerate(["签字", "补充", "撤回"]):
        answers = talk(world, [words, f"{number} {wrong_digits}"], start=400 + 10 * i, chat=STRANGER + 1)
        assert NOT_FOUND in answers[1] and "张" not in answers[1]
    case = world.case(number)
    assert case.status == CaseStatus.APPLIED
    db.expire_all()
    strangers = list(
        db.scalars(select(Contact).where(Contact.external_id.in_([str(STRANGER), str(STRANGER + 1)])))
    )
    assert len(strangers) == 2 and all(c.household_id is None for c in strangers)  # not linked by guessing
    assert (
        db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "case.lookup")) == 0
    )


def test_G4_case_numbers_are_random_not_sequential_or_guessable(world: World) -> None:
    """SB + 8 Crockford base32 characters from the system's CSPRNG: 32**8 (about 10**12) numbers."""
    numbers = [intake.new_case_number() for _ in range(4000)]
    alphabet = set(string.digits + string.ascii_uppercase) - set("ILOU")
    assert all(n.startswith("SB") and len(n) == 10 and set(n[2:]) <= alphabet for n in numbers)
    assert len(set(numbers)) == len(numbers)
    counts = Counter("".join(n[2:] for n in numbers))
    assert set(counts) == alphabet  # every symbol used in every run: 32,000 draws over 32 symbols
    assert max(counts.values()) < 2 * min(counts.values())  # flat, not a counter or a clock
    # two cases opened one after the other do not have neighbouring numbers
    first = reported(world)
    second = case_number(
        talk(world, full_report("李四")[:3] + [ID_LI] + full_report("李四")[4:], start=5000, chat=5550002)[-1]
    )
    assert first != second
    assert sum(a == b for a, b in zip(first[2:], second[2:], strict=True)) < 8


# --- G5 ------------------------------------------------------------------------------------------------


def test_G5_a_bad_check_digit_or_impossible_date_is_re_asked_and_lower_case_x_is_normalised(
    world: World, db: Session
) -> None:
    steps = full_report("李秀英")
    before_id = talk(world, steps[:3])
    assert "身份证" in before_id[-1]
    bad_check = ID_LI[:-1] + "3"  # one character off: the check character does not fit
    first17 = "43042119990230123"  # 30 February: a checksum that fits, a date that does not exist
    bad_date = first17 + check_digit(first17)
    future17 = "43042120991231123"
    in_future = future17 + check_digit(future17)
    answers = talk(world, [bad_check, bad_date, in_future, "4304211962"], start=1003)
    assert "最后一位" in answers[0] or "校验" in answers[0], answers[0]
    assert "出生日期" in answers[1] and "出生日期" in answers[2]
    assert "18" in answers[3]
    for answer in answers:
        assert "几口人" not in answer  # re-asked on the same step
    keyboard = world.tg.sent()[-1]["reply_markup"]["keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["0 返回"]  # with a way back
    assert "人工" in answers[-1]  # after a few misses, a person is offered too
    rest = talk(world, [ID_LI.lower()] + steps[4:], start=1010)
    assert "几口人" in rest[0]
    assert "430421********456X" in "\n".join(rest)  # read back upper-case and masked
    number = case_number(rest[-1])
    db.expire_all()
    household = db.get(Household, world.case(number).household_id)
    assert household is not None and household.id_number_enc is not None
    assert world.vault.decrypt(household.id_number_enc) == ID_LI
    assert household.id_hash == world.vault.lookup_hash(ID_LI)
    found = intake.find_household_by_id_number(db=db, vault=world.vault, id_number=ID_LI.lower())
    assert found is not None and found.id == household.id
    # the last four with a lower-case x also open the case's status from another phone
    status = talk(world, ["查询", f"{number} {ID_LI[-4:].lower()}"], start=1100, chat=STRANGER)[1]
    assert number in status and "已提交申请" in status


def test_G5_over_sms_the_same_re_ask_and_normalisation(world: World, db: Session) -> None:
    phone = "+8613911112222"
    bodies = [DESCRIPTION, "1", "李秀英", ID_LI[:-1] + "3", ID_LI.lower()]
    answers = []
    with world.client() as client:
        for i, body in enumerate(bodies):
            res = ch.tw_post(client, ch.tw_sms(phone, f"SM{i:032d}", body))
            assert res.status_code == 200
            answers.append("\n".join(ch.twiml_messages(res)))
    assert "几口人" not in answers[3] and "几口人" in answers[4]


# --- G7 ------------------------------------------------------------------------------------------------


def test_G7_repeated_status_attempts_in_chat_are_throttled_across_numbers_and_restarts(
    world: World, db: Session
) -> None:
    number = reported(world)
    guesses = [f"SB{c * 8} 1234" for c in "23456"]  # five different made-up numbers
    answers = talk(world, ["查询"] + guesses, start=100, chat=STRANGER)
    assert all(NOT_FOUND in a for a in answers[1:])
    later = world.restart()  # another process: the count lives in the database
    right = talk(later, ["查询", f"{number} {ID_ZHANG[-4:]}"], start=200, chat=STRANGER)
    assert TOO_MANY in right[1] and "人工" in right[1] and "李桂英" not in right[1]
    db.expire_all()
    attempts = db.scalar(select(func.count()).select_from(LookupAttempt))
    assert attempts == 5  # the throttled try was not even checked
    assert talk(later, ["查询"], start=300, chat=HOUSEHOLD)[0].count(
        number
    )  # the household is not locked out
    later.clock.advance(minutes=61)
    after = talk(later, ["查询", f"{number} {ID_ZHANG[-4:]}"], start=400, chat=STRANGER)
    assert "已提交申请" in after[1] and "李桂英" in after[1]


def test_G7_repeated_binding_codes_in_chat_are_throttled(world: World, db: Session) -> None:
    from conversations import binding

    with world.sessions() as s, s.begin():
        code = binding.issue_code(db=s, vault=world.vault, staff_id=world.cadre_id, now=world.clock())
    wrong = [f"绑定 {n:08d}" for n in range(10000000, 10000005) if f"{n:08d}" != code]
    answers = talk(world, wrong[:5] + [f"绑定 {code}"], start=100, chat=STRANGER)
    assert TOO_MANY in answers[-1]
    db.expire_all()
    contact = db.scalar(select(Contact).where(Contact.external_id == str(STRANGER)))
    assert contact is not None and contact.staff_id is None  # the right code, but too late
    assert db.scalar(select(Case.id).limit(1)) is None


# --- G3 ------------------------------------------------------------------------------------------------


def test_G3_a_dead_assignment_message_is_visible_to_staff_and_the_cadre_is_texted_instead(
    world: World, db: Session
) -> None:
    from typing import Any

    from api.auth import issue_token
    from bot import outbox
    from cases.models import Channel, Outbox, OutboxStatus, Role, Staff
    from tests.bot import helpers as h
    from tests.conversations.conftest import CADRE_PHONE, COUNTY, TAIYUAN

    cadre_chat = 7770001
    with world.sessions() as s, s.begin():
        h.contact(s, world.clock(), Channel.TELEGRAM, str(cadre_chat), staff_id=world.cadre_id)
        county = Staff(
            username="county1", name="周九", role=Role.COUNTY, area_code=COUNTY, created_at=world.clock()
        )
        elsewhere = Staff(
            username="town-taiyuan",
            name="钱七",
            role=Role.TOWNSHIP,
            area_code=TAIYUAN,
            created_at=world.clock(),
        )
        s.add_all([county, elsewhere])
    ok_script = world.tg.success

    def script(method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if str(params.get("chat_id")) == str(cadre_chat):
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return 200, ok_script(method, params)

    world.tg.script = script
    number = reported(world)
    for _ in range(outbox.MAX_ATTEMPTS + 2):  # retried with backoff until the cap
        world.clock.advance(seconds=outbox.BACKOFF_CAP_SECONDS + 1)
        world.dispatch(rounds=2)
    db.expire_all()
    dead = db.scalar(select(Outbox).where(Outbox.to == str(cadre_chat)))
    assert dead is not None and dead.status == OutboxStatus.DEAD and dead.attempts == outbox.MAX_ATTEMPTS
    assert len([p for p in world.tg.sent() if p["chat_id"] == cadre_chat]) == outbox.MAX_ATTEMPTS
    texted = [d for d in world.tw.creates() if d["To"] == "+86" + CADRE_PHONE]
    assert len(texted) == 1 and number in texted[0]["Body"]  # told another way, once

    def failed(staff: Staff) -> list[dict[str, Any]]:
        token, _ = issue_token(staff=staff, settings=world.ctx.settings, now=world.clock())  # type: ignore[arg-type]
        with world.client() as client:
            res = client.get("/api/deliveries/failed", headers={"Authorization": f"Bearer {token}"})
        assert res.status_code == 200, res.text
        return list(res.json())

    with world.sessions() as s:
        county_staff = s.scalars(select(Staff).where(Staff.username == "county1")).one()
        other = s.scalars(select(Staff).where(Staff.username == "town-taiyuan")).one()
    (item,) = [m for m in failed(county_staff) if m["id"] == dead.id]
    assert item["status"] == "dead" and item["recipient"] == "staff" and item["staff_id"] == world.cadre_id
    assert item["event"] == "case_assigned" and item["fallback_status"] == "sent"
    assert str(cadre_chat) not in str(item)  # the address is masked
    assert failed(other) == []  # another township does not see this village's messages
