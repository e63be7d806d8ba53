"""Why a message did not get through, in plain words, and what to do next (the 未送达 page).

Keyed on what the outbox stores: `Outbox.error_code`, "<provider>:<code>" as the adapters record it
(bot/sms.py: Twilio's TwilioRestException.code or a status callback's ErrorCode; bot/telegram.py:
PTB's exception class and description; bot/wechat.py: the errcode wechatpy's WeChatClientException
would hold; the dispatcher: contact:<status> and internal:sender). Inbound dead letters have one
cause. Anything not listed is "reason unknown"; the raw text stays available for technical staff.
"""

from __future__ import annotations

from dataclasses import dataclass

from wechatpy.constants import WeChatErrorCode as Wx

from cases.logs import mask_digits
from conversations.i18n import N_, Translator


@dataclass(frozen=True)
class Cause:
    """A family of failures: msgids of the reason and of the advice; `retried` when the dispatcher
    tries again by itself (rate limits, outages)."""

    key: str
    reason: str
    advice: str
    retried: bool = False


CALL = N_("Please phone them.")
_CAUSES = [
    Cause("blocked_bot", N_("They blocked the bot or closed their account"), CALL),
    Cause(
        "bot_not_started",
        N_("They have not started a chat with the bot yet"),
        N_("Please phone them and ask them to open the bot and press Start."),
    ),
    Cause(
        "account_gone",
        N_("Their chat account cannot be found (closed, or linked wrongly)"),
        N_("Please phone them and check the linked account."),
    ),
    Cause(
        "blocked_earlier", N_("They blocked or unfollowed us earlier; nothing is sent there any more"), CALL
    ),
    Cause(
        "wechat_unfollowed",
        N_("They unfollowed the WeChat official account"),
        N_("Please phone them. To use WeChat again, they need to follow the official account again."),
    ),
    Cause(
        "wechat_window",
        N_("They have not written to the official account for 48 hours, so WeChat lets us send nothing"),
        N_("It works again once they send the account any message. If it is urgent, please phone them."),
    ),
    Cause(
        "wechat_quota",
        N_("WeChat's limit of messages without an answer from them is used up"),
        N_("It works again once they send the account any message. If it is urgent, please phone them."),
    ),
    Cause(
        "wechat_blacklisted",
        N_("They are on the official account's blacklist"),
        N_("Ask the account's administrator to take them off the blacklist, or phone them."),
    ),
    Cause(
        "sms_opted_out",
        N_("They unsubscribed from our text messages"),
        N_("Please phone them, or ask them to reply START to get text messages again."),
    ),
    Cause(
        "bad_number",
        N_("The number does not exist or is out of service"),
        N_("Please check the phone number on file."),
    ),
    Cause(
        "landline",
        N_("The number is a landline or cannot receive text messages"),
        N_("Please phone them and record a mobile number."),
    ),
    Cause(
        "handset_off", N_("Their phone is switched off or out of coverage"), N_("Please phone them later.")
    ),
    Cause(
        "undeliverable",
        N_("Text messages cannot be delivered to this number"),
        N_("Please phone them and check the number."),
    ),
    Cause(
        "carrier_filtered",
        N_("The mobile operator blocked the text message"),
        N_("Please phone them. If this happens often, tell the system administrator."),
    ),
    Cause("recipient_refused", N_("Their phone or account refuses our messages"), CALL),
    Cause(
        "config",
        N_("The system's sending settings are wrong (account, key or allowed regions)"),
        N_("Please tell the system administrator; phone them meanwhile if it is urgent."),
    ),
    Cause("rate_limited", N_("Too many messages at once; the platform slowed us down"), CALL, retried=True),
    Cause("outage", N_("The messaging service was down or the network failed"), CALL, retried=True),
    Cause(
        "system",
        N_("Our system made an error while sending"),
        N_("It is logged. Please phone them and tell the technical staff."),
        retried=True,
    ),
    Cause(
        "inbound",
        N_("The system failed to handle this message; it is kept"),
        N_("Please follow up in person: phone them and ask what they needed."),
    ),
    Cause(
        "unknown",
        N_("Sending failed; the reason is not known"),
        N_("Please phone them. The technical details are for the technical staff."),
    ),
]
CAUSES: dict[str, Cause] = {c.key: c for c in _CAUSES}
RETRYING = N_("The system will retry by itself; nothing to do for now.")
GAVE_UP = N_("Tried {attempts} times without success. Please phone them.")

