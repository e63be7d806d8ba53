"""SMS behind a provider interface, Twilio first.

Twilio cannot receive SMS from mainland China, so the route and the outbox speak to `SmsProvider`;
a domestic provider (registered signature and templates) implements the same five methods.
Inbound: signature checked against SHENBAO_PUBLIC_URL + path (S1), STOP/退订/TD and START handled at
the edge (S6), the dialogue answered inline as TwiML (S4). Outbound: the REST API through the outbox,
with a status callback that carries the outbox id (so a crash after the provider accepted a message
still ends with its id recorded, G2) and a look-up before any resend after a 5xx or timeout (S9).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache, partial
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlparse

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http import HttpClient
from twilio.request_validator import RequestValidator, add_port, remove_port
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot import outbox, smstext
from bot.context import BotContext, Deadline, keep_past_deadline, run_db_work, with_choices
from bot.dispatcher import PermanentFailure, RetryAfter, TransientFailure
from bot.i18n import _
from bot.outbox import Claimed
from cases.models import OPEN_OUTBOX, Channel, Contact, ContactStatus, Outbox, OutboxStatus
from conversations import service
from conversations.messages import Attachment, InboundMessage, Reply
from conversations.service import InlineAnswer

log = logging.getLogger(__name__)

CHANNEL = Channel.SMS.value
MAX_FORM_FIELDS = 1000  # as Starlette's form parser allows
DEADLINE_SECONDS = 10.0  # Twilio gives up at 15 s (error 11200) and does not retry; answer well inside
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "退订", "TD", "取消订阅"})
START_WORDS = frozenset({"START", "UNSTOP", "YES", "开通", "重新开通", "恢复"})  # 重新开通: our reply's word
HELP_WORDS = frozenset({"HELP", "INFO"})  # 帮助 goes to the dialogue, which helps in context
PER_NUMBER = timedelta(seconds=1)
# Twilio message statuses in the order they can happen; a callback never moves a row backwards (S8)
STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "failed": 4,
    "undelivered": 4,
    "delivered": 5,
    "read": 6,
    "canceled": 4,
}
PERMANENT_CODES = {21610: ContactStatus.OPTED_OUT, 21211: None, 21614: None, 21408: None, 21612: None}


@dataclass(frozen=True)
class StatusUpdate:
    provider_id: str
    status: str
    outbox_id: int | None
    error_code: int | None
    part: int = 0


class SmsProvider(Protocol):
    """What the SMS route and the outbox need from a provider."""

    def verify(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> bool: ...

    def parse_inbound(self, params: Mapping[str, str]) -> tuple[str, str, str, tuple[Attachment, ...]]:
        """(from, message id, text, attachments); raises ValueError when malformed."""
        ...

    def parse_status(self, params: Mapping[str, str], query: Mapping[str, str]) -> StatusUpdate: ...

    def render_reply(self, texts: list[str]) -> tuple[str, str]:
        """(body, media type) answering the inbound request."""
        ...


class _Form(dict[str, str]):
    """A form as RequestValidator reads a MultiDict (one value a field). Handed a plain dict, it tries
    `getall` and `getlist` first and falls back on each field's AttributeError: two exceptions a field."""

    def getall(self, name: str) -> list[str]:
        return [self[name]]


@lru_cache(maxsize=64)
def _signed_forms(url: str) -> tuple[str, ...]:
    """The forms of `url` Twilio may have signed, as RequestValidator.validate tries them: without the
    port, then with it (Twilio's signing is inconsistent about the port). Worked out once per URL."""
    parsed = urlparse(url)
    return tuple(dict.fromkeys((remove_port(parsed), add_port(parsed))))


