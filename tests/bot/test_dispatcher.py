"""The outbox dispatcher against recording fakes at the HTTP boundary: retries, rate limits, permanent
failures, crash recovery (T6, T7, T8, W6, W10, S6, S7, S9, G2, G3)."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from api.channels import jobs_for, run_jobs_on_loop
from api.settings import Settings
from bot import outbox, runtime, smstext
from bot.context import BotContext
from bot.dispatcher import Dispatcher
from bot.notify import OutboxNotifier
from bot.outbox import Claimed
from bot.telegram import split_text
from cases.clock import FrozenClock
from cases.models import Channel, ContactStatus, Outbox, OutboxStatus
from tests.bot import helpers as h
from tests.bot.conftest import (
    RecordingTelegram,
    RecordingTwilio,
    RecordingWeChat,
    RefusingTelegram,
    TimeoutAfterCreate,
)
from tests.bot.world import make_app


def dispatcher(ctx: BotContext, *, fallback: bool = True) -> Dispatcher:
    notifier = OutboxNotifier(decrypt=h.vault().decrypt, clock=ctx.clock)
    return runtime.dispatcher(ctx, fallback=notifier.fallback if fallback else None)


async def test_a_due_reply_is_sent_once_and_recorded(
    ctx: BotContext, db: Session, clock: FrozenClock, tg: RecordingTelegram
) -> None:
    rid = h.queue(db, clock(), "telegram", "4242", "您好", extra={"choices": ["申报困难", "查询进度"]})
    d = dispatcher(ctx)
    assert await d.run_once() == 1
    assert await d.run_once() == 0
    sent = tg.sent()
    assert len(sent) == 1 and sent[0]["text"] == "您好" and sent[0]["chat_id"] == 4242
    keyboard = sent[0]["reply_markup"]["keyboard"] if isinstance(sent[0]["reply_markup"], dict) else None
    assert keyboard is not None and keyboard[0][0]["text"] == "1. 申报困难"
    got = h.row(db, rid)
    assert got.status == OutboxStatus.SENT and got.provider_id == "4242:101" and got.sent_at == clock()


async def test_T6_bot_blocked_403_marks_contact_unreachable_and_is_not_retried(
    ctx: BotContext, db: Session, clock: FrozenClock, tg: RecordingTelegram
) -> None:
    tg.script = lambda m, p: (
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    c = h.contact(db, clock(), Channel.TELEGRAM, "777")
    rid = h.queue(db, clock(), "telegram", "777", contact_id=c.id)
    d = dispatcher(ctx)
    await d.run_once()
    clock.advance(hours=2)
    await d.run_once()
    assert len(tg.calls) == 1
    assert h.row(db, rid).status == OutboxStatus.FAILED
    assert h.contact_status(db, c.id) == ContactStatus.UNREACHABLE
    # and nothing more goes to that chat
    later = h.queue(db, clock(), "telegram", "777", "再次", contact_id=c.id)
    await d.run_once()
    assert len(tg.calls) == 1 and h.row(db, later).status == OutboxStatus.FAILED


async def test_T7_429_waits_retry_after_and_one_chat_gets_at_most_one_message_a_second(
    ctx: BotContext, db: Session, clock: FrozenClock, tg: RecordingTelegram
) -> None:
    answers = [
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7},
            },
        )
    ]

    def script(method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return answers.pop(0) if answers else (200, tg.success(method, params))

    tg.script = script
    first = h.queue(db, clock(), "telegram", "55", "一")
    second = h.queue(db, clock(), "telegram", "55", "二")
    d = dispatcher(ctx)
    await d.run_once()  # 429 on the first
    assert h.row(db, first).status == OutboxStatus.PENDING
    assert h.row(db, first).next_attempt_at == clock() + timedelta(seconds=7)
    assert h.row(db, first).attempts == 0  # a flood wait is not a failed attempt
    clock.advance(seconds=6)
    await d.run_once()
    assert [c[1]["text"] for c in tg.calls if c[0] == "sendMessage"] == ["一"]  # only the 429'd try
    clock.advance(seconds=1)
    await d.run_once()  # first goes; second must wait a second for the same chat
    texts = [p["text"] for p in tg.sent()]
    assert texts == ["一", "一"]
    assert h.row(db, second).status == OutboxStatus.PENDING
    clock.advance(seconds=1)
    await d.run_once()
    assert [p["text"] for p in tg.sent()] == ["一", "一", "二"]
    # another chat is not held back by this one
    other = h.queue(db, clock(), "telegram", "56", "三")
    clock.advance(seconds=0.05)  # past the overall slot (30 a second), well inside chat 55's second
    h.queue(db, clock(), "telegram", "55", "四")
    await d.run_once()
    assert h.row(db, other).status == OutboxStatus.SENT
    assert [p["text"] for p in tg.sent()] == ["一", "一", "二", "三"]


async def test_T7_rate_slots_live_in_the_database_shared_by_two_dispatchers(
    ctx: BotContext, db: Session, clock: FrozenClock, tg: RecordingTelegram
) -> None:
    h.queue(db, clock(), "telegram", "60", "a")
    h.queue(db, clock(), "telegram", "60", "b")
    one, two = dispatcher(ctx), dispatcher(ctx)  # two processes' worth of dispatchers
    await one.run_once()
    await two.run_once()
    assert [p["text"] for p in tg.sent()] == ["a"]


async def test_T8_a_reply_over_4096_characters_is_split_and_resumes_after_a_crash(
    ctx: BotContext, db: Session, clock: FrozenClock, tg: RecordingTelegram
) -> None:
    body = "\n".join(["这是一行很长的说明文字。" * 20] * 40)  # about 9,600 characters
    rid = h.queue(db, clock(), "telegram", "88", body)
    d = dispatcher(ctx)
    for _ in range(5):
        await d.run_once()
        clock.advance(seconds=1)
    parts = [p["text"] for p in tg.sent()]
    assert len(parts) == 3 and all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert "".join(parts).replace("\n", "") == body.replace("\n", "")
    got = h.row(db, rid)
    assert got.status == OutboxStatus.SENT and len(got.extra["provider_ids"]) == 3


class WorkerKilled(BaseException):
    """The process dies in the middle of a send (no handler of ours catches a BaseException)."""


async def test_T8_a_split_reply_whose_worker_dies_after_the_first_part_sends_only_the_rest(
    ctx: BotContext, db: Session, clock: FrozenClock, tg: RecordingTelegram
) -> None:
    """The test above never crashes: here the worker dies while sending part 2 (part 1 recorded); the
    next worker, once the lease lapses, sends parts 2 and 3 only, and the household sees each part once."""
    body = "\n".join(["这是一行很长的说明文字。" * 20] * 40)
    expected = split_text(body)
    assert len(expected) == 3
    deaths = [2]  # the second sendMessage kills the worker

    def script(method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "sendMessage" and len(tg.sent()) in deaths:
            deaths.clear()
            raise WorkerKilled
        return 200, tg.success(method, params)

    tg.script = script
    rid = h.queue(db, clock(), "telegram", "89", body)
    dying = dispatcher(ctx)
    await dying.run_once()  # part 1; part 2 waits for the chat's next second
    clock.advance(seconds=1)
    with pytest.raises(WorkerKilled):
        await dying.run_once()
    got = h.row(db, rid)
    assert got.status == OutboxStatus.SENDING and got.extra["parts_sent"] == 1
    clock.advance(minutes=2)  # the dead worker's lease lapses; another process takes the row
    d = dispatcher(ctx)
    for _ in range(4):
        await d.run_once()
        clock.advance(seconds=1)
    texts = [p["text"] for p in tg.sent()]
    assert texts == [expected[0], expected[1], expected[1], expected[2]]  # part 2 tried when it died
    got = h.row(db, rid)
    assert got.status == OutboxStatus.SENT and len(got.extra["provider_ids"]) == 3


async def test_W6_customer_service_window_closed_falls_back_to_sms_without_retry(
    ctx: BotContext, db: Session, clock: FrozenClock, wx: RecordingWeChat, tw: RecordingTwilio
) -> None:
    wx.send_codes = [45015]
    hh = h.household(db, clock(), phone="13812345678")
    c = h.contact(db, clock(), Channel.WECHAT, "openid-1", household_id=hh.id)
    rid = h.queue(db, clock(), "wechat", "openid-1", "您的案件有新进展", contact_id=c.id)
    d = dispatcher(ctx)
    await d.run_once()
    assert h.row(db, rid).status == OutboxStatus.FAILED and "45015" in (h.row(db, rid).last_error or "")
    await d.run_once()
    clock.advance(hours=1)
    await d.run_once()
    assert len(wx.sends()) == 1  # never retried
    creates = tw.creates()
    assert (
        len(creates) == 1
        and creates[0]["To"] == "+8613812345678"
        and creates[0]["Body"] == "您的案件有新进展"
    )


async def test_W6_quota_45047_is_not_retried(
    ctx: BotContext, db: Session, clock: FrozenClock, wx: RecordingWeChat
) -> None:
    wx.send_codes = [45047]
    rid = h.queue(db, clock(), "wechat", "openid-2")
    d = dispatcher(ctx)
    await d.run_once()
    clock.advance(hours=1)
    await d.run_once()
    assert len(wx.sends()) == 1 and h.row(db, rid).status == OutboxStatus.FAILED


async def test_W6_quota_45047_falls_back_to_sms_to_the_phone_on_file(
    ctx: BotContext, db: Session, clock: FrozenClock, wx: RecordingWeChat, tw: RecordingTwilio
) -> None:
    wx.send_codes = [45047]
    cadre = h.staff(db, clock(), phone="13912345678")
    c = h.contact(db, clock(), Channel.WECHAT, "openid-cadre", staff_id=cadre.id)
    rid = h.queue(db, clock(), "wechat", "openid-cadre", "梅花村新案件", contact_id=c.id)
    d = dispatcher(ctx)
    for _ in range(3):
        await d.run_once()
        clock.advance(minutes=10)
    assert len(wx.sends()) == 1 and h.row(db, rid).status == OutboxStatus.FAILED
    assert [(x["To"], x["Body"]) for x in tw.creates()] == [("+8613912345678", "梅花村新案件")]


async def test_W10_invalid_access_token_is_refreshed_once_and_retried_once(
    ctx: BotContext, db: Session, clock: FrozenClock, wx: RecordingWeChat
) -> None:
    wx.send_codes = [40001, 0, 42001, 42001]
    first = h.queue(db, clock(), "wechat", "openid-3", "一")
    d = dispatcher(ctx)
    await d.run_once()
    assert h.row(db, first).status == OutboxStatus.SENT
    assert wx.tokens == 2 and wx.tokens_used() == ["TOKEN1", "TOKEN2"]
    # a second dispatcher (another process) uses the shared, refreshed token without fetching one
    second = h.queue(db, clock(), "wechat", "openid-4", "二")
    await dispatcher(ctx).run_once()
    assert wx.tokens_used()[2] == "TOKEN2"
    # two token errors in a row: one refresh, one retry, then an ordinary failure with backoff
    assert wx.tokens == 3 and h.row(db, second).status == OutboxStatus.PENDING
    assert h.row(db, second).next_attempt_at > clock()


async def test_S6_nothing_is_sent_to_an_opted_out_number(
    ctx: BotContext, db: Session, clock: FrozenClock, tw: RecordingTwilio
) -> None:
    c = h.contact(db, clock(), Channel.SMS, "+8613800000001", status=ContactStatus.OPTED_OUT)
    rid = h.queue(db, clock(), "sms", "+8613800000001", "提醒", contact_id=c.id)
    await dispatcher(ctx).run_once()
    assert tw.requests == [] and h.row(db, rid).status == OutboxStatus.FAILED


async def test_S6_twilio_21610_unsubscribed_marks_the_number_opted_out(
    ctx: BotContext, db: Session, clock: FrozenClock, tw: RecordingTwilio
) -> None:
    tw.failures = [21610]
    c = h.contact(db, clock(), Channel.SMS, "+8613800000002")
    rid = h.queue(db, clock(), "sms", "+8613800000002", contact_id=c.id)
    d = dispatcher(ctx)
    await d.run_once()
    clock.advance(hours=1)
    await d.run_once()
    assert len(tw.creates()) == 1 and h.row(db, rid).status == OutboxStatus.FAILED
    assert h.contact_status(db, c.id) == ContactStatus.OPTED_OUT


async def test_S7_sms_rows_are_split_to_at_most_8_segments_without_urls_and_counted(
    ctx: BotContext, db: Session, clock: FrozenClock, tw: RecordingTwilio
) -> None:
    body = "详情请看 https://example.org/x 。" + "请您保持电话畅通，村干部会尽快联系您。" * 40
    rid = h.queue(db, clock(), "sms", "+8613800000003", body)
    d = dispatcher(ctx)
    for _ in range(4):
        await d.run_once()
        clock.advance(seconds=1)
    bodies = [c["Body"] for c in tw.creates()]
    assert len(bodies) >= 2 and all(smstext.segments(b) <= 8 for b in bodies)
    assert not any("http" in b or "example.org" in b for b in bodies)
    assert bodies[0].startswith(f"(1/{len(bodies)}) ")
    got = h.row(db, rid)
    assert got.status == OutboxStatus.SENT and got.segments == sum(smstext.segments(b) for b in bodies)


def test_S7_segment_counting_ucs2_and_gsm7() -> None:
    assert smstext.segments("申" * 70) == 1
    assert smstext.segments("申" * 71) == 2
    assert smstext.segments("申" * 134) == 2 and smstext.segments("申" * 135) == 3
    assert smstext.segments("a" * 160) == 1 and smstext.segments("a" * 161) == 2
    assert smstext.segments("a" * 159 + "申") == 3  # one Chinese character makes it all UCS-2
    assert smstext.segments("😀" * 35) == 1 and smstext.segments("😀" * 36) == 2  # surrogate pairs
    assert smstext.segments("^" * 80) == 1 and smstext.segments("^" * 81) == 2  # GSM-7 extension chars
    parts = smstext.split("第一行\n" + "长" * 1000)
    assert all(smstext.segments(p) <= 8 for p in parts) and len(parts) == 2


async def test_S9_after_a_5xx_the_message_is_looked_up_and_not_sent_again(
    ctx: BotContext, db: Session, clock: FrozenClock, tw: RecordingTwilio
) -> None:
    tw.failures = [500]
    rid = h.queue(db, clock(), "sms", "+8613800000004", "您的案件已受理")
    d = dispatcher(ctx)
    await d.run_once()
    got = h.row(db, rid)
    assert got.status == OutboxStatus.PENDING and got.extra.get("uncertain")
    clock.advance(minutes=5)
    await d.run_once()
    assert len(tw.creates()) == 1  # found by the look-up, not created twice
    assert any(m == "GET" for m, *_ in tw.requests)
    got = h.row(db, rid)
    assert got.status == OutboxStatus.SENT and got.provider_id == tw.created[0]["sid"]


async def test_S9_a_timeout_with_nothing_at_twilio_is_sent_again(
    ctx: BotContext, db: Session, clock: FrozenClock, tw: RecordingTwilio
) -> None:
    tw.failures = [OSError("read timeout")]
    rid = h.queue(db, clock(), "sms", "+8613800000005", "提醒一下")
    d = dispatcher(ctx)
    await d.run_once()
    clock.advance(minutes=5)
    await d.run_once()
    assert len(tw.creates()) == 2 and len(tw.created) == 1
    assert h.row(db, rid).status == OutboxStatus.SENT


async def test_S9_a_timeout_after_twilio_created_it_is_found_not_resent(
    ctx: BotContext, db: Session, clock: FrozenClock, tw: RecordingTwilio
) -> None:
    tw.failures = [TimeoutAfterCreate("read timeout")]
    rid = h.queue(db, clock(), "sms", "+8613800000006", "提醒二")
    d = dispatcher(ctx)
    await d.run_once()
    clock.advance(minutes=5)
    await d.run_once()
    assert len(tw.creates()) == 1 and h.row(db, rid).status == OutboxStatus.SENT


async def test_G2_a_row_whose_provider_id_is_known_is_never_sent_again(
    ctx: BotContext,
    session_factory: sessionmaker[Session],
    db: Session,
    clock: FrozenClock,
    tg: RecordingTelegram,
) -> None:
    rid = h.queue(db, clock(), "telegram", "99", "只发一次")
    # a worker claimed it, the provider accepted it, the id was recorded ... and the worker died
    with session_factory() as s:
        claimed = outbox.claim_due(s, now=clock(), channels=["telegram"])
    assert [c.id for c in claimed] == [rid]
    with session_factory() as s:
        outbox.record_provider_id(s, rid, "99:555", now=clock(), parts_sent=1, done=False)
    clock.advance(minutes=2)  # the lease lapses; another worker takes over
    await dispatcher(ctx).run_once()
    assert tg.calls == []
    got = h.row(db, rid)
    assert got.status == OutboxStatus.SENT and got.provider_id == "99:555"


async def test_G2_a_crash_before_recording_is_healed_by_the_twilio_status_callback(
    ctx: BotContext,
    session_factory: sessionmaker[Session],
    db: Session,
    clock: FrozenClock,
    tw: RecordingTwilio,
) -> None:
    from bot.sms import StatusUpdate, apply_status

    rid = h.queue(db, clock(), "sms", "+8613800000007", "状态回调")
    with session_factory() as s:
        outbox.claim_due(s, now=clock(), channels=["sms"])
    # Twilio accepted it (the worker died before its commit); the status callback names the row
    apply_status(ctx, StatusUpdate("SMabc", "sent", rid, None, 0))
    clock.advance(minutes=2)
    await dispatcher(ctx).run_once()
    assert tw.creates() == []
    assert h.row(db, rid).provider_id == "SMabc" and h.row(db, rid).status == OutboxStatus.SENT


async def test_G3_retries_are_capped_then_dead_and_the_cadre_gets_an_sms(
    ctx: BotContext, db: Session, clock: FrozenClock, tg: RecordingTelegram, tw: RecordingTwilio
) -> None:
    tg.script = lambda m, p: (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
    cadre = h.staff(db, clock(), phone="13912345678")
    c = h.contact(db, clock(), Channel.TELEGRAM, "1001", staff_id=cadre.id)
    rid = h.queue(db, clock(), "telegram", "1001", "新案件提醒", contact_id=c.id, kind="reminder")
    d = dispatcher(ctx)
    waits = []
    for _ in range(20):
        await d.run_once()
        got = h.row(db, rid)
        if got.status == OutboxStatus.DEAD:
            break
        waits.append(got.next_attempt_at - clock())
        clock.now = got.next_attempt_at
    got = h.row(db, rid)
    assert got.status == OutboxStatus.DEAD and got.attempts == outbox.MAX_ATTEMPTS
    assert waits == sorted(waits) and waits[1] == 2 * waits[0]  # exponential backoff
    assert max(waits) <= timedelta(seconds=outbox.BACKOFF_CAP_SECONDS)
    assert len(tg.sent()) == outbox.MAX_ATTEMPTS
    await d.run_once()  # the fallback SMS to the cadre's phone on file
    assert [c["To"] for c in tw.creates()] == ["+8613912345678"]
    assert h.rows(db, status=OutboxStatus.DEAD)[0].id == rid  # visible to staff as dead


async def test_refusing_fake_proves_web_rows_never_reach_a_provider(
    bot_settings: Any, session_factory: sessionmaker[Session], db: Session, clock: FrozenClock
) -> None:
    ctx = BotContext(
        settings=bot_settings,
        sessions=session_factory,
        clock=clock,
        extras={
            "telegram_request": RefusingTelegram(),
            "wechat_transport": httpx.MockTransport(
                lambda r: (_ for _ in ()).throw(AssertionError("network"))
            ),
            "twilio_http_client": RecordingTwilio(failures=[AssertionError("network")]),
        },
    )
    rid = h.queue(db, clock(), "web", "browser-session-1")
    assert await runtime.dispatcher(ctx).run_once() == 0
    assert h.row(db, rid).status == OutboxStatus.PENDING  # the page takes web rows itself


async def test_two_dispatchers_racing_claim_each_row_once(
    ctx: BotContext,
    session_factory: sessionmaker[Session],
    db: Session,
    clock: FrozenClock,
    postgres_only: None,
) -> None:
    ids = [h.queue(db, clock(), "sms", f"+86138000001{i:02d}") for i in range(20)]
    a, b = session_factory(), session_factory()
    try:
        first = outbox.claim_due(a, now=clock(), channels=["sms"], limit=10)
        second = outbox.claim_due(b, now=clock(), channels=["sms"], limit=50)
    finally:
        a.close()
        b.close()
    got = sorted(c.id for c in first + second)
    assert got == sorted(ids) and len(set(got)) == 20


def test_backoff_is_exponential_and_capped() -> None:
    assert outbox.backoff(1) == timedelta(seconds=5) and outbox.backoff(2) == timedelta(seconds=10)
    assert outbox.backoff(30) == timedelta(seconds=outbox.BACKOFF_CAP_SECONDS)


def test_claimed_is_a_plain_copy(db: Session, clock: FrozenClock) -> None:
    rid = h.queue(db, clock(), "sms", "+8613800000009", extra={"a": 1})
    got = outbox.claim_due(db, now=clock(), channels=["sms"])
    assert isinstance(got[0], Claimed) and got[0].id == rid and got[0].extra == {"a": 1}
    assert json.dumps(got[0].extra)


async def test_S6_T6_one_batch_sends_only_to_contacts_that_may_be_written_to(
    ctx: BotContext, db: Session, clock: FrozenClock, tg: RecordingTelegram
) -> None:
    blocked = h.contact(db, clock(), Channel.TELEGRAM, "801")
    outbox.set_contact_status(db, channel="telegram", address="801", status=ContactStatus.UNREACHABLE)
    h.contact(db, clock(), Channel.TELEGRAM, "802")
    outbox.set_contact_status(db, channel="telegram", address="802", status=ContactStatus.OPTED_OUT)
    active = h.contact(db, clock(), Channel.TELEGRAM, "803")
    db.commit()
    by_id = h.queue(db, clock(), "telegram", "801", "a", contact_id=blocked.id)
    by_address = h.queue(db, clock(), "telegram", "802", "b")  # no contact id: found by its address
    fine = h.queue(db, clock(), "telegram", "803", "c", contact_id=active.id)
    unknown = h.queue(db, clock(), "telegram", "804", "d")  # nobody on file: sent
    d = dispatcher(ctx)
    assert await d.run_once() == 4
    for _ in range(3):  # the frozen clock moves on past Telegram's overall rate slot
        clock.advance(seconds=1)
        await d.run_once()
    assert sorted(s["chat_id"] for s in tg.sent()) == [803, 804]
    assert [h.row(db, r).status for r in (by_id, by_address, fine, unknown)] == [
        OutboxStatus.FAILED,
        OutboxStatus.FAILED,
        OutboxStatus.SENT,
        OutboxStatus.SENT,
    ]


def test_G2_a_send_is_recorded_in_one_statement_only_while_its_claim_still_holds_the_row(
    ctx: BotContext, session_factory: sessionmaker[Session], db: Session, clock: FrozenClock
) -> None:
    start = clock()
    lease = start + outbox.LEASE
    callback_first, taken_over, held = (h.queue(db, start, "sms", f"+86138000025{i:02d}") for i in range(3))
    with session_factory() as s:
        claimed = {c.id: c for c in outbox.claim_due(s, now=start, channels=["sms"])}
    with session_factory() as s:  # Twilio's status callback found the first row and recorded its id first
        row = s.get(Outbox, callback_first)
        assert row is not None
        row.provider_id = "SM" + "1" * 32
        s.commit()
    with session_factory() as s:  # the second's lease lapsed and another worker claimed it again
        again = lease + timedelta(seconds=9)
        s.execute(update(Outbox).where(Outbox.id == taken_over).values(claimed_until=again))
        s.commit()
    with ctx.engine.connect() as raw:
        conn = raw.execution_options(isolation_level="AUTOCOMMIT")

        def record(rid: int, sid: str) -> bool:
            extra = {**claimed[rid].extra, "provider_ids": [sid], "parts_sent": 1}
            return outbox.record_held(
                conn, claimed[rid], sid, lease_until=lease, extra=extra, was=None, now=start, done=True
            )

        assert not record(callback_first, "SM" + "2" * 32)
        assert not record(taken_over, "SM" + "3" * 32)
        assert record(held, "SM" + "4" * 32)
    first, second, third = (h.row(db, i) for i in (callback_first, taken_over, held))
    assert (first.status, first.provider_id, first.extra.get("provider_ids")) == (
        OutboxStatus.SENDING, "SM" + "1" * 32, None
    )
    assert (second.status, second.provider_id) == (OutboxStatus.SENDING, None)
    assert (third.status, third.provider_id, third.sent_at, third.claimed_until) == (
        OutboxStatus.SENT, "SM" + "4" * 32, start, None
    )
    assert third.extra["provider_ids"] == ["SM" + "4" * 32] and third.extra["parts_sent"] == 1


def test_G1_postgresql_serve_runs_its_dispatcher_on_its_loop_for_the_app_s_lifetime(
    bot_settings: Settings,
    db: Session,
    clock: FrozenClock,
    tg: RecordingTelegram,
    wx: RecordingWeChat,
    tw: RecordingTwilio,
    db_url: str,
) -> None:
    app = make_app(bot_settings, clock, tg, wx, tw)
    jobs = jobs_for(app.state.channels)
    if not db_url.startswith("postgresql"):  # SQLite's serve keeps its thread (the writer turn)
        with pytest.raises(ValueError):
            run_jobs_on_loop(app, jobs, interval=0.05)
        return
    run_jobs_on_loop(app, jobs, interval=0.05)
    rid = h.queue(db, clock(), "telegram", "8200", "您好")
    with TestClient(app):
        waited = 0
        while h.row(db, rid).status != OutboxStatus.SENT and waited < 400:  # up to 20 s
            time.sleep(0.05)
            waited += 1
        threads = {t.name for t in threading.enumerate()}
        running = jobs.dispatcher.on_loop
    assert h.row(db, rid).status == OutboxStatus.SENT and [p["text"] for p in tg.sent()] == ["您好"]
    assert running and "outbox-dispatcher" not in threads
    assert app.state.loop_jobs[0] is jobs
