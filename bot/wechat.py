"""WeChat official account: URL verification, plaintext and safe (AES) mode, a passive XML reply inside
WeChat's 5-second deadline (else "success" and the answer by 客服消息 through the outbox), MsgId and
event de-duplication (the unique inbound key), a welcome on subscribe, location offered as the village.

Signatures are compared in constant time here; wechatpy's PrpCrypto decrypts and checks the AppID.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx
import xmltodict
from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session, sessionmaker
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.replies import TextReply

from bot import outbox
from bot.context import BotContext, Deadline, keep_past_deadline, run_db_work, with_choices
from bot.dispatcher import PermanentFailure, TransientFailure
from bot.i18n import _
from bot.outbox import Claimed
from cases.clock import Clock
from cases.db import is_sqlite
from cases.models import Channel, ChannelState, ContactStatus
from conversations.messages import Attachment, InboundMessage
from conversations.service import InlineAnswer

log = logging.getLogger(__name__)

CHANNEL = Channel.WECHAT.value
DEADLINE_SECONDS = 4.0  # WeChat gives up at 5 s and retries; leave room for the network
RETRY_AFTER_SECONDS = 5.5  # an answer held this long is one WeChat gave up on: it sends the message again
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
TOKEN_ERRORS = {40001, 40014, 42001}
FALLBACK_ERRORS = {45015, 45047}  # 48-hour window closed / customer-service quota used up
UNREACHABLE_ERRORS = {43004}  # the user does not follow the account any more
MAX_TEXT = 600


class Rejected(Exception):
    """A request that must not be processed (bad signature, wrong AppID, DOCTYPE)."""


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_ok(given: str, *parts: str) -> bool:
    return hmac.compare_digest(given.encode(), signature(*parts).encode())


def has_dtd(xml: bytes) -> bool:
    """DOCTYPE or ENTITY declarations are refused outright (no entity expansion, W8)."""
    return bool(_DTD.search(xml))


def parse_xml(xml: bytes) -> dict[str, Any]:
    """The <xml> element as a dict; ValueError on anything else."""
    if has_dtd(xml):
        raise Rejected("DOCTYPE or ENTITY in XML")
    try:
        doc = xmltodict.parse(xml, disable_entities=True)
    except Exception as exc:  # noqa: BLE001 - expat raises several kinds
        raise ValueError("malformed XML") from exc
    root = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(root, dict):
        raise ValueError("no <xml> root")
    return root


def unwrap(ctx: BotContext, query: Mapping[str, str], body: bytes) -> tuple[dict[str, Any], bool]:
    """Verify and (safe mode) decrypt one POST: (fields, encrypted?); raises Rejected or ValueError."""
    token = ctx.settings.wechat_token or ""
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    if query.get("encrypt_type", "raw") == "aes":
        outer = parse_xml(body)
        encrypt = outer.get("Encrypt")
        if not isinstance(encrypt, str):
            raise ValueError("no Encrypt element")
        if not signature_ok(query.get("msg_signature", ""), token, timestamp, nonce, encrypt):
            raise Rejected("bad msg_signature")
        try:
            inner = PrpCrypto(_aes_key(ctx)).decrypt(encrypt, ctx.settings.wechat_app_id or "")
        except InvalidAppIdException as exc:
            raise Rejected("wrong AppID") from exc
        except Exception as exc:  # noqa: BLE001 - padding / base64 errors
            raise Rejected("cannot decrypt") from exc
        return parse_xml(inner.encode() if isinstance(inner, str) else inner), True
    if not signature_ok(query.get("signature", ""), token, timestamp, nonce):
        raise Rejected("bad signature")
    return parse_xml(body), False


def _aes_key(ctx: BotContext) -> bytes:
    import base64

    return base64.b64decode((ctx.settings.wechat_aes_key or "") + "=")


def to_inbound(ctx: BotContext, msg: dict[str, Any]) -> InboundMessage | str | None:
    """An InboundMessage, or "subscribe"/"unsubscribe" for those events, or None (nothing to do)."""
    kind = str(msg.get("MsgType") or "").lower()
    openid = str(msg.get("FromUserName") or "")
    if not kind or not openid:
        raise ValueError("MsgType and FromUserName are required")
    now = ctx.now()
    if kind == "event":
        event = str(msg.get("Event") or "").lower()
        if event in ("subscribe", "unsubscribe"):
            return event
        if event in ("click", "scan"):
            ext = f"ev:{openid}:{msg.get('CreateTime')}:{event}"
            return InboundMessage(
                channel=CHANNEL,
                user_key=openid,
                external_id=ext,
                text=str(msg.get("EventKey") or ""),
                received_at=now,
                raw={"event": event},
            )
        return None
    ext = str(msg.get("MsgId") or f"{openid}:{msg.get('CreateTime')}")
    text: str | None = None
    attachments: tuple[Attachment, ...] = ()
    if kind == "text":
        text = str(msg.get("Content") or "")
    elif kind == "image":
        attachments = (
            Attachment(
                kind="photo",
                content_type="image/jpeg",
                file_id=str(msg.get("MediaId") or ""),
                meta={"url": str(msg.get("PicUrl") or "")},
            ),
        )
    elif kind == "voice":
        text = str(msg.get("Recognition") or "") or None
        attachments = (
            Attachment(
                kind="voice",
                content_type=f"audio/{msg.get('Format') or 'amr'}",
                file_id=str(msg.get("MediaId") or ""),
            ),
        )
    elif kind == "location":
        label = str(msg.get("Label") or "")
        text = label or None  # offered as the village: the dialogue matches the label's place names
        attachments = (
            Attachment(
                kind="location",
                content_type="application/geo",
                meta={"lat": msg.get("Location_X"), "lon": msg.get("Location_Y"), "label": label},
            ),
        )
    else:
        log.info("wechat message of unknown type %r ignored", kind[:32])  # W7: logged, answered success
        return None
    return InboundMessage(
        channel=CHANNEL,
        user_key=openid,
        external_id=ext,
        text=text,
        received_at=now,
        attachments=attachments,
        raw={"kind": kind},
    )


def render_text(rows_bodies: list[tuple[str, list[str]]]) -> str:
    """Several replies become one passive text: numbered choices written out (no keyboards on WeChat)."""
    return "\n\n".join(with_choices(body, choices) for body, choices in rows_bodies)


def wechat_router(ctx: BotContext) -> APIRouter:
    """`GET|POST /webhooks/wechat`."""
    router = APIRouter()
    crypto = (
        WeChatCrypto(
            ctx.settings.wechat_token or "", ctx.settings.wechat_aes_key, ctx.settings.wechat_app_id or ""
        )
        if ctx.settings.wechat_aes_key
        else None
    )

    @router.get("/webhooks/wechat", include_in_schema=False)
    async def verify(request: Request) -> Response:
        q = request.query_params
        if not signature_ok(
            q.get("signature", ""),
            ctx.settings.wechat_token or "",
            q.get("timestamp", ""),
            q.get("nonce", ""),
        ):
            return Response(status_code=403)
        return Response(content=q.get("echostr", ""), media_type="text/plain")

    @router.post("/webhooks/wechat", include_in_schema=False)
    async def receive(request: Request) -> Response:
        body = await request.body()
        query = dict(request.query_params)
        try:
            msg, encrypted = unwrap(ctx, query, body)
        except Rejected as exc:
            log.info("wechat request rejected: %s", exc)
            return Response(status_code=403 if "XML" not in str(exc) else 400)
        except ValueError as exc:
            log.info("wechat request malformed: %s", exc)  # W7: logged, answered success
            return _success()
        try:
            inbound = to_inbound(ctx, msg)
        except ValueError as exc:
            log.info("wechat message unusable: %s", exc)
            return _success()
        if inbound is None:
            return _success()
        openid, account = str(msg.get("FromUserName")), str(msg.get("ToUserName") or "")
        if inbound == "unsubscribe":
            with ctx.sessions() as db:
                outbox.set_contact_status(
                    db, channel=CHANNEL, address=openid, status=ContactStatus.UNREACHABLE
                )
                db.commit()
            return _success()
        if inbound == "subscribe":
            text = _(
                "Welcome to Shenbao (申报). If your family has met a hardship, tell us here. "
                "Reply MENU for the menu."
            )
        else:
            assert isinstance(inbound, InboundMessage)
            got = await answer_within(ctx, inbound, DEADLINE_SECONDS)
            if got is None:
                return _success()  # W5: the outbox sends the answer by 客服消息
            text = got
        reply = TextReply(source=account, target=openid, content=text, time=int(time.time())).render()
        if encrypted and crypto is not None:
            reply = crypto.encrypt_message(reply, query.get("nonce", ""), query.get("timestamp"))
        return Response(content=reply, media_type="application/xml")

    return router


def _success() -> Response:
    return Response(content="success", media_type="text/plain")


async def answer_within(ctx: BotContext, msg: InboundMessage, seconds: float) -> str | None:
    """Hand off and answer in the passive reply if that finishes in time; None -> answer 'success'.
    The replies are written as sent in the handling transaction itself (one writer turn, one commit)
    unless the deadline passed first (W5: they stay pending and go out by 客服消息). A repeat (W4) takes
    the first delivery's replies if they are still waiting."""
    deadline = Deadline()
    loop = asyncio.get_running_loop()
    started = loop.time()

    def work() -> str | None:
        earlier = ctx.replay_before(msg)  # the contact's messages kept at an earlier deadline go first
        with ctx.sessions() as db:
            handled = ctx.handle(db, msg, answer=InlineAnswer(in_time=deadline.claim))
            if handled.answered_inline:
                kept = outbox.claim_inline(db, earlier, now=ctx.now())  # their replies first, in this answer
                return render_text([*_bodies(kept), *((r.text, list(r.choices)) for r in handled.replies)])
            if not handled.duplicate or not deadline.claim():
                return None
            rows = outbox.claim_inline(db, handled.outbox_ids, now=ctx.now())
            if not rows:
                return None
            return render_text(_bodies(rows))

    task = asyncio.ensure_future(run_db_work(ctx, work))
    try:
        return await asyncio.wait_for(asyncio.shield(task), timeout=seconds)
    except TimeoutError:
        if not deadline.expire():
            return await task  # the replies were just written as answered here: answer with them
    except Exception:  # noqa: BLE001 - the database failed: never a 5xx to WeChat (W5)
        log.exception("wechat message could not be handled")
    # "success" now, and WeChat will not send the message again: kept in the spool until it is stored
    if not await keep_past_deadline(ctx, msg, task):  # the spool failed: no answer in 5 s, so WeChat retries
        await asyncio.sleep(max(0.0, RETRY_AFTER_SECONDS - (loop.time() - started)))
    return None


