"""WeChat through signed XML, plaintext and safe mode with a random EncodingAESKey (W4, W5, W9, dialogues)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from bot import wechat
from cases.db import engines_of
from cases.models import Contact, ContactStatus, Outbox, OutboxStatus
from cases.models import InboundMessage as InboundRow
from tests.bot import channels as ch
from tests.bot import helpers as h
from tests.bot.world import DESCRIPTION, World, case_number
from tests.conversations.conftest import ID_ZHANG

OPENID = "oFAKE_openid_0001"
MODES = ["plain", "aes"]


def key_for(world: World, mode: str) -> str | None:
    return world.ctx.settings.wechat_aes_key if mode == "aes" else None


def say(world: World, client: object, msg_id: int, words: str, mode: str, openid: str = OPENID) -> str:
    res = ch.wx_post(client, ch.wx_text(openid, msg_id, words), aes_key=key_for(world, mode))  # type: ignore[arg-type]
    assert res.status_code == 200, res.text
    if res.text == "success":
        return ""
    reply = ch.wx_reply(res, aes_key=key_for(world, mode))
    assert reply["MsgType"] == "text" and reply["ToUserName"] == openid
    return str(reply["Content"])


@pytest.mark.parametrize("mode", MODES)
def test_wechat_whole_self_report_dialogue_with_passive_replies(world: World, mode: str) -> None:
    steps = [
        DESCRIPTION,
        "1",
        "张三",
        ID_ZHANG,
        "4口人",
        "西渡镇梅花村",
        "1",
        "3",
        "13912345678",
        "1",
        "同意",
        "张三",
    ]
    with world.client() as client:
        answers = [say(world, client, 24400000000001000 + i, t, mode) for i, t in enumerate(steps)]
    assert "对吗" in answers[0] and "1 对" in answers[0]  # numbered choices written out
    number = case_number(answers[-1])
    assert world.case(number).household_id
    assert world.wx.sends() == []  # everything answered inside the 5 seconds


def test_W9_an_encrypted_request_gets_an_encrypted_reply(world: World) -> None:
    with world.client() as client:
        res = ch.wx_post(client, ch.fixture("wechat_text.xml"), aes_key=world.ctx.settings.wechat_aes_key)
    assert res.status_code == 200 and "<Encrypt>" in res.text and "菜单" not in res.text
    assert "<Content>" not in res.text
    reply = ch.wx_reply(res, aes_key=world.ctx.settings.wechat_aes_key)
    assert reply["ToUserName"] == OPENID and reply["FromUserName"] == "gh_shenbao0001" and reply["Content"]


@pytest.mark.parametrize("mode", MODES)
def test_W4_the_same_msgid_three_times_has_one_effect(world: World, db: Session, mode: str) -> None:
    with world.client() as client:
        answers = [say(world, client, 24400000000009999, DESCRIPTION, mode) for _ in range(3)]
    assert ch.stored(db) == 1
    assert answers[0] and answers[1:] == ["", ""]  # the answer went once; retries get 'success'
    db.expire_all()
    assert len(list(db.scalars(select(Outbox)))) == 1


def test_W4_events_are_deduplicated_on_sender_createtime_and_event(world: World, db: Session) -> None:
    click = (
        "<xml><ToUserName><![CDATA[gh_shenbao0001]]></ToUserName><FromUserName><![CDATA[oFAKE_openid_0001]]>"
        "</FromUserName><CreateTime>1772418000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[菜单]]></EventKey></xml>"
    ).encode()
    with world.client() as client:
        for _ in range(3):
            assert ch.wx_post(client, click).status_code == 200
        later = click.replace(b"1772418000", b"1772418060")
        assert ch.wx_post(client, later).status_code == 200
        assert ch.stored(db) == 2
        # the same second, another event (a QR scan) or another sender: not repeats of the click
        scan = click.replace(b"CLICK", b"SCAN").replace("菜单".encode(), b"123")
        other = click.replace(b"oFAKE_openid_0001", b"oFAKE_openid_0002")
        for _ in range(2):
            assert ch.wx_post(client, scan).status_code == 200
            assert ch.wx_post(client, other).status_code == 200
    assert ch.stored(db) == 4
    db.expire_all()
    rows = list(db.scalars(select(InboundRow)))
    assert len({r.id for r in rows}) == 4 and all(r.status == "handled" for r in rows)
    replies = list(db.scalars(select(Outbox)))
    assert len({r.inbound_id for r in replies}) == 4  # one effect each: answered once, not per retry


def test_a_message_is_stored_handled_and_answered_passively_in_one_commit(world: World, db: Session) -> None:
    commits: list[object] = []

    def count(conn: object) -> None:
        commits.append(conn)

    engines = engines_of(world.sessions)  # PostgreSQL: the webhook's work is on the loop's engine
    for engine in engines:
        event.listen(engine, "commit", count)
    try:
        with world.client() as client:
            assert "对吗" in say(world, client, 24400000000000050, DESCRIPTION, "plain")
    finally:
        for engine in engines:
            event.remove(engine, "commit", count)
    assert len(commits) == 1
    db.expire_all()
    rows = list(db.scalars(select(Outbox)))
    assert rows and all(r.status == OutboxStatus.SENT and r.provider_status == "inline" for r in rows)


def test_W5_slow_work_is_answered_success_in_time_and_sent_by_customer_service_message(
    world: World, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert wechat.DEADLINE_SECONDS <= 4.5  # WeChat gives up at 5 s: the real deadline leaves room
    monkeypatch.setattr(wechat, "DEADLINE_SECONDS", 0.3)
    with world.client() as client:  # the contact exists and has a session row
        say(world, client, 24400000000000100, "你好", "plain")
    # another worker has it; taken once the client is up, so the app's start-up does not eat into the second
    with world.client() as client, h.contact_locked(world.app.state.engine):
        res = ch.wx_post(client, ch.wx_text(OPENID, 24400000000000101, DESCRIPTION))
    assert res.status_code == 200 and res.text == "success"
    for _ in range(100):  # the handler finishes once the lock is gone
        db.expire_all()
        handled = select(InboundRow).where(
            InboundRow.external_id == "24400000000000101", InboundRow.status == "handled"
        )
        if db.scalar(handled) is not None:
            break
        time.sleep(0.05)
    world.clock.advance(seconds=16)  # past the inline grace: the dispatcher takes it
    world.dispatch()
    sends = world.wx.sends()
    assert len(sends) == 1 and sends[0]["touser"] == OPENID and "对吗" in sends[0]["text"]["content"]
    db.expire_all()
    assert all(r.status == OutboxStatus.SENT for r in db.scalars(select(Outbox)))


def test_subscribe_gets_a_welcome_and_unsubscribe_marks_unreachable(world: World, db: Session) -> None:
    with world.client() as client:
        res = ch.wx_post(client, ch.fixture("wechat_subscribe.xml"))
        welcome = ch.wx_reply(res)["Content"]
        say(world, client, 24400000000000200, "你好", "plain")
        gone = ch.fixture("wechat_subscribe.xml").replace(b"subscribe", b"unsubscribe")
        assert ch.wx_post(client, gone).text == "success"
    assert "申报" in welcome and "菜单" in welcome
    db.expire_all()
    contact = db.scalar(select(Contact).where(Contact.channel == "wechat"))
    assert contact is not None and contact.status == ContactStatus.UNREACHABLE


def test_a_location_message_is_offered_as_the_village(world: World) -> None:
    steps = [DESCRIPTION, "1", "张三", ID_ZHANG, "4口人"]
    with world.client() as client:
        for i, t in enumerate(steps):
            last = say(world, client, 24400000000000300 + i, t, "plain")
        assert "哪个村" in last
        res = ch.wx_post(client, ch.fixture("wechat_location.xml"))
    answer = ch.wx_reply(res)["Content"]
    assert "梅花村" in answer and "吗" in answer


def test_an_image_message_is_handed_over_with_its_media_id(world: World, db: Session) -> None:
    with world.client() as client:
        res = ch.wx_post(client, ch.fixture("wechat_image.xml"))
    assert res.status_code == 200
    db.expire_all()
    row = db.scalar(select(InboundRow))
    assert row is not None and row.payload["attachments"][0]["file_id"] == "media_id_0001"
