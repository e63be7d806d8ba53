"""The table behind the 未送达 page: every stored error code gives its plain-Chinese reason and next step
(zh_CN catalog), retried causes say so while retrying and say to phone once given up, anything else is
"reason unknown" with the raw text kept, and raw text never shows a long number unmasked."""

from __future__ import annotations

import pytest

from api.console import failures
from api.console.failures import Explanation, cause_of, explain, scrub
from conversations.i18n import Translator, translator

ZH = translator("api", "zh_CN")


def outbound(t: Translator, status: str, code: str | None, error: str | None = None) -> Explanation:
    return explain(t, direction="outbound", status=status, attempts=1, error_code=code, error=error)


# code -> (reason, advice) as a cadre reads them on a failed (not retried) row
EXPECTED: dict[str, tuple[str, str]] = {
    "telegram:blocked": ("对方已拉黑或停用机器人", "请电话联系。"),
    "telegram:deactivated": ("对方已拉黑或停用机器人", "请电话联系。"),
    "telegram:forbidden": ("对方已拉黑或停用机器人", "请电话联系。"),
    "telegram:not_started": ("对方还没有在 Telegram 上和机器人对话", "请对方打开机器人"),
    "telegram:chat_not_found": ("找不到对方的聊天账号", "核对绑定的账号"),
    "telegram:bad_request": ("系统发送时出错", "告诉技术人员"),
    "telegram:rate_limited": ("发送太频繁，被平台限速", "请电话联系。"),
    "telegram:timeout": ("发送平台暂时故障或网络不通", "请电话联系。"),
    "telegram:network": ("发送平台暂时故障或网络不通", "请电话联系。"),
    "telegram:invalid_token": ("系统的发送设置有误", "请告诉系统管理员"),
    "wechat:45015": ("48小时内没有给公众号发过消息，微信不允许主动发消息", "发任意一条消息后即可恢复"),
    "wechat:45047": ("已达到微信允许连发的条数上限", "发任意一条消息后即可恢复"),
    "wechat:43004": ("对方已取消关注公众号", "请对方重新关注公众号"),
    "wechat:40003": ("找不到对方的聊天账号", "核对绑定的账号"),
    "wechat:43019": ("对方在公众号的黑名单里", "移出黑名单"),
    "wechat:43101": ("对方设置了拒收我们的消息", "请电话联系。"),
    "wechat:45009": ("发送太频繁，被平台限速", "请电话联系。"),
    "wechat:-1": ("发送平台暂时故障或网络不通", "请电话联系。"),
    "wechat:transport": ("发送平台暂时故障或网络不通", "请电话联系。"),
    "wechat:40001": ("系统的发送设置有误", "请告诉系统管理员"),
    "wechat:40013": ("系统的发送设置有误", "请告诉系统管理员"),
    "wechat:40125": ("系统的发送设置有误", "请告诉系统管理员"),
    "wechat:40164": ("系统的发送设置有误", "请告诉系统管理员"),
    "twilio:21610": ("对方已退订短信", "请对方回复 START 重新开通短信"),
    "twilio:21211": ("号码不存在或已停机", "请核对登记的号码"),
    "twilio:30005": ("号码不存在或已停机", "请核对登记的号码"),
    "twilio:21614": ("该号码是座机，或不能收短信", "登记一个手机号码"),
    "twilio:30006": ("该号码是座机，或不能收短信", "登记一个手机号码"),
    "twilio:30003": ("对方手机关机或不在服务区", "请稍后电话联系"),
    "twilio:21612": ("短信无法送达这个号码", "核对号码"),
    "twilio:30007": ("短信被运营商拦截", "请电话联系；如果经常出现，请告诉系统管理员"),
    "twilio:30004": ("对方设置了拒收我们的消息", "请电话联系。"),
    "twilio:21408": ("系统的发送设置有误", "请告诉系统管理员"),
    "twilio:20003": ("系统的发送设置有误", "请告诉系统管理员"),
    "twilio:21606": ("系统的发送设置有误", "请告诉系统管理员"),
    "twilio:30002": ("系统的发送设置有误", "请告诉系统管理员"),
    "twilio:429": ("发送太频繁，被平台限速", "请电话联系。"),
    "twilio:20429": ("发送太频繁，被平台限速", "请电话联系。"),
    "twilio:14107": ("发送太频繁，被平台限速", "请电话联系。"),
    "twilio:30001": ("发送太频繁，被平台限速", "请电话联系。"),
    "twilio:20500": ("发送平台暂时故障或网络不通", "请电话联系。"),
    "twilio:20503": ("发送平台暂时故障或网络不通", "请电话联系。"),
    "twilio:transport": ("发送平台暂时故障或网络不通", "请电话联系。"),
    "contact:opted_out": ("对方已退订短信", "请对方回复 START"),
    "contact:unreachable": ("对方之前已拉黑或取消关注", "请电话联系。"),
    "internal:sender": ("系统发送时出错", "告诉技术人员"),
}