class TwilioProvider:
    def __init__(self, auth_token: str) -> None:
        self.validator = RequestValidator(auth_token)

    def verify(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> bool:
        """RequestValidator.validate's check for a form (the library computes the signature), taken in
        turn: the second form of the URL is signed only when the first does not match, where validate
        signs both on every request, and the comparison is the standard library's constant-time one."""
        signature = headers.get("x-twilio-signature", "")
        if not signature:
            return False
        form = _Form(params)
        return any(
            hmac.compare_digest(self.validator.compute_signature(form_url, form).encode(), signature.encode())
            for form_url in _signed_forms(url)
        )

    def parse_inbound(self, params: Mapping[str, str]) -> tuple[str, str, str, tuple[Attachment, ...]]:
        sid, sender = params.get("MessageSid", ""), params.get("From", "")
        if not sid or not sender:
            raise ValueError("MessageSid and From are required")
        try:
            media = int(params.get("NumMedia", "0") or 0)
        except ValueError as exc:
            raise ValueError("NumMedia") from exc
        attachments = tuple(
            Attachment(
                kind="photo" if params.get(f"MediaContentType{i}", "").startswith("image/") else "document",
                content_type=params.get(f"MediaContentType{i}", "application/octet-stream"),
                file_id=params.get(f"MediaUrl{i}"),
            )
            for i in range(min(media, 10))
            if params.get(f"MediaUrl{i}")
        )
        return sender, sid, params.get("Body", ""), attachments

    def parse_status(self, params: Mapping[str, str], query: Mapping[str, str]) -> StatusUpdate:
        sid, status = params.get("MessageSid", ""), params.get("MessageStatus", "").lower()
        if not sid or not status:
            raise ValueError("MessageSid and MessageStatus are required")
        outbox_id = int(query["outbox"]) if query.get("outbox", "").isdigit() else None
        code = int(params["ErrorCode"]) if params.get("ErrorCode", "").isdigit() else None
        part = int(query["part"]) if query.get("part", "").isdigit() else 0
        return StatusUpdate(sid, status, outbox_id, code, part)

    def render_reply(self, texts: list[str]) -> tuple[str, str]:
        return _twiml(tuple(texts)), "application/xml"


@lru_cache(maxsize=1024)
def _twiml(texts: tuple[str, ...]) -> str:
    """The TwiML answering with these messages, made once for the same texts (prompts and menus repeat
    for every household; building the XML through twilio's MessagingResponse cost ~26 us an answer)."""
    response = MessagingResponse()
    for text in texts:
        response.message(text)
    return str(response)


class TwilioSender:
    """Outbox rows over Twilio's REST API; at most 8 segments a message, no URLs, 1/s per sending number."""

    channel = CHANNEL

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        public_url: str,
        http_client: HttpClient | None = None,
    ) -> None:
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.from_number = from_number
        self.public_url = public_url.rstrip("/")

    def parts(self, row: Claimed) -> list[str]:
        return smstext.split(with_choices(row.body, list(row.extra.get("choices") or [])))

    def rate_keys(self, row: Claimed) -> list[tuple[str, timedelta]]:
        return [(f"rate:sms:from:{self.from_number}", PER_NUMBER)]

    async def send(self, row: Claimed, text: str, index: int) -> str:
        callback = f"{self.public_url}/webhooks/twilio/status?outbox={row.id}&part={index}"

        def create() -> str:
            message = self.client.messages.create(
                to=row.to, from_=self.from_number, body=text, status_callback=callback
            )
            return str(message.sid)

        try:
            return await asyncio.to_thread(create)
        except (TwilioRestException, TwilioServiceException) as exc:  # the legacy and the RFC 9457 error body
            cause = f"twilio:{exc.code or exc.status}"  # Twilio's error code, else the HTTP status
            if exc.code in PERMANENT_CODES:
                raise PermanentFailure(
                    f"twilio {exc.code}", code=cause, contact_status=PERMANENT_CODES[exc.code]
                ) from exc
            if exc.status == 429:
                raise RetryAfter(1.0, "twilio 429", code=cause) from exc
            if exc.status >= 500:
                raise TransientFailure(f"twilio {exc.status}", code=cause, uncertain=True) from exc
            raise PermanentFailure(f"twilio {exc.status} {exc.code}", code=cause) from exc
        except (TwilioException, OSError) as exc:  # timeouts and connection errors: it may have gone out
            raise TransientFailure(
                f"twilio transport: {type(exc).__name__}", code="twilio:transport", uncertain=True
            ) from exc

    async def lookup(self, row: Claimed) -> str | None:
        """Find a message we may already have created (the REST create is not idempotent, S9)."""
        parts = self.parts(row)
        wanted = parts[int(row.extra.get("parts_sent", 0))] if parts else ""

        def find() -> str | None:
            for message in self.client.messages.list(to=row.to, from_=self.from_number, limit=20):
                created = message.date_created
                fresh = (
                    row.created_at is None
                    or created is None
                    or created >= row.created_at - timedelta(minutes=5)
                )
                if message.body == wanted and fresh:
                    return str(message.sid)
            return None

        try:
            return await asyncio.to_thread(find)
        except (TwilioException, OSError) as exc:
            raise TransientFailure(
                f"twilio lookup: {type(exc).__name__}", code="twilio:transport", uncertain=True
            ) from exc


def keyword(text: str) -> str | None:
    word = text.strip().upper().rstrip("。.!！")
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None


def set_consent(ctx: BotContext, phone: str, status: ContactStatus) -> None:
    """Opt a number out or back in: its contact row holds the state every sender checks (S6)."""
    now = ctx.now()
    with ctx.sessions() as db:
        contact = db.scalar(select(Contact).where(Contact.channel == CHANNEL, Contact.external_id == phone))
        if contact is None:
            contact = Contact(channel=Channel.SMS, external_id=phone, created_at=now, status=status)
            db.add(contact)
        contact.status = status
        contact.last_inbound_at = now
        db.commit()


