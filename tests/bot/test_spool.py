"""The inbound spool (bot/spool.py): a WeChat or SMS message the database could not take before the
platform's deadline is kept on disk, encrypted, and stored later; nothing the household typed is lost (G1)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from api.channels import jobs_for
from bot import sms as sms_adapter
from bot.spool import UNREADABLE, Spool, decode, encode
from cases.clock import FrozenClock
from cases.db import make_session_factory
from cases.models import InboundMessage as InboundRow
from cases.models import Outbox
from conversations.messages import Attachment, InboundMessage
from tests.bot import channels as ch
from tests.bot import helpers as h
from tests.bot.world import DESCRIPTION, World
from tests.conversations.conftest import ID_ZHANG

OPENID = "oFAKE_openid_spool"
PHONE = "+8613912345678"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def message(external_id: str, text: str | None = "你好", *, user_key: str = PHONE, at: datetime = T0,
            attachments: tuple[Attachment, ...] = ()) -> InboundMessage:
    return InboundMessage(channel="sms", user_key=user_key, external_id=external_id, text=text,
                          received_at=at, attachments=attachments)


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool", h.vault(), FrozenClock(T0))


def files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.msg")) if directory.is_dir() else []


# --- the spool itself -------------------------------------------------------------------------------------


def test_a_kept_message_reads_back_whole_and_nothing_sensitive_is_on_disk_in_the_clear(spool: Spool) -> None:
    photo = Attachment(kind="photo", content_type="image/jpeg", data=b"\xff\xd8jpeg", meta={"url": "m1"})
    msg = message("SM1", f"我的身份证 {ID_ZHANG}，电话13912345678", attachments=(photo,))
    path = spool.keep(msg)
    raw = path.read_bytes()
    for secret in (ID_ZHANG, "13912345678", "身份证".encode().decode(), "jpeg"):
        assert secret.encode() not in raw and secret not in path.name
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(spool.directory.stat().st_mode & 0o077) == "0o0"  # nobody else lists it either
    [held] = spool.held()
    assert spool.load(held) == msg and decode(encode(msg)) == msg
    assert spool.keep(msg) == path and len(files(spool.directory)) == 1  # a second keep: the same file


def test_a_new_process_finds_the_files_and_discard_removes_one(spool: Spool, tmp_path: Path) -> None:
    first, second = message("SM1", at=T0), message("SM2", at=T0 + timedelta(seconds=1))
    spool.keep(second)
    spool.keep(first)
    again = Spool(spool.directory, h.vault(), FrozenClock(T0))  # after a restart
    assert [again.load(x).external_id for x in again.held()] == ["SM1", "SM2"]  # oldest first
    again.discard(first)
    assert [again.load(x).external_id for x in again.held()] == ["SM2"] and len(files(spool.directory)) == 1


def test_replay_stores_in_order_holds_a_failed_contact_back_and_backs_off(spool: Spool) -> None:
    clock = spool.clock
    assert isinstance(clock, FrozenClock)
    a1, a2 = message("A1", at=T0), message("A2", at=T0 + timedelta(seconds=2))
    b1 = message("B1", user_key="+8613900000002", at=T0 + timedelta(seconds=1))
    for m in (a2, b1, a1):
        spool.keep(m)
    stored: list[str] = []

    def refuse_a1(msg: InboundMessage) -> None:
        if msg.external_id == "A1":
            raise RuntimeError("database is locked")
        stored.append(msg.external_id)

    assert spool.replay(refuse_a1) == 1
    assert stored == ["B1"]  # A2 waits behind A1: a contact's messages keep their order
    assert [spool.load(x).external_id for x in spool.held()] == ["A1", "A2"]
    assert not spool.due()  # backing off
    clock.advance(seconds=2)
    assert spool.due()
    assert spool.replay(lambda msg: stored.append(msg.external_id)) == 2
    assert stored == ["B1", "A1", "A2"] and files(spool.directory) == [] and not spool.due()


def test_replay_for_one_contact_takes_only_its_messages(spool: Spool) -> None:
    spool.keep(message("A1"))
    spool.keep(message("B1", user_key="+8613900000002"))
    stored: list[str] = []
    assert spool.replay(lambda msg: stored.append(msg.external_id), only=("sms", PHONE)) == 1
    assert stored == ["A1"] and len(spool.held()) == 1


def test_an_unreadable_file_is_set_aside_not_deleted(spool: Spool) -> None:
    path = spool.keep(message("SM1"))
    path.write_text("v1:not-a-ciphertext", "ascii")
    assert spool.replay(lambda msg: None) == 0
    assert files(spool.directory) == [] and (spool.directory / UNREADABLE / path.name).exists()


# --- through the webhooks -----------------------------------------------------------------------------


def slow_to_fail(db_url: str, seconds: float) -> Engine:
    """An engine that waits `seconds` for the contacts' locks another worker holds, then fails."""
    if db_url.startswith("sqlite"):
        return create_engine(db_url, connect_args={"timeout": seconds})
    return create_engine(db_url, connect_args={"options": f"-c lock_timeout={int(seconds * 1000)}"})


