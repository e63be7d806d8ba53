"""Table-driven edge tests over raw payloads: bad signatures 403, malformed payloads 400 (WeChat: success),
nothing stored either way (T1, T9, W1, W2, W3, W7, W8, S1, S2, S8)."""

from __future__ import annotations

import hashlib
import hmac
import logging

import pytest
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from bot.context import BotContext
from bot.sms import StatusUpdate, apply_status
from cases.clock import FrozenClock
from cases.models import OutboxStatus
from tests.bot import channels as ch
from tests.bot import helpers as h
from tests.bot.conftest import PUBLIC, TG_SECRET, TW_TOKEN, WX_TOKEN, random_aes_key
from tests.bot.world import World


@pytest.mark.parametrize(
    ("secret", "status"),
    [(None, 403), ("", 403), ("wrong-secret", 403), (TG_SECRET + "x", 403), (TG_SECRET[:-1], 403)],
)
def test_T1_missing_or_wrong_secret_token_is_403_and_nothing_stored(
    ctx: BotContext, db: Session, secret: str | None, status: int
) -> None:
    with ch.client_for(ctx) as client:
        res = ch.tg_post(client, ch.tg_update("telegram_text.json"), secret=secret)
    assert res.status_code == status and ch.stored(db) == 0


def _one_byte_off(secret: str, at: int) -> str:
    return secret[:at] + ("0" if secret[at] != "0" else "1") + secret[at + 1 :]


@pytest.mark.parametrize(
    ("sent", "accepted"),
    [
        (TG_SECRET, True),
        (_one_byte_off(TG_SECRET, 0), False),  # the same length, one byte off at the start
        (_one_byte_off(TG_SECRET, len(TG_SECRET) - 1), False),  # ... and at the end
        (TG_SECRET + "0", False),  # one byte longer
        (TG_SECRET[:-1], False),  # one byte shorter
    ],
)
def test_T1_the_secret_is_compared_in_constant_time(
    world: World, db: Session, monkeypatch: pytest.MonkeyPatch, sent: str, accepted: bool
) -> None:
    """Every webhook call compares the header with the secret through hmac.compare_digest (spied on, the
    library's own function still deciding), and a token one byte off or one byte longer or shorter fails."""
    calls: list[tuple[bytes, bytes, bool]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        outcome = real(a, b)
        calls.append((a, b, outcome))
        return outcome

    monkeypatch.setattr(hmac, "compare_digest", spy)
    with world.client() as client:
        res = ch.tg_post(client, ch.tg_update("telegram_text.json"), secret=sent)
    assert (res.status_code == 200) is accepted and res.status_code in (200, 403)
    assert ch.stored(db) == (1 if accepted else 0)
    secret_checks = [c for c in calls if TG_SECRET.encode() in (c[0], c[1])]
    assert secret_checks == [(sent.encode(), TG_SECRET.encode(), accepted)]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"message": {"text": "no update_id"}}', "application/json"),
        (b'{"update_id": "12"}', "application/json"),
        # a text message PTB cannot read: no chat type; a date beyond any calendar (OverflowError, OSError)
        (b'{"update_id": 12, "message": {"message_id": 1, "date": 1772400000, "text": "x", "chat": {"id": 5},'
         b' "from": {"id": 5, "is_bot": false, "first_name": "x"}}}', "application/json"),
        (b'{"update_id": 12, "message": {"message_id": 1, "date": 1e300, "text": "x",'
         b' "chat": {"id": 5, "type": "private"}}}', "application/json"),
        (b'{"update_id": 12, "message": {"message_id": 1, "date": 67768036191676800, "text": "x",'
         b' "chat": {"id": 5, "type": "private"}}}', "application/json"),
        (ch.fixture("telegram_text.json"), "text/plain"),
        (ch.fixture("telegram_text.json"), "application/x-www-form-urlencoded"),
    ],
)
def test_T9_bad_json_or_wrong_content_type_is_400_and_nothing_stored(
    ctx: BotContext, db: Session, body: bytes, content_type: str
) -> None:
    with ch.client_for(ctx) as client:
        res = ch.tg_post(client, body, content_type=content_type)
    assert res.status_code == 400 and ch.stored(db) == 0


