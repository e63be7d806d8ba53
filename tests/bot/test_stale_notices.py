"""A notice to a cadre that is out of date by the time it would go is dropped, not sent: an SMS reminder held
for the quiet hours whose task was done, cancelled or moved to a colleague before the morning, or whose case
was closed; a reminder waiting on back-off whose task was done meanwhile. Through the real app and
dispatcher (the worker's job loop), the recording fakes at the HTTP boundary, a pinned clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outbox
from bot.dispatcher import Round
from cases import reminders
from cases.clock import BEIJING, FrozenClock
from cases.models import Outbox, OutboxStatus, Role, Staff, Task, TaskStatus
from cases.passwords import hash_password
from conversations import binding
from tests.api.test_console import login as console_login
from tests.bot import helpers as h
from tests.bot.test_cadre_e2e import (
    CADRE_CHAT,
    CADRE_SMS,
    HOUSEHOLD_CHAT,
    at,
    texts_to_cadre_phone,
    worker_round,
)
from tests.bot.test_telegram import full_report, talk
from tests.bot.world import World, case_number
from tests.conversations.conftest import COUNTY, MEIHUA, XIDU

TUESDAY_19 = datetime(2026, 3, 3, 19, 0, tzinfo=BEIJING)  # the acknowledgement was due at 18:00
TUESDAY_2130 = datetime(2026, 3, 3, 21, 30, tzinfo=BEIJING)  # inside the SMS quiet hours
WEDNESDAY_7 = datetime(2026, 3, 4, 7, 0, tzinfo=BEIJING)
WEDNESDAY_8 = datetime(2026, 3, 4, 8, 0, tzinfo=BEIJING)  # the quiet hours end
OTHER_PHONE = "13907340009"
TOWN_PHONE = "13907340005"
PASSWORD = "county-password-2026"


def bind_telegram(world: World) -> None:
    """The cadre links their Telegram chat with a code from the console (replies and notices come there)."""
    with world.sessions() as s, s.begin():
        code = binding.issue_code(db=s, vault=world.vault, staff_id=world.cadre_id, now=world.clock())
    assert "李桂英" in talk(world, [f"绑定 {code}"], start=9000, chat=CADRE_CHAT)[0]


def reported(world: World, when: datetime | None = None) -> str:
    """A household of the cadre's village reports over Telegram (Monday 10:00, or `when`); the rules make
    its tasks."""
    if when is not None:
        at(world, when)
    number = case_number(talk(world, full_report(), start=100, chat=HOUSEHOLD_CHAT)[-1])
    worker_round(world)
    return number


def task_of(db: Session, kind: str) -> Task:
    db.expire_all()
    task = db.scalar(select(Task).where(Task.kind == kind).order_by(Task.id.desc()).limit(1))
    assert task is not None
    return task


def held_sms(db: Session, event: str, to: str = CADRE_SMS) -> Outbox:
    """The one pending SMS of `event` to `to`, held until the quiet hours end."""
    db.expire_all()
    pending = select(Outbox).where(Outbox.to == to, Outbox.status == OutboxStatus.PENDING)
    rows = [r for r in db.scalars(pending) if (r.extra or {}).get("event") == event]
    assert len(rows) == 1, [(r.extra, r.status) for r in rows]
    assert rows[0].next_attempt_at.astimezone(BEIJING).time().isoformat() == "08:00:00"
    return rows[0]


def overdue_held_overnight(world: World, db: Session) -> tuple[Outbox, Outbox]:
    """Tuesday 21:30: the acknowledgement is overdue; its reminder and Tuesday's digest, written now, go to
    the cadre's phone by SMS only when the quiet hours end, Wednesday 08:00."""
    at(world, TUESDAY_2130)
    worker_round(world)
    overdue, digest = held_sms(db, "task_overdue"), held_sms(db, "daily_digest")
    assert overdue.next_attempt_at == WEDNESDAY_8 and digest.next_attempt_at == WEDNESDAY_8
    ack, subject = task_of(db, "acknowledge"), overdue.extra["subject"]
    assert (subject["task"], subject["staff"]) == (ack.id, world.cadre_id)
    assert datetime.fromisoformat(subject["due_at"]) == ack.due_at  # the deadline it reminds of
    return overdue, digest