@contextmanager
def failing_database(world: World, db_url: str, seconds: float) -> Iterator[None]:
    """The webhooks' database fails each store after `seconds` (locked by another worker) while inside."""
    real = world.ctx.sessions
    engine = slow_to_fail(db_url, seconds)
    world.ctx.sessions = make_session_factory(engine)
    try:
        with h.contact_locked(world.app.state.engine):
            yield
    finally:
        world.ctx.sessions = real
        engine.dispose()


def stored_rows(db: Session, external_id: str) -> list[InboundRow]:
    db.expire_all()
    return list(db.scalars(select(InboundRow).where(InboundRow.external_id == external_id)))


def replay_round(world: World) -> None:
    """One round of the background jobs of `shenbao serve` / `worker` (spool, reminders, outbox)."""
    asyncio.run(jobs_for(world.ctx).run_round())


def wait_for(check: Callable[[], bool], polls: int = 100) -> None:
    """Poll `check` until it holds (the request's work goes on after its answer), as the W5 and S4 tests do:
    up to `polls` looks 50 ms apart; no time is measured or asserted."""
    for _ in range(polls):
        if check():
            return
        time.sleep(0.05)
    assert check()


def test_wechat_a_store_that_fails_is_answered_success_kept_and_stored_after_a_restart(
    world: World, db: Session, db_url: str
) -> None:
    with world.client() as client:  # the contact exists and has a session row
        ch.wx_post(client, ch.wx_text(OPENID, 24400000000009000, "你好"))
    spool_dir = world.ctx.settings.spool_dir
    with failing_database(world, db_url, 0.3), world.client() as client:
        res = ch.wx_post(client, ch.wx_text(OPENID, 24400000000009001, DESCRIPTION))
        assert res.status_code == 200 and res.text == "success"  # W5: never an error to WeChat
    assert stored_rows(db, "24400000000009001") == [] and len(files(spool_dir)) == 1
    later = world.restart()  # the server stopped before the jobs ran: the file is still there
    with later.client() as client:
        assert client.get("/healthz").json() == {"status": "ok", "spooled": 1}  # what a monitor sees
    replay_round(later)
    with later.client() as client:
        assert client.get("/healthz").json()["spooled"] == 0
    [row] = stored_rows(db, "24400000000009001")
    assert row.status == "handled" and files(spool_dir) == []
    later.clock.advance(seconds=16)  # past the inline grace: the dispatcher sends the answer by 客服消息
    later.dispatch()
    sends = [s for s in world.wx.sends() if s["touser"] == OPENID]
    assert len(sends) == 1 and "对吗" in sends[0]["text"]["content"]


def test_sms_a_store_that_fails_after_the_deadline_is_kept_and_its_reply_goes_out_by_rest(
    world: World, db: Session, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sms_adapter, "DEADLINE_SECONDS", 0.3)
    sid = "SM" + "c" * 32
    with world.client() as client:
        ch.tw_post(client, ch.tw_sms(PHONE, "SM" + "b" * 32, "你好"))
    spool_dir = world.ctx.settings.spool_dir
    with failing_database(world, db_url, 1.0), world.client() as client:
        res = ch.tw_post(client, ch.tw_sms(PHONE, sid, DESCRIPTION))
        assert res.status_code == 200 and ch.twiml_messages(res) == []  # S4: an empty answer in time
        assert len(files(spool_dir)) == 1  # kept before the answer went
        time.sleep(1.5)  # the store gives up after 1 s: the file stays
    assert stored_rows(db, sid) == [] and len(files(spool_dir)) == 1
    replay_round(world)
    [row] = stored_rows(db, sid)
    assert row.status == "handled" and files(spool_dir) == []
    world.clock.advance(seconds=16)
    world.dispatch()
    assert any("对吗" in c["Body"] and c["To"] == PHONE for c in world.tw.creates())


def test_sms_past_the_deadline_the_file_goes_once_the_request_s_own_work_stores_it(
    world: World, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sms_adapter, "DEADLINE_SECONDS", 0.3)
    sid = "SM" + "d" * 32
    with world.client() as client:
        ch.tw_post(client, ch.tw_sms(PHONE, "SM" + "e" * 32, "你好"))
    spool_dir = world.ctx.settings.spool_dir
    with world.client() as client:
        with h.contact_locked(world.app.state.engine):  # slow, not failing: stored once the lock is gone
            res = ch.tw_post(client, ch.tw_sms(PHONE, sid, DESCRIPTION))
            assert ch.twiml_messages(res) == [] and len(files(spool_dir)) == 1
        wait_for(lambda: not files(spool_dir))
    [row] = stored_rows(db, sid)
    assert row.status == "handled"


