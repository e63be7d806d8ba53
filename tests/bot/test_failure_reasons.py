"""The 未送达 page explains each failure in plain Chinese with what to do next: every family driven through
the real adapter and dispatcher (the Bot API, WeChat and Twilio faked at the HTTP boundary, status
callbacks signed like Twilio's), then the page loaded by a county staff member. The provider's raw English
is there for technical staff only inside <details>; no phone number, chat id or openid shows unmasked."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outbox
from cases.models import Channel, ContactStatus, InboundMessage, Outbox, OutboxStatus, Role, Staff
from cases.passwords import hash_password
from tests.api.test_console import login as console_login
from tests.bot import channels as ch
from tests.bot import helpers as h
from tests.bot.world import World
from tests.conversations.conftest import COUNTY

PASSWORD = "county-password-2026"
CHAT, OPENID, PHONE = 5550001234, "oWx_failure_reasons_0001", "+8613807340001"
DETAILS = re.compile(r"<details class=\"raw\">.*?</details>", re.S)


def household_contact(world: World, channel: Channel, address: str) -> int:
    with world.sessions() as db, db.begin():
        household = h.household(db, world.clock(), phone=None)
        return h.contact(db, world.clock(), channel, address, household_id=household.id).id


def queue(world: World, channel: Channel, address: str, contact_id: int) -> int:
    with world.sessions() as db:
        extra = {"event": "case_status_changed"}
        return h.queue(db, world.clock(), channel.value, address, "您的案件有新进展", contact_id=contact_id,
                       extra=extra)


def page(world: World) -> str:
    """The 未送达 page as a county staff member sees it (signed in through the login form)."""
    with world.sessions() as db, db.begin():
        if db.scalar(select(Staff).where(Staff.username == "county-desk")) is None:
            db.add(Staff(username="county-desk", name="周九", role=Role.COUNTY, area_code=COUNTY,
                         created_at=world.clock(), password_hash=hash_password(PASSWORD)))
    with TestClient(world.app, base_url="https://testserver", follow_redirects=False) as web:
        console_login(web, "county-desk", PASSWORD)
        shown = web.get("/console/deliveries")
    assert shown.status_code == 200, shown.text[-2000:]
    return str(shown.text)


def row_of(html: str, direction: str, row_id: int) -> str:
    found = re.search(rf'<tr id="failed-{direction}-{row_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert found is not None, f"no row failed-{direction}-{row_id} on the page"
    return found.group(1)


def cell(row: str, name: str) -> str:
    found = re.search(rf'<td class="{name}">(.*?)</td>', row, re.S)
    assert found is not None, row
    return found.group(1)


def assert_explained(html: str, direction: str, row_id: int, *, reason: str, advice: str, raw: str) -> None:
    """The row gives `reason` and `advice` in Chinese; `raw` (the provider's words) only under the details."""
    row = row_of(html, direction, row_id)
    assert reason in cell(row, "reason"), row
    assert advice in cell(row, "advice"), row
    details = DETAILS.findall(row)
    assert len(details) == 1 and "技术详情" in details[0] and raw in details[0], row
    assert raw not in DETAILS.sub("", row), row  # the English never stands in for the reason


def assert_nothing_unmasked(html: str) -> None:
    for secret in (str(CHAT), OPENID, PHONE, PHONE[3:]):
        assert secret not in html


def test_telegram_blocked_then_skipped_and_chat_not_found(world: World) -> None:
    blocked = household_contact(world, Channel.TELEGRAM, str(CHAT))
    gone = household_contact(world, Channel.TELEGRAM, "5550009999")

    def script(method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if str(params.get("chat_id")) == str(CHAT):
            blocked = "Forbidden: bot was blocked by the user"
            return 403, {"ok": False, "error_code": 403, "description": blocked}
        return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}

    world.tg.script = script
    first = queue(world, Channel.TELEGRAM, str(CHAT), blocked)
    missing = queue(world, Channel.TELEGRAM, "5550009999", gone)
    world.dispatch()
    later = queue(world, Channel.TELEGRAM, str(CHAT), blocked)  # after the block: not even tried
    tried = len(world.tg.sent())
    world.dispatch()
    assert len(world.tg.sent()) == tried
    with world.sessions() as db:
        assert h.contact_status(db, blocked) == ContactStatus.UNREACHABLE
        assert [h.row(db, i).error_code for i in (first, missing, later)] == [
            "telegram:blocked", "telegram:chat_not_found", "contact:unreachable"]
    html = page(world)
    assert_explained(html, "outbound", first, reason="对方已拉黑或停用机器人", advice="请电话联系",
                     raw="bot was blocked by the user")
    assert_explained(html, "outbound", missing, reason="找不到对方的聊天账号", advice="核对绑定的账号",
                     raw="Chat not found")
    assert_explained(html, "outbound", later, reason="对方之前已拉黑或取消关注", advice="请电话联系",
                     raw="contact unreachable")
    assert "案件进展" in row_of(html, "outbound", first)  # what it was about, in Chinese
    assert_nothing_unmasked(html)


def test_telegram_rate_limit_is_retried_and_an_outage_until_dead_says_to_phone(world: World) -> None:
    slow = household_contact(world, Channel.TELEGRAM, str(CHAT))
    down = household_contact(world, Channel.TELEGRAM, "5550005678")

    def script(method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if str(params.get("chat_id")) == str(CHAT):
            return 429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 30",
                         "parameters": {"retry_after": 30}}
        return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}

    world.tg.script = script
    limited = queue(world, Channel.TELEGRAM, str(CHAT), slow)
    dead = queue(world, Channel.TELEGRAM, "5550005678", down)
    world.dispatch(rounds=2)  # the two share Telegram's overall rate slot: one a round
    html = page(world)
    assert_explained(html, "outbound", limited, reason="发送太频繁，被平台限速", advice="系统会自动重试",
                     raw="retry after 30")
    assert_explained(html, "outbound", dead, reason="发送平台暂时故障或网络不通", advice="系统会自动重试",
                     raw="Bad Gateway")
    assert "正在重试" in row_of(html, "outbound", dead)
    for _ in range(outbox.MAX_ATTEMPTS + 2):
        world.clock.advance(seconds=outbox.BACKOFF_CAP_SECONDS + 1)
        world.dispatch(rounds=2)
    with world.sessions() as db:
        assert h.row(db, dead).status == OutboxStatus.DEAD
    html = page(world)
    assert_explained(html, "outbound", dead, reason="发送平台暂时故障或网络不通",
                     advice=f"系统已重试{outbox.MAX_ATTEMPTS}次仍未送达，请电话联系", raw="Bad Gateway")
    assert "正在重试" not in row_of(html, "outbound", dead)
    assert_nothing_unmasked(html)