def failed_listed(world: World) -> list[dict[str, Any]]:
    """What the county sees at GET /api/deliveries/failed (the console's 未送达 page lists the same)."""
    headers = world.staff_headers("county-staff", Role.COUNTY, COUNTY)
    with world.client() as client:
        res = client.get("/api/deliveries/failed", headers=headers)
    assert res.status_code == 200
    return list(res.json())


def township(world: World) -> dict[str, str]:
    return world.staff_headers("town-xidu", Role.TOWNSHIP, XIDU)


def second_cadre(world: World) -> int:
    """Another contact cadre of 梅花村, with a phone on file."""
    with world.sessions() as s, s.begin():
        other = Staff(username="cadre-meihua-2", name="王建华", role=Role.CADRE, area_code=MEIHUA,
                      created_at=world.clock(), phone_enc=world.vault.encrypt(OTHER_PHONE),
                      phone_hash=world.vault.lookup_hash(OTHER_PHONE))
        s.add(other)
        s.flush()
        return other.id


def dropped(db: Session, row: Outbox, reason: str) -> None:
    got = h.row(db, row.id)
    assert (got.status, got.error_code, got.sent_at) == (OutboxStatus.DROPPED, reason, None), (
        got.status, got.error_code, got.last_error)


def test_a_held_sms_reminder_of_a_task_done_before_the_morning_is_dropped_not_sent(
    world: World, db: Session
) -> None:
    bind_telegram(world)  # the cadre reads Telegram; the SMS copies wait for the morning
    with world.sessions() as s, s.begin():  # and their phone is linked as well, as a bound SMS contact
        h.contact(s, world.clock(), h.Channel.SMS, CADRE_SMS, staff_id=world.cadre_id)
    reported(world)
    overdue, digest = overdue_held_overnight(world, db)
    ack = task_of(db, "acknowledge")

    at(world, WEDNESDAY_7)  # the cadre saw the Telegram copy and closes the task in the chat
    answer = talk(world, [f"完成 {ack.id}"], start=9100, chat=CADRE_CHAT)[0]
    assert f"#{ack.id}" in answer and "已办结" in answer, answer
    assert task_of(db, "acknowledge").status == TaskStatus.DONE

    at(world, WEDNESDAY_8)
    world.dispatch(rounds=4)
    dropped(db, overdue, "stale:task_done")
    texts = texts_to_cadre_phone(world)
    assert overdue.body not in texts  # not sent at 08:00 for a task done at 07:00
    # Tuesday's digest, held overnight, says 今天 of a day gone: dropped too (Wednesday's own replaces it)
    assert digest.body not in texts
    dropped(db, digest, "stale:digest_old")
    assert overdue.id not in [m["id"] for m in failed_listed(world)]  # not a failure anyone must act on