def question_under_way(ctx: BotContext, phone: str) -> list[str]:
    """The question this number's dialogue waits on, as SMS parts (none when no dialogue is under way)."""
    with ctx.sessions() as db:
        replies = service.question_under_way(db, channel=CHANNEL, user_key=phone, ctx=ctx.service_ctx,
                                             now=ctx.now())
    return [p for r in replies for p in smstext.split(with_choices(r.text, list(r.choices)))]


def public_url_of(ctx: BotContext, request: Request) -> str:
    """The URL Twilio signed: the configured public base, our path, and the query string."""
    url = ctx.settings.public_url.rstrip("/") + request.url.path
    return url + (f"?{request.url.query}" if request.url.query else "")


def sms_router(ctx: BotContext, provider: SmsProvider | None = None) -> APIRouter:
    """`POST /webhooks/twilio/sms` (inbound, TwiML) and `POST /webhooks/twilio/status` (delivery)."""
    router = APIRouter()
    prov = provider or TwilioProvider(ctx.settings.twilio_auth_token or "")

    async def form_of(request: Request) -> dict[str, str] | None:
        if (
            request.headers.get("content-type", "").split(";")[0].strip()
            != "application/x-www-form-urlencoded"
        ):
            return None
        try:  # the stdlib parser: half the cost of Starlette's multipart-capable one (133 vs 69 us a form)
            return dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True,
                                  strict_parsing=False, max_num_fields=MAX_FORM_FIELDS))
        except (UnicodeDecodeError, ValueError):
            return None

    @router.post("/webhooks/twilio/sms", include_in_schema=False)
    async def inbound(request: Request) -> Response:
        params = await form_of(request)
        if params is None:
            return Response(status_code=400)
        if not prov.verify(public_url_of(ctx, request), params, request.headers):
            return Response(status_code=403)
        try:
            phone, sid, text, attachments = prov.parse_inbound(params)
        except ValueError:
            return Response(status_code=400)
        word = keyword(text)
        if word == "stop":
            set_consent(ctx, phone, ContactStatus.OPTED_OUT)
            return _reply(prov, [_("You will get no more messages from us. Reply START to come back.")])
        if word == "start":
            set_consent(ctx, phone, ContactStatus.ACTIVE)
            where = question_under_way(ctx, phone)  # answers sent meanwhile moved on unseen: where it is
            if where:
                return _reply(prov, [_("Welcome back. Let us go on where you were:"), *where])
            return _reply(prov, [_("Welcome back. Reply MENU for the menu.")])
        if word == "help":  # then the question under way, as 帮助 in the dialogue: the next reply answers it
            helped = _(
                "Shenbao: report a hardship or check your case. Reply MENU for the menu, "
                "TD to stop. Hotline 12317."
            )
            return _reply(prov, [helped, *question_under_way(ctx, phone)])
        msg = InboundMessage(
            channel=CHANNEL,
            user_key=phone,
            external_id=sid,
            text=text,
            received_at=ctx.now(),
            attachments=attachments,
        )
        deadline = Deadline()
        work = asyncio.ensure_future(run_db_work(ctx, partial(_handle, ctx, msg, deadline)))
        try:
            handled = await asyncio.wait_for(asyncio.shield(work), timeout=DEADLINE_SECONDS)
        except TimeoutError:
            if deadline.expire():  # S4: an empty answer in time; the dispatcher sends the replies by REST
                log.warning(
                    "sms inbound slower than %.0f s: replies go out through the outbox", DEADLINE_SECONDS
                )
                # Twilio will not send it again: kept in the spool until the work (or a replay) stores it
                if not await keep_past_deadline(ctx, msg, work, stored=lambda done: done is not None):
                    return Response(status_code=503)
                return _reply(prov, [])
            handled = await work  # the replies were just written as answered here: answer with them
        if handled is None:  # G1: an error, so Twilio retries (where its webhook retries are set up) or calls
            # the fallback URL; kept in the spool all the same, and stored from there if no retry comes
            await keep_past_deadline(ctx, msg, work, stored=lambda done: done is not None)
            return Response(status_code=503)
        return _reply(prov, handled)

    @router.post("/webhooks/twilio/status", include_in_schema=False)
    async def status(request: Request) -> Response:
        params = await form_of(request)
        if params is None:
            return Response(status_code=400)
        if not prov.verify(public_url_of(ctx, request), params, request.headers):
            return Response(status_code=403)
        try:
            update = prov.parse_status(params, request.query_params)
        except ValueError:
            return Response(status_code=400)
        apply_status(ctx, update)
        return Response(status_code=204)

    return router