@pytest.mark.parametrize(
    "errcode,reason,advice",
    [
        (45015, "48小时内没有给公众号发过消息", "对方给公众号发任意一条消息后即可恢复"),
        (43004, "对方已取消关注公众号", "请对方重新关注公众号"),
        (45047, "已达到微信允许连发的条数上限", "急事请电话联系"),
    ],
)
def test_wechat_errcodes(world: World, errcode: int, reason: str, advice: str) -> None:
    contact = household_contact(world, Channel.WECHAT, OPENID)
    world.wx.send_codes = [errcode]
    rid = queue(world, Channel.WECHAT, OPENID, contact)
    world.dispatch(rounds=1)
    with world.sessions() as db:
        got = h.row(db, rid)
        assert got.status == OutboxStatus.FAILED and got.error_code == f"wechat:{errcode}"
    html = page(world)
    assert_explained(html, "outbound", rid, reason=reason, advice=advice, raw=f"wechat {errcode}")
    assert_nothing_unmasked(html)


def test_wechat_system_busy_is_retried(world: World) -> None:
    contact = household_contact(world, Channel.WECHAT, OPENID)
    world.wx.send_codes = [-1]
    rid = queue(world, Channel.WECHAT, OPENID, contact)
    world.dispatch(rounds=1)
    assert_explained(page(world), "outbound", rid, reason="发送平台暂时故障", advice="系统会自动重试",
                     raw="wechat -1")


