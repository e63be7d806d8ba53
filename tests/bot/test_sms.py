"""SMS through Twilio forms signed with twilio's RequestValidator; TwiML answers; consent (S3-S6, G1, G6)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bot import smstext
from cases.db import make_session_factory
from cases.models import Contact, ContactStatus, Outbox, OutboxStatus
from tests.bot import channels as ch
from tests.bot import helpers as h
from tests.bot.world import DESCRIPTION, World, case_number
from tests.conversations.conftest import CADRE_PHONE, ID_ZHANG

PHONE = "+8613912345678"
APOLOGY = "我们这边出了问题"  # the dead letter's answer (conversations.service._dead_letter)


def sms(world: World, client: object, sid: str, body: str, phone: str = PHONE, **extra: str) -> list[str]:
    res = ch.tw_post(client, {**ch.tw_sms(phone, sid, body), **extra})  # type: ignore[arg-type]
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("application/xml")
    return ch.twiml_messages(res)


def report(world: World, client: object, phone: str = PHONE, prefix: str = "SMa") -> list[list[str]]:
    steps = [DESCRIPTION, "1", "张三", ID_ZHANG, "4口人", "西渡镇梅花村", "1", "3", "1"]
    answers = [sms(world, client, f"{prefix}{i:032d}", t, phone) for i, t in enumerate(steps)]
    while "同意" not in "\n".join(answers[-1]) or "全名" in "\n".join(answers[-1]):
        answers.append(sms(world, client, f"{prefix}{len(answers):032d}", "继续", phone))
        assert len(answers) < 20
    answers.append(sms(world, client, f"{prefix}{len(answers):032d}", "同意", phone))
    answers.append(sms(world, client, f"{prefix}{len(answers):032d}", "张三", phone))
    return answers


def test_S4_sms_whole_self_report_dialogue_answered_inline_as_twiml(world: World, db: Session) -> None:
    with world.client() as client:
        answers = report(world, client)
    flat = ["\n".join(a) for a in answers]
    assert "对吗" in flat[0] and "1 对" in flat[0]
    assert not any("手机号" in a for a in flat)  # the phone is known on SMS
    number = case_number(flat[-1])
    assert world.case(number).household_id
    for a in answers:
        assert all(smstext.segments(m) <= 8 and "http" not in m for m in a)
    db.expire_all()
    replies = list(db.scalars(select(Outbox).where(Outbox.kind == "reply")))
    assert replies and all(r.status == OutboxStatus.SENT and r.provider_status == "inline" for r in replies)
    assert all(r.segments and r.segments >= 1 for r in replies)  # SMS is paid per segment: counted
    assert world.tw.requests == []  # nothing went through the REST API for replies
    # the cadre is told by SMS (no chat linked): through the dispatcher and Twilio's REST API
    world.dispatch()
    assert f"+86{CADRE_PHONE}" in [c["To"] for c in world.tw.creates()]


def test_S3_the_same_message_sid_twice_one_record_the_same_reply(world: World, db: Session) -> None:
    with world.client() as client:
        first = sms(world, client, "SM" + "3" * 32, DESCRIPTION)
        second = sms(world, client, "SM" + "3" * 32, DESCRIPTION)
    assert first == second and first and ch.stored(db) == 1
    db.expire_all()
    assert len(list(db.scalars(select(Outbox)))) == 1


@pytest.mark.parametrize("body", ["", "😀👍🙏", "我" * 1600, "a" * 1600])
def test_S5_empty_body_emoji_and_1600_characters_are_handled(world: World, db: Session, body: str) -> None:
    with world.client() as client:
        answer = sms(world, client, "SM" + "5" * 32, body)
    assert answer and all(smstext.segments(m) <= 8 for m in answer)
    assert_handled_not_dead_lettered(db, answer)


def assert_handled_not_dead_lettered(db: Session, answer: list[str]) -> None:
    """A handling crash is dead-lettered and answered with an apology (G1): an answer alone proves nothing."""
    from cases.models import InboundMessage as InboundRow

    db.expire_all()
    row = db.scalar(select(InboundRow))
    assert row is not None and (row.status, row.error) == ("handled", None)
    assert not any(APOLOGY in m for m in answer), answer


def test_S5_media_only_is_handled(world: World, db: Session) -> None:
    with world.client() as client:
        answer = sms(
            world,
            client,
            "SM" + "6" * 32,
            "",
            NumMedia="1",
            MediaContentType0="image/jpeg",
            MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM1/Media/ME1",
        )
    assert answer
    assert_handled_not_dead_lettered(db, answer)
    from cases.models import InboundMessage as InboundRow

    row = db.scalar(select(InboundRow))
    assert row is not None and row.payload["attachments"][0]["kind"] == "photo"


@pytest.mark.parametrize("stop", ["STOP", "退订", "TD", "td", "Stop"])
def test_S6_stop_words_opt_out_start_comes_back_and_nothing_is_sent_meanwhile(
    world: World, db: Session, stop: str
) -> None:
    with world.client() as client:
        sms(world, client, "SM" + "1" * 32, "你好")
        out = sms(world, client, "SM" + "2" * 32, stop)
        assert "退订" in out[0]
        db.expire_all()
        contact = db.scalar(select(Contact).where(Contact.channel == "sms", Contact.external_id == PHONE))
        assert contact is not None and contact.status == ContactStatus.OPTED_OUT
        assert sms(world, client, "SM" + "3" * 32, "你好") == []  # kept, but not answered
        notice = Outbox(
            channel="sms",
            to=PHONE,
            contact_id=contact.id,
            body="提醒",
            kind="notification",
            extra={},
            status="pending",
            attempts=0,
            next_attempt_at=world.clock(),
            created_at=world.clock(),
        )
        db.add(notice)
        db.commit()
        world.clock.advance(seconds=20)
        world.dispatch()
        assert world.tw.creates() == []
        back = sms(world, client, "SM" + "4" * 32, "START")
        assert "欢迎回来" in back[0]
        db.expire_all()
        assert db.get(Contact, contact.id).status == ContactStatus.ACTIVE  # type: ignore[union-attr]
        helped = sms(world, client, "SM" + "5" * 32, "HELP")
        assert "12317" in helped[0] and "TD" in helped[0]


def test_status_query_from_a_stranger_reveals_nothing(world: World) -> None:
    with world.client() as client:
        number = case_number("\n".join(report(world, client)[-1]))
        stranger = "+8613700000000"
        out = "\n".join(sms(world, client, "SMs" + "0" * 31, "查询进度", stranger))
        out += "\n".join(sms(world, client, "SMs" + "1" * 31, number, stranger))
    assert "张三" not in out and "李桂英" not in out and "签字" not in out


def test_G1_database_locked_beyond_the_busy_timeout_answers_an_error_so_twilio_retries(
    world: World, db_url: str
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    from cases.db import make_engine

    ours = make_engine(db_url)  # the app's own engine waits for a lock before giving up
    with ours.connect() as conn:
        assert int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 1000
    ours.dispose()
    impatient = create_engine(db_url, connect_args={"timeout": 0.2})
    world.ctx.sessions = make_session_factory(impatient)
    blocker = create_engine(db_url).raw_connection()
    blocker.cursor().execute("BEGIN EXCLUSIVE")
    try:
        with world.client() as client:
            res = ch.tw_post(client, ch.tw_sms(PHONE, "SM" + "7" * 32, DESCRIPTION))
        assert res.status_code == 503
    finally:
        blocker.rollback()
        blocker.close()
    with world.client() as client:  # Twilio's retry after the lock is gone
        assert "对吗" in "\n".join(sms(world, client, "SM" + "7" * 32, DESCRIPTION))
    impatient.dispose()


def test_G6_no_full_id_or_phone_numbers_in_logs_or_urls(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bank = "6222021234567890123"
    with world.client() as client:
        report(world, client)
        sms(world, client, "SMg" + "6" * 31, f"我的银行卡号 {bank}，身份证 {ID_ZHANG}")
    world.dispatch()
    logs = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (ID_ZHANG, "13912345678", CADRE_PHONE, bank):
        assert secret not in logs
    urls = [uri for _m, uri, _p, _d in world.tw.requests]
    assert urls and not any(CADRE_PHONE in u or "13912345678" in u for u in urls)
    assert all("outbox=" in d.get("StatusCallback", "") for d in world.tw.creates())


def test_G6_http_client_loggers_that_would_print_tokens_and_numbers_are_quieted(world: World) -> None:
    from bot import runtime

    runtime.senders(world.ctx)
    for name in runtime.QUIET_LOGGERS:
        assert not logging.getLogger(name).isEnabledFor(logging.INFO)


def test_S4_slow_handling_answers_empty_twiml_in_time_and_the_reply_goes_out_by_rest(
    world: World, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from bot import sms as sms_adapter
    from cases.models import InboundMessage as InboundRow

    assert sms_adapter.DEADLINE_SECONDS <= 10  # Twilio gives up at 15 s: well inside it
    monkeypatch.setattr(sms_adapter, "DEADLINE_SECONDS", 0.3)
    with world.client() as client:  # the contact exists and has a session row
        sms(world, client, "SM" + "8" * 32, "你好")
    # another worker has it; taken once the client is up, so the app's start-up does not eat into the second
    with world.client() as client, h.contact_locked(world.app.state.engine):
        answer = sms(world, client, "SM" + "9" * 32, DESCRIPTION)
    assert answer == []  # an empty <Response/>, in time
    for _ in range(100):  # the handler finishes once the lock is gone
        db.expire_all()
        row = db.scalar(select(InboundRow).where(InboundRow.external_id == "SM" + "9" * 32))
        if row is not None and row.status == "handled":
            break
        time.sleep(0.05)
    assert world.tw.creates() == []
    world.clock.advance(seconds=16)  # past the inline grace: the dispatcher sends it through the REST API
    world.dispatch()
    sent = [c for c in world.tw.creates() if c["To"] == PHONE]
    assert len(sent) == 1 and "对吗" in sent[0]["Body"]


def test_S4_the_deadline_is_decided_once_between_the_handler_and_the_route() -> None:
    from bot.sms import Deadline

    first_handler = Deadline()
    assert first_handler.claim() is True  # replies written as answered inline ...
    assert first_handler.expire() is False  # ... so the route waits for them instead of answering empty
    first_route = Deadline()
    assert first_route.expire() is True  # the route answered empty ...
    assert first_route.claim() is False  # ... so the rows stay pending for the dispatcher
    assert first_route.claim() is False and first_route.expire() is True


def test_G1_a_message_whose_handling_fails_gets_the_apology_in_the_twiml_and_is_kept(
    world: World, db: Session
) -> None:
    import dataclasses

    from cases.models import InboundMessage as InboundRow

    world.ctx.service_ctx = dataclasses.replace(world.ctx.service_ctx, annex_version="no-such-version")
    with world.client() as client:
        answer = sms(world, client, "SM" + "6" * 32, "你好")
    assert len(answer) == 1 and "12317" in answer[0]  # never silence
    db.expire_all()
    row = db.scalar(select(InboundRow))
    assert row is not None and row.status == "dead"  # kept for staff
    (reply,) = db.scalars(select(Outbox).where(Outbox.kind == "reply")).all()
    assert reply.status == OutboxStatus.SENT and reply.provider_status == "inline" and reply.segments
    world.dispatch()
    assert world.tw.creates() == []  # answered once, in the TwiML


def test_S6_back_after_opting_out_mid_report_the_question_under_way_is_asked_again(world: World) -> None:
    """退订 at the ID question, then START: 'welcome back, reply MENU' hid that a report waited on its ID
    question, and the next message (9, as for a report set aside) was read as an ID number. 重新开通, the
    word of the opt-out answer, was not a way back: silence."""
    with world.client() as client:
        for i, text in enumerate([DESCRIPTION, "1", "张三", "退订"]):
            sms(world, client, f"SMr{i:032d}", text)
        back = "\n".join(sms(world, client, "SMr" + "8" * 32, "重新开通"))
        assert "欢迎回来" in back and "身份证号码" in back and "菜单" not in back
        assert "几口人" in "\n".join(sms(world, client, "SMr" + "9" * 32, ID_ZHANG))
        idle = "\n".join(sms(world, client, "SMr" + "7" * 32, "START", phone="+8613900000077"))
        assert "回复“菜单”" in idle  # no dialogue under way: as before


def test_back_after_opting_out_at_the_signing_step_the_application_is_asked_again(world: World) -> None:
    """START at annex 1 got 'welcome back, reply MENU' alone: its question is a command's answer (FillAnnex),
    which the question asked again gave nothing of; the household did not know a signature waited."""
    with world.client() as client:
        steps = [DESCRIPTION, "1", "张三", ID_ZHANG, "4口人", "西渡镇梅花村", "1", "3", "1"]
        asked = [sms(world, client, f"SMs{i:032d}", t) for i, t in enumerate(steps)][-1]
        assert "同意" in asked[-1]
        sms(world, client, "SMs" + "7" * 32, "退订")
        back = sms(world, client, "SMs" + "8" * 32, "START")
        assert "欢迎回来" in back[0] and "菜单" not in back[0]
        assert back[1:] == asked  # the application in its parts and 'do you agree?', as the dialogue asked
        assert "全名" in "\n".join(sms(world, client, "SMs" + "9" * 32, "1"))


def test_help_in_the_middle_of_a_report_asks_the_question_again_after_the_help(world: World) -> None:
    """HELP at the ID question gave the service's help alone: the question the next message answers was not
    said again (帮助, which the dialogue answers, says it again)."""
    with world.client() as client:
        for i, text in enumerate([DESCRIPTION, "1", "张三"]):
            sms(world, client, f"SMh{i:032d}", text)
        helped = sms(world, client, "SMh" + "8" * 32, "HELP")
        assert "12317" in helped[0] and "身份证号码" in "\n".join(helped[1:])
        assert "几口人" in "\n".join(sms(world, client, "SMh" + "9" * 32, ID_ZHANG))
        idle = sms(world, client, "SMh" + "7" * 32, "HELP", phone="+8613900000078")
        assert len(idle) == 1 and "12317" in idle[0]  # no dialogue under way: the help alone
