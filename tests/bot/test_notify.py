"""bot/notify.py: the Notifier writes rendered Outbox rows to every active linked contact, SMS as fallback."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.notify import OutboxNotifier, render
from cases.clock import FrozenClock
from cases.models import Channel, ContactStatus
from conversations.i18n import missing_translations
from tests.bot import helpers as h


def notifier(clock: FrozenClock) -> OutboxNotifier:
    return OutboxNotifier(decrypt=h.vault().decrypt, clock=clock)


def test_every_active_linked_contact_of_a_cadre_gets_the_notification(
    db: Session, clock: FrozenClock
) -> None:
    cadre = h.staff(db, clock())
    tg = h.contact(db, clock(), Channel.TELEGRAM, "3001", staff_id=cadre.id)
    wx = h.contact(db, clock(), Channel.WECHAT, "oCADRE", staff_id=cadre.id)
    h.contact(db, clock(), Channel.SMS, "+8613900000000", staff_id=cadre.id, status=ContactStatus.UNREACHABLE)
    notifier(clock).notify_staff(
        db,
        staff_id=cadre.id,
        event="case_assigned",
        params={"case_number": "SB12345678", "village": "梅花村", "head_name_masked": "王*", "urgent": True,
                "due_at": "2026-03-03T18:00:00+08:00"},
    )
    db.commit()
    rows = h.rows(db)
    assert sorted((r.channel, r.to, r.contact_id) for r in rows) == sorted(
        [("telegram", "3001", tg.id), ("wechat", "oCADRE", wx.id)]
    )
    assert rows[0].body == "【紧急】梅花村新案件 SB12345678：农户 王*。请在2026年3月3日下班前联系农户。"
    assert all(r.kind == "notification" for r in rows)


def test_a_household_with_no_chat_gets_an_sms_to_its_phone_with_segments(
    db: Session, clock: FrozenClock
) -> None:
    hh = h.household(db, clock(), phone="13812345678")
    notifier(clock).notify_household(
        db,
        household_id=hh.id,
        event="case_status_changed",
        params={"case_number": "SB12345678", "status": "refused", "reason": "家庭收入高于监测标准"},
    )
    db.commit()
    (row,) = h.rows(db)
    assert row.channel == "sms" and row.to == "+8613812345678"
    assert (
        row.body == "您的案件 SB12345678：未通过。原因：家庭收入高于监测标准。您可以申请复核，或拨打 12317。"
    )
    assert row.segments == 1


def test_the_public_notice_message_says_until_when(db: Session, clock: FrozenClock) -> None:
    hh = h.household(db, clock(), phone="13812345678")
    for params in ({"case_number": "SB12345678", "status": "public_notice", "notice_end": "2026-03-09"},
                   {"case_number": "SB12345678", "status": "public_notice"}):  # a notice end not known
        notifier(clock).notify_household(db, household_id=hh.id, event="case_status_changed", params=params)
    db.commit()
    assert [r.body for r in h.rows(db)] == [
        "您的案件 SB12345678：村评议已通过，正在公示，公示到2026年3月9日。",
        "您的案件 SB12345678：村评议已通过，正在公示。"]


def test_an_opted_out_household_gets_no_sms(db: Session, clock: FrozenClock) -> None:
    hh = h.household(db, clock())
    h.contact(db, clock(), Channel.SMS, "+8613812345678", household_id=hh.id, status=ContactStatus.OPTED_OUT)
    notifier(clock).notify_household(
        db, household_id=hh.id, event="case_opened", params={"case_number": "SB1"}
    )
    db.commit()
    assert h.rows(db) == []


def test_reminders_render_the_due_date_through_babel_and_unknown_events_stay_readable(
    clock: FrozenClock,
) -> None:
    due = (clock() + timedelta(days=2)).isoformat()
    text = render(
        "task_verify", {"task_kind": "verify", "case_number": "SB1", "village": "梅花村", "due_at": due}
    )
    assert text == "提醒：梅花村案件 SB1 的入户核实，截止 2026年3月4日。"
    assert render("something_new", {"case_number": "SB9"}) == "案件 SB9 有新进展。回复“菜单”可查看菜单。"
    assert render("case_opened", {}, "en").startswith("Your report is received. Case number .")
    assert render("daily_digest", {"tasks": [{}, {}], "overdue": 1, "soon": 0}).startswith("今天：待办 2 件")


def test_the_cadres_notice_of_words_added_says_what_they_added_and_that_the_case_is_urgent() -> None:
    """Words a household adds to its case can bring a new difficulty or make it urgent (cases.intake.Added):
    the notice said only 'the household sent more'."""
    base = {"case_number": "SB12345678", "village": "梅花村", "urgent": False}
    assert render("case_supplemented", base) == (
        "梅花村的案件 SB12345678：农户补充了情况（文字、照片或语音），请查看案件。")
    added = render("case_supplemented", base | {"urgent": True, "added_risks": ["05"],
                                                "added_guarantees": ["A23"], "became_urgent": True})
    assert added == ("【紧急】梅花村的案件 SB12345678：农户补充了情况（文字、照片或语音），"
                     "新增：住房安全保障风险、因意外事故。请查看案件。")


def test_every_bot_string_is_translated() -> None:
    assert missing_translations("bot", "zh_CN") == []
    assert missing_translations("bot", "en", require_text=False) == []


def test_staff_texts_are_held_during_the_sms_quiet_hours_chat_and_households_are_not(
    db: Session, clock: FrozenClock
) -> None:
    from datetime import datetime, time

    from cases.clock import BEIJING, FrozenClock

    night = FrozenClock(datetime(2026, 3, 2, 23, 15, tzinfo=BEIJING))
    quiet = OutboxNotifier(decrypt=h.vault().decrypt, clock=night, staff_sms_quiet=(time(21), time(8)))
    cadre = h.staff(db, night())
    h.contact(db, night(), Channel.TELEGRAM, "3001", staff_id=cadre.id)
    h.contact(db, night(), Channel.SMS, "+8613912345678", staff_id=cadre.id)
    hh = h.household(db, night(), phone="13812345678")
    params = {"case_number": "SB12345678", "village": "梅花村", "head_name_masked": "王*"}
    db.commit()
    written: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        written.append(statement.split()[0])

    event.listen(db.get_bind(), "before_cursor_execute", seen)
    try:
        quiet.notify_staff(db, staff_id=cadre.id, event="case_assigned", params=params)
        quiet.notify_household(db, household_id=hh.id, event="case_opened", params=params)
        db.commit()
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", seen)
    assert "UPDATE" not in written  # the held text is written held, not inserted and then moved
    due = {(r.channel, r.to): r.next_attempt_at for r in h.rows(db)}
    assert due == {
        ("telegram", "3001"): night(),
        ("sms", "+8613912345678"): datetime(2026, 3, 3, 8, 0, tzinfo=BEIJING),  # the cadre: held till 08:00
        ("sms", "+8613812345678"): night(),  # the household is answered at once
    }