@pytest.mark.parametrize(
    "failure,reason,advice,raw",
    [
        (21610, "对方已退订短信", "请对方回复 START 重新开通短信", "twilio 21610"),
        (21211, "号码不存在或已停机", "请核对登记的号码", "twilio 21211"),
        (21614, "该号码是座机", "登记一个手机号码", "twilio 21614"),
        (21999, "发送失败，原因未知", "技术详情供技术人员查看", "twilio 400 21999"),  # no such code
    ],
)
def test_sms_refused_by_twilio_rest(world: World, failure: int, reason: str, advice: str, raw: str) -> None:
    contact = household_contact(world, Channel.SMS, PHONE)
    world.tw.failures = [failure]
    rid = queue(world, Channel.SMS, PHONE, contact)
    world.dispatch(rounds=1)
    with world.sessions() as db:
        assert h.row(db, rid).status == OutboxStatus.FAILED
    html = page(world)
    assert_explained(html, "outbound", rid, reason=reason, advice=advice, raw=raw)
    assert_nothing_unmasked(html)


@pytest.mark.parametrize(
    "code,reason,advice",
    [
        ("30007", "短信被运营商拦截", "请电话联系"),
        ("30003", "对方手机关机或不在服务区", "请稍后电话联系"),
        ("30005", "号码不存在或已停机", "请核对登记的号码"),
        ("30006", "该号码是座机，或不能收短信", "登记一个手机号码"),
    ],
)
def test_sms_accepted_then_undelivered_by_the_status_callback(
    world: World, code: str, reason: str, advice: str
) -> None:
    contact = household_contact(world, Channel.SMS, PHONE)
    rid = queue(world, Channel.SMS, PHONE, contact)
    world.dispatch(rounds=1)
    with world.sessions() as db:
        sent = h.row(db, rid)
        assert sent.status == OutboxStatus.SENT and sent.provider_id
        sid = sent.provider_id
    params = ch.tw_params("twilio_status.txt", MessageSid=sid, SmsSid=sid, MessageStatus="undelivered",
                          SmsStatus="undelivered", To=PHONE, ErrorCode=code)
    with world.client() as client:
        res = ch.tw_post(client, params, path=f"/webhooks/twilio/status?outbox={rid}&part=0")
    assert res.status_code == 204
    with world.sessions() as db:
        got = h.row(db, rid)
        assert got.provider_status == "undelivered" and got.error_code == f"twilio:{code}"
    html = page(world)
    assert_explained(html, "outbound", rid, reason=reason, advice=advice, raw=f"twilio undelivered {code}")
    assert_nothing_unmasked(html)


def test_an_inbound_message_whose_handling_failed(world: World, db: Session) -> None:
    world.ctx.service_ctx = dataclasses.replace(world.ctx.service_ctx, annex_version="no-such-version")
    with world.client() as client:
        res = ch.tw_post(client, ch.tw_sms(PHONE, "SM" + "7" * 32, "你好"))
    assert res.status_code == 200
    dead = db.scalar(select(InboundMessage))
    assert dead is not None and dead.status == "dead" and dead.error
    html = page(world)
    assert_explained(html, "inbound", dead.id, reason="系统处理出错，已记录",
                     advice="请人工跟进：电话联系对方", raw=dead.error)
    assert "收到未处理" in row_of(html, "inbound", dead.id)
    assert_nothing_unmasked(html)


def test_rows_that_went_out_are_not_listed(world: World) -> None:
    contact = household_contact(world, Channel.SMS, PHONE)
    rid = queue(world, Channel.SMS, PHONE, contact)
    world.dispatch(rounds=1)
    with world.sessions() as db:
        assert h.row(db, rid).status == OutboxStatus.SENT
        assert db.scalar(select(Outbox.last_error).where(Outbox.id == rid)) is None
    assert f'id="failed-outbound-{rid}"' not in page(world)