def _handle(ctx: BotContext, msg: InboundMessage, deadline: Deadline | None = None) -> list[str] | None:
    """Hand off and answer in TwiML: the replies are written as sent in the handling transaction (one
    writer turn, one commit) unless the contact opted out (S6) or the route gave up waiting (S4); then
    the rows stay pending for the dispatcher. The texts come back split to <= 8 segments each."""
    split = _Split()
    answer = InlineAnswer(in_time=(deadline or Deadline()).claim, segments=split.segments)
    try:
        earlier = ctx.replay_before(msg)  # the contact's messages kept at an earlier deadline go first
        with ctx.sessions() as db:
            handled = ctx.handle(db, msg, answer=answer)
            kept = (  # their replies ahead of this one's, in this answer
                outbox.claim_inline(db, earlier, now=ctx.now(), segments=split.row_segments)
                if earlier and handled.answered_inline
                else []
            )
    except Exception:  # noqa: BLE001 - "database is locked" or worse: an error so Twilio retries (G1)
        log.exception("sms inbound could not be handled")
        return None
    if handled.duplicate:  # S3: the same answer again
        texts = [with_choices(r.text, list(r.choices)) for r in handled.replies]
        return [p for text in texts for p in smstext.split(text)]
    if not handled.answered_inline:
        return []
    earlier_parts = [p for row in kept for p in split.row_parts(row)]
    return [*earlier_parts, *(p for reply in handled.replies for p in split.parts(reply))]


class _Split:
    """A reply's SMS parts, split once: counted in the transaction, then put in the TwiML."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, tuple[str, ...]], list[str]] = {}

    def parts(self, reply: Reply) -> list[str]:
        key = (reply.text, tuple(reply.choices))
        if key not in self._done:
            self._done[key] = smstext.split(with_choices(reply.text, list(reply.choices)))
        return self._done[key]

    def segments(self, reply: Reply) -> int:
        return sum(smstext.segments(p) for p in self.parts(reply))

    def row_parts(self, row: outbox.InlineRow) -> list[str]:
        """An outbox row's parts (a reply written earlier, answered in this TwiML)."""
        return self.parts(Reply(row.body, tuple((row.extra or {}).get("choices") or ())))

    def row_segments(self, row: outbox.InlineRow) -> int:
        return sum(smstext.segments(p) for p in self.row_parts(row))


def _reply(provider: SmsProvider, texts: list[str]) -> Response:
    body, media_type = provider.render_reply(texts)
    return Response(content=body, media_type=media_type)


def apply_status(ctx: BotContext, update: StatusUpdate) -> None:
    """Record a delivery status; duplicates and late arrivals never move a row backwards (S8)."""
    with ctx.sessions() as db:
        row = db.scalar(select(Outbox).where(Outbox.provider_id == update.provider_id))
        if row is None and update.outbox_id is not None:
            row = db.get(Outbox, update.outbox_id)
            if row is not None:  # G2: the provider has it although we never recorded its id
                extra = dict(row.extra or {})
                extra["provider_ids"] = [*extra.get("provider_ids", []), update.provider_id]
                extra["parts_sent"] = max(int(extra.get("parts_sent", 0)), update.part + 1)
                row.extra = extra
                row.provider_id = row.provider_id or update.provider_id
        if row is None:
            return
        rank = STATUS_RANK.get(update.status, -1)
        if rank >= STATUS_RANK.get(row.provider_status or "", -1):
            row.provider_status = update.status
        if (
            row.status in OPEN_OUTBOX
            and rank >= STATUS_RANK["sent"]
            and update.status not in ("failed", "undelivered", "canceled")
        ):
            row.status = OutboxStatus.SENT
            row.sent_at = row.sent_at or ctx.now()
            row.claimed_until = None
        if update.status in ("failed", "undelivered"):
            # accepted, then not delivered (30003 handset off, 30007 carrier filtering ...): kept for the
            # console; the row stays sent (the provider has it) and is listed by its provider status
            code = update.error_code
            row.error_code = f"twilio:{code}" if code is not None else f"twilio:{update.status}"
            row.last_error = f"twilio {update.status} {code if code is not None else ''}".strip()
        if update.error_code in PERMANENT_CODES and PERMANENT_CODES[update.error_code] is not None:
            outbox.set_contact_status(
                db, channel=CHANNEL, address=row.to, contact_id=row.contact_id, status=ContactStatus.OPTED_OUT
            )
        db.commit()


def make_sender(ctx: BotContext) -> TwilioSender | None:
    s = ctx.settings
    if not (s.twilio_account_sid and s.twilio_auth_token and s.twilio_from):
        return None
    http: Any = ctx.extras.get("twilio_http_client")
    return TwilioSender(
        account_sid=s.twilio_account_sid,
        auth_token=s.twilio_auth_token,
        from_number=s.twilio_from,
        public_url=s.public_url,
        http_client=http,
    )
