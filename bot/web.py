"""The browser simulator: `POST /webhooks/web` (JSON) and a phone-sized chat page at `/`, no account.

The page keeps a random session id in localStorage (the user key) and a fresh id per message (the
external id), so a resend after a network hiccup is recognised as the same message.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import partial
from html import escape
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from bot import outbox
from bot.context import BotContext, pending_for, run_db_work
from bot.i18n import _
from cases.models import Channel
from conversations.messages import Attachment, InboundMessage

CHANNEL = Channel.WEB.value
_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_TYPE = re.compile(r"^[a-z]+/[a-z0-9.+-]{1,64}$")
MAX_FILE_BYTES = 10 * 1024 * 1024  # a phone photo at full resolution; larger ones are refused (400)
PAGE = Path(__file__).parent / "static" / "simulator.html"


def render_page(locale: str | None = None) -> str:
    """The simulator page with its few words translated."""
    words = {
        "title": _("Shenbao hardship report", locale),
        "subtitle": _("Try it here: no account needed", locale),
        "placeholder": _("Type here, or tap a numbered choice", locale),
        "send": _("Send", locale),
        "retry": _("The network is busy. Please send again.", locale),
        "hello": _("Hello", locale),
        "photo": _("Send a photo", locale),
        "photo_sent": _("[photo]", locale),
        "too_large": _("This file is too large (more than 10 MB).", locale),
    }
    html = PAGE.read_text(encoding="utf-8")
    for key, value in words.items():
        html = html.replace(f"@@{key}@@", escape(value))
    return html


def read_file(value: Any) -> Attachment | None:
    """A photo (or voice note, or PDF) picked in the page: {"content_type", "data" (base64)}; None if
    malformed or larger than MAX_FILE_BYTES. The dialogue checks the type it accepts and keeps the bytes."""
    if not isinstance(value, dict):
        return None
    content_type, data = value.get("content_type"), value.get("data")
    if not (isinstance(content_type, str) and _TYPE.match(content_type) and isinstance(data, str)):
        return None
    if len(data) > MAX_FILE_BYTES * 4 // 3 + 4:
        return None
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not raw or len(raw) > MAX_FILE_BYTES:
        return None
    major = content_type.split("/")[0]
    kind = "photo" if major == "image" else "voice" if major == "audio" else "document"
    return Attachment(kind=kind, content_type=content_type, data=raw, size=len(raw))


def _reply_json(rows: list[outbox.InlineRow]) -> list[dict[str, Any]]:
    return [{"text": r.body, "choices": list((r.extra or {}).get("choices") or [])} for r in rows]


_SESSION_RULE = "session: 8-64 letters, digits, - or _"


def _refused(message: str) -> JSONResponse:
    """400 in the shape of the API's errors (api.errors; bot does not import api)."""
    return JSONResponse({"reason": "bad_request", "message": message}, status_code=400)


def web_router(ctx: BotContext) -> APIRouter:
    """`GET /` (the page), `POST /webhooks/web` (one message), `GET /webhooks/web/poll` (notifications)."""
    router = APIRouter()

    @router.get("/", include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(render_page(ctx.settings.locale))

    @router.post("/webhooks/web", include_in_schema=False)
    async def message(request: Request) -> Response:
        try:
            data = await request.json()
        except ValueError:
            return _refused("the body is not JSON")
        if not isinstance(data, dict):
            return _refused("the body must be a JSON object")
        session, msg_id, text = data.get("session"), data.get("id"), data.get("text")
        if not (isinstance(session, str) and _ID.match(session)):
            return _refused(_SESSION_RULE)
        if not (isinstance(msg_id, str) and _ID.match(msg_id)):
            return _refused("id: 8-64 letters, digits, - or _ (one for each message)")
        if not (isinstance(text, str) and len(text) <= 4000):
            return _refused("text: a string of at most 4,000 characters")
        attachments: tuple[Attachment, ...] = ()
        if data.get("file") is not None:
            attachment = read_file(data["file"])
            if attachment is None:
                return _refused(f"file: an image, audio or document in base64, up to {MAX_FILE_BYTES} bytes")
            attachments = (attachment,)
        msg = InboundMessage(
            channel=CHANNEL, user_key=session, external_id=msg_id, text=text or None, received_at=ctx.now(),
            attachments=attachments,
        )
        replies = await run_db_work(ctx, partial(_handle, ctx, msg))
        if replies is None:
            return JSONResponse({"reason": "busy", "message": "busy, try again"}, status_code=503)
        return JSONResponse({"replies": replies})

    @router.get("/webhooks/web/poll", include_in_schema=False)
    async def poll(session: str = "") -> Response:
        if not _ID.match(session):
            return _refused(_SESSION_RULE)
        return JSONResponse({"replies": await run_db_work(ctx, partial(_pending, ctx, session))})

    return router


def _handle(ctx: BotContext, msg: InboundMessage) -> list[dict[str, Any]] | None:
    try:
        with ctx.sessions() as db:
            handled = ctx.handle(db, msg, inline=True)
            if handled.duplicate:
                return [
                    {"text": getattr(r, "text", str(r)), "choices": list(getattr(r, "choices", ()))}
                    for r in handled.replies
                ]
            rows = outbox.claim_inline(db, handled.outbox_ids, now=ctx.now())
            return _reply_json(rows) + _pending(ctx, msg.user_key)
    except Exception:  # noqa: BLE001 - the page retries with the same message id
        import logging

        logging.getLogger(__name__).exception("web message could not be handled")
        return None


def _pending(ctx: BotContext, session: str) -> list[dict[str, Any]]:
    """Notifications waiting for this browser (case opened, status changed ...), taken inline."""
    with ctx.sessions() as db:
        ids = [r.id for r in pending_for(db, channel=CHANNEL, user_key=session)]
        return _reply_json(outbox.claim_inline(db, ids, now=ctx.now())) if ids else []