def test_W1_get_verification_echoes_echostr_on_a_good_signature(ctx: BotContext) -> None:
    timestamp, nonce, echostr = "1772416800", "n0nce", "5837397749018372398"
    sig = ch.wx_signature(WX_TOKEN, timestamp, nonce)
    with ch.client_for(ctx) as client:
        good = client.get(
            "/webhooks/wechat",
            params={"signature": sig, "timestamp": timestamp, "nonce": nonce, "echostr": echostr},
        )
        bad = client.get(
            "/webhooks/wechat",
            params={"signature": "f" * 40, "timestamp": timestamp, "nonce": nonce, "echostr": echostr},
        )
        none = client.get("/webhooks/wechat", params={"echostr": echostr})
    assert good.status_code == 200 and good.text == echostr
    assert bad.status_code == 403 and none.status_code == 403 and echostr not in bad.text


@pytest.mark.parametrize("mode", ["plain", "aes"])
def test_W2_bad_signature_or_msg_signature_is_rejected_and_nothing_stored(
    ctx: BotContext, db: Session, aes_key: str, mode: str
) -> None:
    with ch.client_for(ctx) as client:
        res = ch.wx_post(
            client,
            ch.fixture("wechat_text.xml"),
            aes_key=aes_key if mode == "aes" else None,
            bad_signature=True,
        )
    assert res.status_code == 403 and ch.stored(db) == 0


def test_W2_a_plaintext_signature_does_not_pass_in_safe_mode(
    ctx: BotContext, db: Session, aes_key: str
) -> None:
    """Safe mode is checked on msg_signature over the ciphertext; a valid plain signature is not enough."""
    with ch.client_for(ctx) as client:
        res = ch.wx_post(client, ch.fixture("wechat_text.xml"), aes_key=aes_key, token="another-token")
    assert res.status_code == 403 and ch.stored(db) == 0


def test_W3_wrong_appid_after_decryption_is_rejected(ctx: BotContext, db: Session, aes_key: str) -> None:
    with ch.client_for(ctx) as client:
        res = ch.wx_post(client, ch.fixture("wechat_text.xml"), aes_key=aes_key, app_id="wxSOMEONEELSE00000")
        wrong_key = ch.wx_post(client, ch.fixture("wechat_text.xml"), aes_key=random_aes_key())
    assert res.status_code == 403 and wrong_key.status_code == 403 and ch.stored(db) == 0


