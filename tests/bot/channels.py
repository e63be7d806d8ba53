"""Client-side helpers speaking each platform's wire format: signed Telegram, WeChat and Twilio requests."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import xmltodict
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from wechatpy.crypto import WeChatCrypto

from bot import runtime
from bot.context import BotContext
from cases.models import InboundMessage as InboundRow
from tests.bot.conftest import PUBLIC, TG_SECRET, TW_TOKEN, WX_APPID, WX_TOKEN

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def app_for(ctx: BotContext) -> FastAPI:
    app = FastAPI()
    runtime.mount(app, ctx)
    return app


def client_for(ctx: BotContext) -> TestClient:
    return TestClient(app_for(ctx), base_url="http://testserver")


def stored(db: Session) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(InboundRow)) or 0)


# --- Telegram --------------------------------------------------------------------------------------


def tg_update(name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(fixture(name))
    data.update(changes)
    return data


def tg_post(
    client: TestClient,
    update: dict[str, Any] | bytes,
    *,
    secret: str | None = TG_SECRET,
    content_type: str = "application/json",
) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = update if isinstance(update, bytes) else json.dumps(update, ensure_ascii=False).encode()
    return client.post("/webhooks/telegram", content=body, headers=headers)


def tg_text(chat_id: int, update_id: int, text: str, message_id: int | None = None) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id or update_id,
            "date": 1772416800,
            "text": text,
            "from": {"id": chat_id, "is_bot": False, "first_name": "建国"},
            "chat": {"id": chat_id, "first_name": "建国", "type": "private"},
        },
    }


# --- WeChat ----------------------------------------------------------------------------------------


def wx_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def wx_text(openid: str, msg_id: int, text: str, create_time: int = 1772416800) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[gh_shenbao0001]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
        f"</FromUserName><CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def wx_post(
    client: TestClient,
    xml: bytes,
    *,
    aes_key: str | None = None,
    token: str = WX_TOKEN,
    app_id: str = WX_APPID,
    bad_signature: bool = False,
) -> httpx.Response:
    """POST as WeChat does: plaintext (signature) or safe mode (encrypt_type=aes, msg_signature)."""
    timestamp, nonce = "1772416800", secrets.token_hex(5)
    if aes_key is None:
        sig = wx_signature(token, timestamp, nonce)
        if bad_signature:
            sig = "0" * 40
        query = {"signature": sig, "timestamp": timestamp, "nonce": nonce, "openid": "oFAKE"}
        return client.post(
            "/webhooks/wechat?" + urlencode(query), content=xml, headers={"Content-Type": "text/xml"}
        )
    crypto = WeChatCrypto(token, aes_key, app_id)
    sealed = xmltodict.parse(crypto.encrypt_message(xml.decode(), nonce, timestamp))["xml"]
    msg_signature = "0" * 40 if bad_signature else sealed["MsgSignature"]
    body = (
        f"<xml><ToUserName><![CDATA[gh_shenbao0001]]></ToUserName>"
        f"<Encrypt><![CDATA[{sealed['Encrypt']}]]></Encrypt></xml>"
    ).encode()
    query = {
        "signature": wx_signature(WX_TOKEN, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": msg_signature,
        "openid": "oFAKE",
    }
    return client.post(
        "/webhooks/wechat?" + urlencode(query), content=body, headers={"Content-Type": "text/xml"}
    )


def wx_reply(response: httpx.Response, *, aes_key: str | None = None) -> dict[str, Any]:
    """The passive reply's fields (decrypting and checking the signature in safe mode)."""
    doc: dict[str, Any] = xmltodict.parse(response.text)["xml"]
    if aes_key is None:
        return doc
    crypto = WeChatCrypto(WX_TOKEN, aes_key, WX_APPID)
    inner = crypto.decrypt_message(response.text, doc["MsgSignature"], doc["TimeStamp"], doc["Nonce"])
    parsed: dict[str, Any] = xmltodict.parse(inner)["xml"]
    return parsed


# --- Twilio ----------------------------------------------------------------------------------------


def tw_params(name: str = "twilio_inbound.txt", **changes: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    params = dict(parse_qsl(fixture(name).decode(), keep_blank_values=True))
    params.update(changes)
    return params


def tw_sms(phone: str, sid: str, body: str) -> dict[str, str]:
    return tw_params(From=phone, MessageSid=sid, SmsMessageSid=sid, SmsSid=sid, Body=body)


def tw_post(
    client: TestClient,
    params: dict[str, str],
    *,
    path: str = "/webhooks/twilio/sms",
    signature: str | None = None,
    url: str | None = None,
    token: str = TW_TOKEN,
) -> httpx.Response:
    """POST a form signed with twilio's own RequestValidator over the public URL (or `signature`)."""
    signed_url = url or (PUBLIC + path)
    sig = (
        signature if signature is not None else RequestValidator(token).compute_signature(signed_url, params)
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sig:
        headers["X-Twilio-Signature"] = sig
    return client.post(path, content=urlencode(params).encode(), headers=headers)


def twiml_messages(response: httpx.Response) -> list[str]:
    doc = xmltodict.parse(response.text, force_list=("Message",))
    return [
        m if isinstance(m, str) else m.get("#text", "") for m in (doc["Response"] or {}).get("Message", [])
    ]