def _bodies(rows: list[outbox.InlineRow]) -> list[tuple[str, list[str]]]:
    return [(r.body, list((r.extra or {}).get("choices") or [])) for r in rows]


# --- 客服消息 through the outbox ------------------------------------------------------------


class WeChatSender:
    """Customer-service messages; the token lives in channel_state, refreshed once and shared (W10)."""

    channel = CHANNEL

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        api_url: str,
        sessions: sessionmaker[Session],
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        self.api_url = api_url.rstrip("/")
        self.sessions, self.clock = sessions, clock
        self.http = httpx.AsyncClient(transport=transport, timeout=10.0)
        self.key = f"wechat:access_token:{app_id}"

    def parts(self, row: Claimed) -> list[str]:
        body = render_text([(row.body, list(row.extra.get("choices") or []))])
        return [body[i : i + MAX_TEXT] for i in range(0, len(body), MAX_TEXT)] or [""]

    def rate_keys(self, row: Claimed) -> list[tuple[str, timedelta]]:
        return [(f"rate:wechat:user:{row.to}", timedelta(seconds=0.5))]

    async def _fetch_token(self) -> tuple[str, int]:
        res = await self.http.get(
            f"{self.api_url}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret},
        )
        data = res.json()
        if "access_token" not in data:
            errcode = data.get("errcode")
            raise TransientFailure(f"wechat token: {errcode}", code=f"wechat:{errcode}")
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    async def token(self, *, stale: str | None = None) -> str:
        """The shared access token; with `stale`, refresh it unless another worker already has."""
        now = self.clock()
        with self.sessions() as db:
            row = db.get(ChannelState, self.key, with_for_update=not is_sqlite(db))
            if row is not None and row.value and row.value != stale and row.until and row.until > now:
                return row.value
            value, expires = await self._fetch_token()
            if row is None:
                row = ChannelState(key=self.key)
                db.add(row)
            row.value, row.until, row.updated_at = value, now + timedelta(seconds=expires - 300), now
            db.commit()
            return value

    async def _post(self, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            res = await self.http.post(
                f"{self.api_url}/cgi-bin/message/custom/send",
                params={"access_token": token},
                content=json.dumps(payload, ensure_ascii=False).encode(),
            )
            data: dict[str, Any] = res.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise TransientFailure(
                f"wechat transport: {type(exc).__name__}", code="wechat:transport", uncertain=True
            ) from exc
        return data

    async def send(self, row: Claimed, text: str, index: int) -> str:
        payload = {"touser": row.to, "msgtype": "text", "text": {"content": text}}
        token = await self.token()
        data = await self._post(token, payload)
        if int(data.get("errcode", 0)) in TOKEN_ERRORS:
            token = await self.token(stale=token)
            data = await self._post(token, payload)  # once; a second token error is an ordinary failure
        code = int(data.get("errcode", 0))
        if code == 0:
            return str(data.get("msgid") or f"kf:{row.id}:{index}")
        cause = f"wechat:{code}"  # the errcode, as wechatpy's WeChatClientException.errcode holds it
        if code in FALLBACK_ERRORS:
            raise PermanentFailure(f"wechat {code}", code=cause, fallback=True)
        if code in UNREACHABLE_ERRORS:
            raise PermanentFailure(
                f"wechat {code}", code=cause, contact_status=ContactStatus.UNREACHABLE, fallback=True
            )
        raise TransientFailure(f"wechat {code}", code=cause)

    async def lookup(self, row: Claimed) -> str | None:
        return None


def make_sender(ctx: BotContext) -> WeChatSender | None:
    s = ctx.settings
    if not (s.wechat_app_id and s.wechat_app_secret):
        return None
    return WeChatSender(
        app_id=s.wechat_app_id,
        app_secret=s.wechat_app_secret,
        api_url=s.wechat_api_url,
        sessions=ctx.sessions,
        clock=ctx.clock,
        transport=ctx.extras.get("wechat_transport"),
    )