@pytest.mark.parametrize("name", ["wechat_malformed.xml", "wechat_no_msgtype.xml", "wechat_unknown.xml"])
@pytest.mark.parametrize("mode", ["plain", "aes"])
def test_W7_malformed_xml_missing_or_unknown_msgtype_is_answered_success(
    ctx: BotContext, db: Session, aes_key: str, name: str, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.wechat")
    with ch.client_for(ctx) as client:
        res = ch.wx_post(client, ch.fixture(name), aes_key=aes_key if mode == "aes" else None)
    assert res.status_code == 200 and res.text == "success" and ch.stored(db) == 0
    assert "{" not in res.text
    logged = [r for r in caplog.records if r.name == "bot.wechat" and r.levelno >= logging.INFO]
    assert logged, "a malformed or unknown WeChat message is logged"


@pytest.mark.parametrize("mode", ["plain", "aes"])
def test_W8_doctype_or_entities_are_rejected(ctx: BotContext, db: Session, aes_key: str, mode: str) -> None:
    with ch.client_for(ctx) as client:
        res = ch.wx_post(client, ch.fixture("wechat_doctype.xml"), aes_key=aes_key if mode == "aes" else None)
    assert res.status_code == 400 and "lol" not in res.text and ch.stored(db) == 0


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("missing", 403),
        ("garbage", 403),
        ("other token", 403),
        ("other url", 403),
        ("tampered body", 403),
    ],
)
def test_S1_bad_or_missing_twilio_signature_is_403_and_nothing_stored(
    ctx: BotContext, db: Session, case: str, status: int
) -> None:
    params = ch.tw_params()
    with ch.client_for(ctx) as client:
        if case == "missing":
            res = ch.tw_post(client, params, signature="")
        elif case == "garbage":
            res = ch.tw_post(client, params, signature="bm90IGEgc2lnbmF0dXJl")
        elif case == "other token":
            res = ch.tw_post(client, params, token="another-auth-token-0123456789ab")
        elif case == "other url":  # signed for the internal address, not the public one
            res = ch.tw_post(client, params, url="http://testserver/webhooks/twilio/sms")
        else:
            from twilio.request_validator import RequestValidator

            from tests.bot.conftest import TW_TOKEN

            sig = RequestValidator(TW_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio/sms", params)
            res = ch.tw_post(client, {**params, "Body": "改过的"}, signature=sig)
    assert res.status_code == status and ch.stored(db) == 0


def test_S1_malformed_form_is_400_after_the_signature(ctx: BotContext, db: Session) -> None:
    params = {k: v for k, v in ch.tw_params().items() if k not in ("MessageSid", "SmsMessageSid", "SmsSid")}
    with ch.client_for(ctx) as client:
        res = ch.tw_post(client, params)
        json_body = client.post("/webhooks/twilio/sms", json={"Body": "x"})
        not_utf8 = client.post("/webhooks/twilio/sms", content=b"Body=\xff\xfe&From=%2B8613900000001",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert res.status_code == 400 and json_body.status_code == 400 and ch.stored(db) == 0
    assert not_utf8.status_code == 400


def test_S2_unknown_extra_form_fields_through_the_webhook_are_accepted(world: World, db: Session) -> None:
    params = ch.tw_params(
        AddOns='{"status":"successful"}', MessagingServiceSid="MG" + "1" * 32, SomethingNew2031="yes"
    )
    with world.client() as client:
        res = ch.tw_post(client, params)  # signed over every field, the unknown ones included
        dropped = ch.tw_post(
            client,
            {k: v for k, v in params.items() if k != "SomethingNew2031"},
            signature=RequestValidator(TW_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio/sms", params),
        )
    assert res.status_code == 200 and ch.twiml_messages(res) and ch.stored(db) == 1
    assert dropped.status_code == 403  # a field removed after signing breaks the signature


def test_S2_unknown_extra_form_fields_are_signed_too_and_still_valid(ctx: BotContext) -> None:
    from bot.sms import TwilioProvider
    from tests.bot.conftest import TW_TOKEN

    params = ch.tw_params(
        AddOns='{"status":"successful"}', MessagingServiceSid="MG" + "1" * 32, SomethingNew2031="yes"
    )
    url = PUBLIC + "/webhooks/twilio/sms"
    from twilio.request_validator import RequestValidator

    sig = RequestValidator(TW_TOKEN).compute_signature(url, params)
    provider = TwilioProvider(TW_TOKEN)
    assert provider.verify(url, params, {"x-twilio-signature": sig})
    assert not provider.verify(
        url, {k: v for k, v in params.items() if k != "SomethingNew2031"}, {"x-twilio-signature": sig}
    )


def test_S8_status_callbacks_duplicated_or_out_of_order_only_move_forward(
    ctx: BotContext, db: Session, clock: FrozenClock
) -> None:
    rid = h.queue(db, clock(), "sms", "+8613812345678", "已受理")
    with ch.client_for(ctx) as client:
        from bot import outbox

        outbox.claim_due(db, now=clock(), channels=["sms"])
        outbox.record_provider_id(db, rid, "SM22222222222222222222222222222222", now=clock())
        seen = []
        for status in ["sent", "delivered", "sent", "queued", "delivered"]:
            res = ch.tw_post(
                client,
                ch.tw_params("twilio_status.txt", MessageStatus=status, SmsStatus=status),
                path="/webhooks/twilio/status",
            )
            assert res.status_code == 204
            seen.append(h.row(db, rid).provider_status)
        bad = ch.tw_post(
            client,
            ch.tw_params("twilio_status.txt", MessageStatus="failed"),
            path="/webhooks/twilio/status",
            signature="bad",
        )
    assert seen == ["sent", "delivered", "delivered", "delivered", "delivered"]
    assert bad.status_code == 403 and h.row(db, rid).status == OutboxStatus.SENT


def test_S8_an_unknown_message_sid_changes_nothing(ctx: BotContext, db: Session, clock: FrozenClock) -> None:
    rid = h.queue(db, clock(), "sms", "+8613812345678", "x")
    apply_status(ctx, StatusUpdate("SMunknown", "delivered", None, None))
    assert h.row(db, rid).provider_status is None and h.row(db, rid).status == OutboxStatus.PENDING


def test_an_unconfigured_channel_answers_404(
    bot_settings: object, session_factory: object, clock: FrozenClock
) -> None:
    from fastapi.testclient import TestClient

    from bot.context import BotContext as Ctx

    bare = bot_settings.model_copy(
        update={
            "telegram_bot_token": None,
            "wechat_token": None,  # type: ignore[attr-defined]
            "twilio_auth_token": None,
            "web_simulator": False,
        }
    )
    app = ch.app_for(Ctx(settings=bare, sessions=session_factory, clock=clock))  # type: ignore[arg-type]
    with TestClient(app) as client:
        assert client.post("/webhooks/telegram", json={}).status_code == 404
        assert client.get("/webhooks/wechat").status_code == 404
        assert client.post("/webhooks/twilio/sms").status_code == 404
        assert client.post("/webhooks/web", json={}).status_code == 404


def test_wechat_signature_matches_the_documented_algorithm() -> None:
    from bot.wechat import signature

    expected = hashlib.sha1("".join(sorted(["tok", "123", "abc"])).encode()).hexdigest()
    assert signature("tok", "123", "abc") == expected


def test_S8_a_delivery_failure_reported_before_the_send_was_recorded_is_kept(
    ctx: BotContext, db: Session, clock: FrozenClock
) -> None:
    from bot import outbox

    first, second = (h.queue(db, clock(), "sms", f"+86138123456{i:02d}", "已受理") for i in range(2))
    claimed = {c.id: c for c in outbox.claim_due(db, now=clock(), channels=["sms"])}
    lease = clock() + outbox.LEASE
    sid = {first: "SM" + "5" * 32, second: "SM" + "6" * 32}
    with ch.client_for(ctx) as client:  # Twilio's callbacks outran the dispatcher's records
        for rid in (first, second):
            path = f"/webhooks/twilio/status?outbox={rid}&part=0"
            params = ch.tw_params("twilio_status.txt", MessageSid=sid[rid], SmsSid=sid[rid],
                                  MessageStatus="undelivered", SmsStatus="undelivered", ErrorCode="30003")
            assert ch.tw_post(client, params, path=path).status_code == 204
    outbox.record_provider_id(db, first, sid[first], now=clock(), parts_sent=1)  # the reading way
    with ctx.engine.connect() as raw:  # and the one-statement way, the callback's id already the row's
        conn = raw.execution_options(isolation_level="AUTOCOMMIT")
        extra = {**claimed[second].extra, "provider_ids": [sid[second]], "parts_sent": 1}
        assert outbox.record_held(conn, claimed[second], sid[second], lease_until=lease, extra=extra,
                                  was=sid[second], now=clock(), done=True)
    for rid in (first, second):
        got = h.row(db, rid)
        assert (got.status, got.provider_status, got.error_code) == (
            OutboxStatus.SENT, "undelivered", "twilio:30003"
        )