def test_every_listed_code_has_a_row_here() -> None:
    assert set(failures.CODES) == set(EXPECTED)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_each_code_in_chinese(code: str) -> None:
    reason, advice = EXPECTED[code]
    got = explain(ZH, direction="outbound", status="failed", attempts=1, error_code=code, error="raw words")
    assert reason in got.reason and advice in got.advice, (code, got)
    assert got.raw == f"{code} · raw words" and not got.retrying


@pytest.mark.parametrize("code", ["telegram:rate_limited", "twilio:20503", "wechat:-1", "internal:sender"])
def test_retried_causes_say_so_while_retrying_and_to_phone_once_dead(code: str) -> None:
    pending = explain(ZH, direction="outbound", status="pending", attempts=2, error_code=code, error=None)
    assert pending.retrying and pending.advice == "系统会自动重试，暂时不用处理。"
    dead = explain(ZH, direction="outbound", status="dead", attempts=8, error_code=code, error=None)
    assert not dead.retrying and dead.advice == "系统已重试8次仍未送达，请电话联系。"


def test_a_permanent_cause_is_not_told_to_wait() -> None:
    got = outbound(ZH, "pending", "wechat:45015")
    assert "自动重试" not in got.advice


def test_twilio_http_5xx_without_a_code_is_an_outage_and_4xx_is_unknown() -> None:
    assert cause_of(direction="outbound", error_code="twilio:503").key == "outage"
    assert cause_of(direction="outbound", error_code="twilio:404").key == "unknown"


@pytest.mark.parametrize(
    "code", [None, "", "twilio:21999", "wechat:99999", "telegram:error", "twilio:undelivered"]
)
def test_unknown_codes_get_the_generic_line_and_keep_the_raw_text(code: str | None) -> None:
    got = explain(ZH, direction="outbound", status="failed", attempts=1, error_code=code,
                  error="Something odd happened")
    assert got.key == "unknown" and got.reason == "发送失败，原因未知"
    assert got.raw is not None and "Something odd happened" in got.raw


def test_an_inbound_dead_letter_is_for_people_to_follow_up() -> None:
    got = explain(ZH, direction="inbound", status="dead", attempts=1, error_code=None,
                  error="OperationalError")
    assert got.reason == "系统处理出错，已记录" and got.advice.startswith("请人工跟进")
    assert got.raw == "OperationalError" and not got.retrying


def test_nothing_raw_at_all_shows_no_details() -> None:
    assert outbound(ZH, "failed", None).raw is None


def test_raw_text_never_shows_a_long_number() -> None:
    raw = scrub("IntegrityError: ('+8613807340001', '43042119620715456X', chat 5550001234) code 30007")
    for secret in ("13807340001", "43042119620715456X", "5550001234"):
        assert secret not in raw
    assert "+861********01" in raw and "30007" in raw  # error codes stay readable


def test_english_catalog_reads_the_msgids() -> None:
    en = translator("api", "en")
    got = outbound(en, "failed", "twilio:30007")
    assert got.reason == "The mobile operator blocked the text message"