# error_code -> cause key (codes as the adapters store them)
CODES: dict[str, str] = {
    # Telegram: PTB's Forbidden / BadRequest / RetryAfter ... (bot/telegram.py error_code)
    "telegram:blocked": "blocked_bot",
    "telegram:deactivated": "blocked_bot",
    "telegram:forbidden": "blocked_bot",
    "telegram:not_started": "bot_not_started",
    "telegram:chat_not_found": "account_gone",
    "telegram:bad_request": "system",
    "telegram:rate_limited": "rate_limited",
    "telegram:timeout": "outage",
    "telegram:network": "outage",
    "telegram:invalid_token": "config",
    # WeChat: errcode of /cgi-bin/message/custom/send and /cgi-bin/token
    f"wechat:{Wx.OUT_OF_RESPONSE_TIME_LIMIT.value}": "wechat_window",  # 45015
    f"wechat:{Wx.OUT_OF_RESPONSE_COUNT_LIMIT.value}": "wechat_quota",  # 45047
    f"wechat:{Wx.REQUIRE_SUBSCRIBE.value}": "wechat_unfollowed",  # 43004
    f"wechat:{Wx.INVALID_OPENID.value}": "account_gone",  # 40003
    f"wechat:{Wx.REQUIRE_UNBLOCK_USER.value}": "wechat_blacklisted",  # 43019
    f"wechat:{Wx.USER_REFUSE_TO_ACCEPT_THE_MESSAGE.value}": "recipient_refused",  # 43101
    f"wechat:{Wx.OUT_OF_API_FREQ_LIMIT.value}": "rate_limited",  # 45009
    f"wechat:{Wx.SYSTEM_BUSY.value}": "outage",  # -1
    "wechat:transport": "outage",
    f"wechat:{Wx.INVALID_CREDENTIAL.value}": "config",  # 40001, still after a fresh token
    f"wechat:{Wx.INVALID_APP_ID.value}": "config",  # 40013
    f"wechat:{Wx.INVALID_APP_SECRET.value}": "config",  # 40125
    "wechat:40164": "config",  # calling IP not on the account's whitelist
    # Twilio: REST error codes and the ErrorCode of failed / undelivered status callbacks
    "twilio:21610": "sms_opted_out",  # replied STOP
    "twilio:21211": "bad_number",  # invalid 'To' number
    "twilio:30005": "bad_number",  # unknown destination handset
    "twilio:21614": "landline",  # not a mobile number
    "twilio:30006": "landline",  # landline or unreachable carrier
    "twilio:30003": "handset_off",  # unreachable destination handset
    "twilio:21612": "undeliverable",  # cannot route to this number
    "twilio:30007": "carrier_filtered",  # message filtered by the carrier
    "twilio:30004": "recipient_refused",  # message blocked
    "twilio:21408": "config",  # sending to this region not enabled
    "twilio:20003": "config",  # authentication failed
    "twilio:21606": "config",  # the 'From' number cannot send
    "twilio:30002": "config",  # account suspended
    "twilio:429": "rate_limited",
    "twilio:20429": "rate_limited",
    "twilio:14107": "rate_limited",
    "twilio:30001": "rate_limited",  # queue overflow
    "twilio:20500": "outage",
    "twilio:20503": "outage",
    "twilio:transport": "outage",
    # the dispatcher: the contact was marked before this message went out
    "contact:opted_out": "sms_opted_out",
    "contact:unreachable": "blocked_earlier",
    "internal:sender": "system",
}


def cause_of(*, direction: str, error_code: str | None) -> Cause:
    """The family a stored failure belongs to ("unknown" when its code is not listed)."""
    if direction == "inbound":
        return CAUSES["inbound"]
    code = error_code or ""
    if code in CODES:
        return CAUSES[CODES[code]]
    provider, _, number = code.partition(":")
    if provider == "twilio" and number.isdigit() and len(number) == 3 and int(number) >= 500:
        return CAUSES["outage"]  # an HTTP 5xx without a Twilio code
    return CAUSES["unknown"]


@dataclass(frozen=True)
class Explanation:
    key: str
    reason: str
    advice: str
    retrying: bool
    raw: str | None


def scrub(text: str) -> str:
    """Raw provider text with every long digit run masked (a phone, an ID or chat number never shows)."""
    return mask_digits(text)


def explain(
    t: Translator,
    *,
    direction: str,
    status: str,
    attempts: int,
    error_code: str | None,
    error: str | None,
) -> Explanation:
    """The translated reason and next step for one failed message, and its raw text (scrubbed)."""
    cause = cause_of(direction=direction, error_code=error_code)
    retrying = direction == "outbound" and status in ("pending", "sending")
    if cause.retried and retrying:
        advice = t.gettext(RETRYING)
    elif cause.retried and status == "dead":
        advice = t.gettext(GAVE_UP).format(attempts=attempts)
    else:
        advice = t.gettext(cause.advice)
    raw = " · ".join(p for p in (error_code, error) if p) or None
    return Explanation(cause.key, t.gettext(cause.reason), advice, retrying, scrub(raw) if raw else None)