def test_a_reminder_waiting_on_back_off_is_dropped_once_the_task_is_done_and_the_reply_behind_it_goes(
    world: World, db: Session
) -> None:
    bind_telegram(world)
    reported(world)
    ok = world.tg.success

    def script(method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if str(params.get("chat_id")) == str(CADRE_CHAT) and str(params.get("text", "")).startswith("提醒："):
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return 200, ok(method, params)

    world.tg.script = script
    at(world, TUESDAY_19)
    worker_round(world)  # the overdue reminder fails and waits on back-off
    db.expire_all()
    reminder = db.scalar(select(Outbox).where(Outbox.to == str(CADRE_CHAT), Outbox.kind == "reminder",
                                              Outbox.body.startswith("提醒：")))
    assert reminder is not None and reminder.status == OutboxStatus.PENDING and reminder.last_error
    tries = len([p for p in world.tg.sent() if p["text"] == reminder.body])
    assert tries >= 1
    assert reminder.id in [m["id"] for m in failed_listed(world)]  # listed while it is being retried

    ack = task_of(db, "acknowledge")
    talk(world, [f"完成 {ack.id}"], start=9100, chat=CADRE_CHAT)  # its answer queues behind the reminder
    assert task_of(db, "acknowledge").status == TaskStatus.DONE
    world.clock.advance(seconds=outbox.BACKOFF_CAP_SECONDS)
    world.dispatch(rounds=3)

    dropped(db, reminder, "stale:task_done")
    assert len([p for p in world.tg.sent() if p["text"] == reminder.body]) == tries  # not tried again
    to_cadre = [p["text"] for p in world.tg.sent() if p["chat_id"] == CADRE_CHAT]
    assert any("已办结" in t and f"#{ack.id}" in t for t in to_cadre)  # the reply was never dropped
    assert reminder.id not in [m["id"] for m in failed_listed(world)]


@pytest.mark.parametrize(("action", "body", "reason"), [
    ("withdraw", {"note": "农户电话说不需要了"}, "stale:case_withdrawn"),
    ("refuse", {"reason": "家庭收入高于监测线"}, "stale:case_closed"),
])
def test_held_reminders_of_a_case_closed_before_the_morning_are_dropped(
    world: World, db: Session, action: str, body: dict[str, str], reason: str
) -> None:
    number = reported(world)  # the cadre has no chat linked: texts to the phone on file
    overdue, digest = overdue_held_overnight(world, db)

    at(world, WEDNESDAY_7)
    with world.client() as client:
        res = client.post(f"/api/cases/{number}/actions/{action}", json=body, headers=township(world))
    assert res.status_code == 200, res.text
    assert task_of(db, "acknowledge").status == TaskStatus.OPEN  # the rules have not run since

    at(world, WEDNESDAY_8)
    before = len(texts_to_cadre_phone(world))
    world.dispatch(rounds=4)
    dropped(db, overdue, reason)
    dropped(db, digest, "stale:digest")  # it listed this case's tasks alone
    morning = texts_to_cadre_phone(world)[before:]
    assert overdue.body not in morning and digest.body not in morning  # no reminder of a closed case
    if action == "withdraw":  # the cadre is told of the withdrawal itself, as ever
        assert len(morning) == 1 and number in morning[0] and "撤回" in morning[0], morning
    # the household is told, whatever the cadre's notices
    assert any(number in p["text"] for p in world.tg.sent()[-3:] if p["chat_id"] == HOUSEHOLD_CHAT)


def test_held_reminders_of_a_case_moved_to_another_cadre_are_dropped_the_new_cadre_is_told(
    world: World, db: Session
) -> None:
    number = reported(world)
    overdue, digest = overdue_held_overnight(world, db)
    other = second_cadre(world)

    at(world, WEDNESDAY_7)  # the township moves the case (and its open tasks) to another cadre
    with world.client() as client:
        res = client.post(f"/api/cases/{number}/assignment", json={"staff_id": other, "note": "原联系人病休"},
                          headers=township(world))
    assert res.status_code == 200, res.text

    at(world, WEDNESDAY_8)
    before = len(texts_to_cadre_phone(world))
    world.dispatch(rounds=6)
    dropped(db, overdue, "stale:reassigned")
    dropped(db, digest, "stale:digest")  # both its tasks are the colleague's now
    texts = texts_to_cadre_phone(world)[before:]
    assert len(texts) == 1 and number in texts[0] and "已改由其他干部负责" in texts[0], texts  # told it moved
    new = [d["Body"] for d in world.tw.creates() if d["To"] == "+86" + OTHER_PHONE]
    assert any(number in t and "新案件" in t for t in new), new  # the new cadre hears of it at 08:00


def test_a_held_reminder_whose_task_the_rules_cancelled_after_a_reassignment_is_dropped(
    world: World, db: Session
) -> None:
    number = reported(world)
    overdue, _digest = overdue_held_overnight(world, db)
    other = second_cadre(world)
    at(world, WEDNESDAY_7)
    with world.client() as client:
        res = client.post(f"/api/cases/{number}/assignment", json={"staff_id": other},
                          headers=township(world))
    assert res.status_code == 200, res.text
    worker_round(world)  # the rules run: the ended assignment's acknowledgement is cancelled
    assert h.row(db, overdue.id).status == OutboxStatus.PENDING  # still held: 07:00
    ack = h.row(db, overdue.id).extra["subject"]["task"]
    db.expire_all()
    assert db.get(Task, ack).status == TaskStatus.CANCELLED  # type: ignore[union-attr]

    at(world, WEDNESDAY_8)
    world.dispatch(rounds=6)
    dropped(db, overdue, "stale:task_cancelled")


def test_a_new_case_notice_held_overnight_is_dropped_when_the_case_is_moved_or_acknowledged(
    world: World, db: Session
) -> None:
    bind_telegram(world)
    with world.sessions() as s, s.begin():
        h.contact(s, world.clock(), h.Channel.SMS, CADRE_SMS, staff_id=world.cadre_id)
    monday_2130 = datetime(2026, 3, 2, 21, 30, tzinfo=BEIJING)
    first = reported(world, monday_2130)
    assigned = held_sms(db, "case_assigned")
    assert assigned.extra["subject"] == {"case": first, "staff": world.cadre_id}
    # the cadre reads the Telegram copy at once and acknowledges it there
    answer = talk(world, [f"收到 {first}"], start=9200, chat=CADRE_CHAT)[0]
    assert first in answer, answer

    at(world, datetime(2026, 3, 3, 8, 0, tzinfo=BEIJING))
    world.dispatch(rounds=6)
    dropped(db, assigned, "stale:acknowledged")
    assert assigned.body not in texts_to_cadre_phone(world)


def test_a_new_case_notice_held_overnight_is_dropped_when_the_case_is_moved_before_morning(
    world: World, db: Session
) -> None:
    number = reported(world, datetime(2026, 3, 2, 21, 30, tzinfo=BEIJING))
    assigned = held_sms(db, "case_assigned")
    other = second_cadre(world)
    at(world, datetime(2026, 3, 3, 7, 30, tzinfo=BEIJING))
    with world.client() as client:
        res = client.post(f"/api/cases/{number}/assignment", json={"staff_id": other},
                          headers=township(world))
    assert res.status_code == 200, res.text
    at(world, datetime(2026, 3, 3, 8, 0, tzinfo=BEIJING))
    world.dispatch(rounds=6)
    dropped(db, assigned, "stale:reassigned")
    new = [d["Body"] for d in world.tw.creates() if d["To"] == "+86" + OTHER_PHONE]
    assert any(number in t and "新案件" in t for t in new), new


@pytest.mark.parametrize("then", ["moved", "done"])
def test_a_held_escalation_stays_when_the_task_moves_and_is_dropped_when_it_is_done(
    world: World, db: Session, then: str
) -> None:
    """The township's escalation is about the task, not who has it: moved to a colleague, still overdue."""
    number = reported(world)
    township(world)  # the township's staff member, who gets escalations (by SMS to the phone on file)
    with world.sessions() as s, s.begin():
        town = s.scalar(select(Staff).where(Staff.username == "town-xidu"))
        assert town is not None
        town.phone_enc, town.phone_hash = world.vault.encrypt(TOWN_PHONE), world.vault.lookup_hash(TOWN_PHONE)
    at(world, datetime(2026, 3, 5, 21, 30, tzinfo=BEIJING))  # Thursday night: 2 days past Tuesday's deadline
    worker_round(world)
    escalation = held_sms(db, "task_escalated", to="+86" + TOWN_PHONE)
    ack = task_of(db, "acknowledge")
    assert escalation.extra["subject"] == {"task": ack.id, "due_at": ack.due_at.isoformat()}  # no assignee
    if then == "moved":
        with world.client() as client:
            res = client.post(f"/api/cases/{number}/assignment", json={"staff_id": second_cadre(world)},
                              headers=township(world))
        assert res.status_code == 200, res.text
    else:
        with world.sessions() as s, s.begin():
            reminders.complete_task(s, task_id=ack.id, staff_id=world.cadre_id, note="", now=world.clock())
    at(world, datetime(2026, 3, 6, 8, 0, tzinfo=BEIJING))
    world.dispatch(rounds=4)
    if then == "moved":
        assert h.row(db, escalation.id).status == OutboxStatus.SENT
    else:
        dropped(db, escalation, "stale:task_done")


def test_a_reply_is_never_dropped_nor_a_row_the_provider_has_already(world: World, db: Session) -> None:
    """Only notices are checked: a reply carrying a subject (it never should) goes as written, and a row whose
    provider id is recorded (sent, the crash came before it was marked) is marked sent, never dropped."""
    reported(world)
    ack = task_of(db, "acknowledge")
    with world.sessions() as s, s.begin():
        task = s.get(Task, ack.id)
        assert task is not None
        task.status = TaskStatus.DONE
    subject = {"task": ack.id, "due_at": ack.due_at.isoformat(), "staff": world.cadre_id}
    reply = h.queue(db, world.clock(), "telegram", "4242", "您好", kind="reply", extra={"subject": subject})
    sent = h.queue(db, world.clock(), "telegram", "4243", "提醒", kind="reminder", extra={"subject": subject})
    db.execute(Outbox.__table__.update().where(Outbox.id == sent).values(provider_id="4243:1",
                                                                          extra={"subject": subject,
                                                                                 "parts_sent": 1}))
    db.commit()
    notice = h.queue(db, world.clock(), "telegram", "4244", "提醒", kind="reminder",
                     extra={"subject": subject})
    world.dispatch(rounds=2)
    assert [h.row(db, r).status for r in (reply, sent, notice)] == [
        OutboxStatus.SENT, OutboxStatus.SENT, OutboxStatus.DROPPED]
    assert [p["chat_id"] for p in world.tg.sent() if p["chat_id"] in (4242, 4243, 4244)] == [4242]


def test_a_held_reminder_for_a_deadline_the_cadre_moved_is_dropped(world: World, db: Session) -> None:
    """改期 at night: the reminder of the old deadline is out of date; the new one is reminded in its time."""
    bind_telegram(world)
    with world.sessions() as s, s.begin():
        h.contact(s, world.clock(), h.Channel.SMS, CADRE_SMS, staff_id=world.cadre_id)
    reported(world)
    overdue, _digest = overdue_held_overnight(world, db)
    ack = task_of(db, "acknowledge")
    was = ack.due_at
    answer = talk(world, [f"改期 {ack.id} 2 在外地开会"], start=9300, chat=CADRE_CHAT)[0]
    assert f"#{ack.id}" in answer, answer
    assert task_of(db, "acknowledge").due_at > was
    at(world, WEDNESDAY_8)
    world.dispatch(rounds=4)
    dropped(db, overdue, "stale:rescheduled")


def test_a_round_that_only_dropped_rows_asks_for_the_next_one_at_once(clock: FrozenClock) -> None:
    """Rows dropped moved the queue (more may be due behind them): no sleep before the next claim."""
    assert Round(dropped=3, full=True).pause(now=clock(), interval=1.0) == 0.0
    assert Round().pause(now=clock(), interval=1.0) == 1.0


def test_the_sms_fallback_of_a_failed_reminder_held_overnight_is_dropped_once_the_task_is_done(
    world: World, db: Session
) -> None:
    """The SMS that tells the cadre another way is the same notice: out of date when the reminder would be.
    (Written at night, it waits for the morning.)"""
    bind_telegram(world)
    reported(world)
    ok = world.tg.success

    def script(method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if str(params.get("chat_id")) == str(CADRE_CHAT) and str(params.get("text", "")).startswith("提醒："):
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return 200, ok(method, params)

    world.tg.script = script
    at(world, TUESDAY_2130)
    worker_round(world)
    for _ in range(outbox.MAX_ATTEMPTS + 1):  # retried until the cap: dead, and the SMS fallback is written
        world.clock.advance(seconds=outbox.BACKOFF_CAP_SECONDS + 1)
        world.dispatch(rounds=1)
    db.expire_all()
    failed = db.scalar(select(Outbox).where(Outbox.to == str(CADRE_CHAT), Outbox.status == OutboxStatus.DEAD))
    assert failed is not None
    fallback = db.scalar(select(Outbox).where(Outbox.dedupe_key == f"fallback:{failed.id}"))
    assert fallback is not None and fallback.status == OutboxStatus.PENDING and fallback.to == CADRE_SMS
    assert fallback.extra["subject"] == failed.extra["subject"]

    at(world, WEDNESDAY_7)
    listed = {m["id"]: m for m in failed_listed(world)}
    assert listed[failed.id]["fallback_status"] == "pending"  # to follow up: the SMS waits for the morning
    with world.sessions() as s, s.begin():  # the county's 未送达 page lists it
        county = s.scalar(select(Staff).where(Staff.username == "county-staff"))
        assert county is not None
        county.password_hash = hash_password(PASSWORD)
    with TestClient(world.app, base_url="https://testserver", follow_redirects=False) as web:
        console_login(web, "county-staff", PASSWORD)
        assert f'id="failed-outbound-{failed.id}"' in web.get("/console/deliveries").text
    ack = task_of(db, "acknowledge")
    with world.sessions() as s, s.begin():  # in the console, say
        reminders.complete_task(s, task_id=ack.id, staff_id=world.cadre_id, note="", now=world.clock())
    at(world, WEDNESDAY_8)
    world.dispatch(rounds=4)
    dropped(db, fallback, "stale:task_done")
    assert fallback.body not in texts_to_cadre_phone(world)
    listed = {m["id"]: m for m in failed_listed(world)}
    assert failed.id not in listed and fallback.id not in listed  # done: nothing left to follow up
    with TestClient(world.app, base_url="https://testserver", follow_redirects=False) as web:
        console_login(web, "county-staff", PASSWORD)
        page = web.get("/console/deliveries")
    assert page.status_code == 200 and f'id="failed-outbound-{failed.id}"' not in page.text


def test_a_reminder_that_failed_for_good_is_no_longer_listed_undelivered_once_its_task_is_done(
    world: World, db: Session
) -> None:
    bind_telegram(world)
    reported(world)
    ok = world.tg.success

    def refuse_reminders(method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if str(params.get("chat_id")) == str(CADRE_CHAT) and str(params.get("text", "")).startswith("提醒："):
            blocked = "Forbidden: bot was blocked by the user"
            return 403, {"ok": False, "error_code": 403, "description": blocked}
        return 200, ok(method, params)

    world.tg.script = refuse_reminders
    at(world, TUESDAY_19)
    worker_round(world)  # the overdue reminder fails for good: the cadre blocked the bot
    db.expire_all()
    reminder = db.scalar(select(Outbox).where(Outbox.to == str(CADRE_CHAT), Outbox.kind == "reminder",
                                              Outbox.body.startswith("提醒：")))
    assert reminder is not None and reminder.status in (OutboxStatus.FAILED, OutboxStatus.DEAD)
    assert reminder.id in [m["id"] for m in failed_listed(world)]  # someone must follow it up
    world.tg.script = None
    with world.sessions() as s, s.begin():  # the cadre did it from the console meanwhile
        task = s.get(Task, task_of(db, "acknowledge").id)
        assert task is not None
        task.status, task.done_at = TaskStatus.DONE, world.clock()
    assert reminder.id not in [m["id"] for m in failed_listed(world)]  # nothing left to follow up


def held_news(db: Session) -> list[Outbox]:
    """The cadre's SMS saying the household added words, held for the morning (one or more)."""
    db.expire_all()
    pending = select(Outbox).where(Outbox.to == CADRE_SMS, Outbox.status == OutboxStatus.PENDING)
    rows = [r for r in db.scalars(pending) if (r.extra or {}).get("event") == "case_supplemented"]
    assert rows and all(r.next_attempt_at == WEDNESDAY_8 for r in rows)
    return rows


def test_news_of_a_case_held_overnight_is_dropped_when_the_case_moves(world: World, db: Session) -> None:
    """The household adds words at night; the cadre's SMS saying so waits for the morning. Moved to a
    colleague before then, the case is no longer the first cadre's news (the new one sees its timeline)."""
    number = reported(world)
    other = second_cadre(world)
    at(world, TUESDAY_2130)
    talk(world, ["补充", number, "我儿子也出车祸了，腿断了"], start=700, chat=HOUSEHOLD_CHAT)
    news = held_news(db)
    assert all(r.extra["subject"] == {"case": number, "staff": world.cadre_id, "while_assigned": True}
               for r in news)
    at(world, WEDNESDAY_7)
    with world.client() as client:
        res = client.post(f"/api/cases/{number}/assignment", json={"staff_id": other, "note": "原联系人病休"},
                          headers=township(world))
    assert res.status_code == 200, res.text
    at(world, WEDNESDAY_8)
    world.dispatch(rounds=6)
    for row in news:
        dropped(db, row, "stale:reassigned")
        assert row.body not in texts_to_cadre_phone(world)


def test_news_of_a_case_still_theirs_goes_in_the_morning(world: World, db: Session) -> None:
    number = reported(world)
    at(world, TUESDAY_2130)
    talk(world, ["补充", number, "我儿子也出车祸了，腿断了"], start=700, chat=HOUSEHOLD_CHAT)
    news = held_news(db)
    at(world, WEDNESDAY_8)
    world.dispatch(rounds=6)
    for row in news:
        assert h.row(db, row.id).status == OutboxStatus.SENT and row.body in texts_to_cadre_phone(world)