def test_wechat_the_contact_s_next_message_stores_the_kept_one_first_and_answers_both_in_order(
    world: World, db: Session, db_url: str
) -> None:
    with world.client() as client:
        ch.wx_post(client, ch.wx_text(OPENID, 24400000000009100, "你好"))
    with failing_database(world, db_url, 0.3), world.client() as client:
        assert ch.wx_post(client, ch.wx_text(OPENID, 24400000000009101, DESCRIPTION)).text == "success"
    with world.client() as client:  # before any jobs round: the next message takes the kept one along
        answer = ch.wx_reply(ch.wx_post(client, ch.wx_text(OPENID, 24400000000009102, "1")))["Content"]
    [kept] = stored_rows(db, "24400000000009101")
    [nxt] = stored_rows(db, "24400000000009102")
    assert kept.id < nxt.id and kept.status == nxt.status == "handled"
    assert files(world.ctx.settings.spool_dir) == []
    # the kept message's question, then the answer to "1" (it confirmed that description): one reply
    assert "对吗" in answer and answer.index("对吗") < answer.index("姓名")
    world.clock.advance(seconds=16)
    world.dispatch()
    assert world.wx.sends() == []  # nothing left to send by 客服消息


def test_sms_the_contact_s_next_message_answers_the_kept_one_first_in_its_twiml(
    world: World, db: Session, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sms_adapter, "DEADLINE_SECONDS", 0.3)
    with world.client() as client:
        ch.tw_post(client, ch.tw_sms(PHONE, "SM" + "f" * 32, "你好"))
    with failing_database(world, db_url, 1.0), world.client() as client:
        assert ch.twiml_messages(ch.tw_post(client, ch.tw_sms(PHONE, "SM" + "g" * 32, DESCRIPTION))) == []
        time.sleep(1.5)
    with world.client() as client:
        answer = ch.twiml_messages(ch.tw_post(client, ch.tw_sms(PHONE, "SM" + "h" * 32, "1")))
    assert "对吗" in answer[0] and any("姓名" in part for part in answer[1:])
    db.expire_all()
    kept = db.scalar(select(Outbox).where(Outbox.body.contains("对吗"), Outbox.to == PHONE))
    assert kept is not None and kept.provider_status == "inline" and kept.segments
    world.clock.advance(seconds=16)
    world.dispatch()
    assert world.tw.creates() == []


def test_sms_a_store_that_fails_in_time_answers_503_keeps_it_and_a_retry_is_answered_once(
    world: World, db: Session, db_url: str
) -> None:
    sid = "SM" + "k" * 32
    with world.client() as client:
        ch.tw_post(client, ch.tw_sms(PHONE, "SM" + "j" * 32, "你好"))
    spool_dir = world.ctx.settings.spool_dir
    with failing_database(world, db_url, 0.3), world.client() as client:
        assert ch.tw_post(client, ch.tw_sms(PHONE, sid, DESCRIPTION)).status_code == 503  # G1
    assert stored_rows(db, sid) == [] and len(files(spool_dir)) == 1  # kept: not every Twilio set-up retries
    with world.client() as client:  # this one does: its retry is answered in the TwiML
        answer = ch.twiml_messages(ch.tw_post(client, ch.tw_sms(PHONE, sid, DESCRIPTION)))
    assert "对吗" in "\n".join(answer)
    replay_round(world)  # the file finds the message stored: it goes, nothing is written twice
    assert files(spool_dir) == [] and len(stored_rows(db, sid)) == 1
    world.clock.advance(seconds=16)
    world.dispatch()
    assert world.tw.creates() == []  # answered once, in the TwiML


def test_sms_a_store_that_fails_in_time_with_no_retry_is_stored_from_the_spool(
    world: World, db: Session, db_url: str
) -> None:
    sid = "SM" + "m" * 32
    with world.client() as client:
        ch.tw_post(client, ch.tw_sms(PHONE, "SM" + "l" * 32, "你好"))
    with failing_database(world, db_url, 0.3), world.client() as client:
        assert ch.tw_post(client, ch.tw_sms(PHONE, sid, DESCRIPTION)).status_code == 503
    replay_round(world)
    [row] = stored_rows(db, sid)
    assert row.status == "handled"
    world.clock.advance(seconds=16)
    world.dispatch()
    assert any("对吗" in c["Body"] for c in world.tw.creates())
