"""The dialogue service: store the inbound message, lock the contact, run the engine, apply the commands,
write the replies to the Outbox, commit once (design.md "A message's path", step 2).

- Idempotent on (channel, user_key, external_id): the unique constraint of `inbound_messages`; a repeat
  replays the stored replies and changes nothing.
- One message of a contact at a time, on any number of workers: the DialogueSession row is locked
  (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the transaction begins IMMEDIATE, which serialises
  writers).
- The state lives in the database (encrypted: it holds ID and phone numbers while a report is being
  filled in), so a dialogue survives a restart and may continue on another worker; after `ctx.dialogue_ttl`
  without a message it is set aside with a gentle note and can be taken up again.
- The inbound text is stored encrypted too (it may be an ID number); nothing a person typed is lost.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Insert, Row, Select, bindparam, literal_column, select, text, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cases import annex1
from cases.crypto import Vault, mask_phone
from cases.db import writer_turn
from cases.ids import normalize_phone
from cases.intake import pending_signatures
from cases.models import (
    OPEN_STATUSES,
    Base,
    Case,
    CaseStatus,
    Channel,
    Contact,
    ContactStatus,
    DialogueSession,
    Household,
    InboundStatus,
    Outbox,
    OutboxStatus,
    waiting_status,
)
from cases.models import (
    InboundMessage as InboundRow,
)
from cases.notify import Notifier, NullNotifier
from cases.prepared import Prepared
from conversations import engine
from conversations.apply import Applier
from conversations.commands import Command
from conversations.flows import cadre
from conversations.flows.common import Facts
from conversations.i18n import translator
from conversations.messages import Attachment, InboundMessage, Reply
from nlu.types import Parse

log = logging.getLogger(__name__)
MAX_COMMANDS = 20  # per message: commands may lead to more commands, never endlessly
INLINE_GRACE = timedelta(seconds=15)
TOUCH_EVERY = timedelta(minutes=1)  # how fresh a contact's last_inbound_at is kept

Parser = Callable[[str, Any], Parse]


def _default_parser(text: str, gazetteer: Any) -> Parse:
    import nlu

    parse: Parse = nlu.parse(text, gazetteer)
    return parse


@dataclass
class ServiceContext:
    """What the service needs besides the transaction; built once by the composition root (api)."""

    vault: Vault
    gazetteer: Any = None  # nlu.Gazetteer of the county's villages
    notifier: Notifier = field(default_factory=NullNotifier)
    locale: str = "zh_CN"
    dialogue_ttl: timedelta = timedelta(hours=24)
    paused_ttl: timedelta = timedelta(days=7)  # an unfinished flow set aside is forgotten after this
    parser: Parser = _default_parser
    lookup_limit: int = 5  # failed case look-ups / binding codes per contact per window (G7)
    lookup_window: timedelta = timedelta(hours=1)
    max_attachment_bytes: int = 20 * 1024 * 1024
    hotline: str = "12317"
    annex_version: str = annex1.CURRENT_VERSION


@dataclass(frozen=True)
class InlineAnswer:
    """The adapter answers in the webhook's own response (TwiML): the reply rows are written as sent in the
    handling transaction itself, unless the contact may not be written to (S6: they stay pending and the
    dispatcher fails them) or `in_time()` says the platform's deadline has passed (S4: the dispatcher
    sends them). `segments` is what one reply costs (SMS), stored with its row."""

    in_time: Callable[[], bool] = lambda: True
    segments: Callable[[Reply], int] | None = None


@dataclass(frozen=True)
class HandleResult:
    inbound_id: int
    duplicate: bool
    replies: list[Reply]
    outbox_ids: list[int]
    answered_inline: bool = False  # the replies were written as sent: the adapter must answer with them


# --- the entry points ---------------------------------------------------------------------------


def handle_inbound(db: Session, msg: InboundMessage, *, ctx: ServiceContext, now: datetime,
                   inline: bool = False, answer: InlineAnswer | None = None) -> HandleResult:
    """Store, handle and answer one message in one transaction; a repeat answers as before.

    `db` is a fresh session (a transaction already open on it is rolled back); the service commits.
    A handling error is dead-lettered (the message kept, an apology queued); a database that stays
    locked past SQLite's busy timeout raises OperationalError, so the adapter can answer with an
    error and the platform retries (G1)."""
    with writer_turn(db):
        return _handle_inbound(db, msg, ctx=ctx, now=now, inline=inline or answer is not None, answer=answer)


def _handle_inbound(db: Session, msg: InboundMessage, *, ctx: ServiceContext, now: datetime,
                    inline: bool, answer: InlineAnswer | None) -> HandleResult:
    _begin(db)
    inbound_id, duplicate, locked = _store_and_lock(db, msg, ctx, now)
    if duplicate:  # stored before (or by a twin just now): a new transaction, checked under the lock
        db.rollback()
        _begin(db)
    return _process_once(db, inbound_id, msg, ctx=ctx, now=now, inline=inline, answer=answer,
                         fresh=not duplicate, locked=locked)


def record_inbound(db: Session, msg: InboundMessage, *, ctx: ServiceContext,
                   now: datetime) -> tuple[int, bool]:
    """Store the message and commit (Telegram is answered 200 once this returns); (inbound_id, duplicate)."""
    with writer_turn(db):
        _begin(db)
        inbound_id, duplicate = _store(db, msg, ctx, now)
        db.commit()
    return inbound_id, duplicate


@dataclass(frozen=True)
class Taken:
    """What `handle_in_order` did with a message."""

    inbound_id: int
    duplicate: bool
    handled: bool  # False (and stored): other messages of the contact wait; the caller handles them in order


def handle_in_order(db: Session, msg: InboundMessage, *, ctx: ServiceContext, now: datetime) -> Taken:
    """Store the message; when no other message of its contact waits unhandled (the usual case), handle it
    in the same transaction, one commit (a failure dead-letters it: the message is kept either way).
    Otherwise commit the store and leave them all to the caller, who knows its channel's order (Telegram's
    update_id, T3) and hands each to `process_inbound`. A repeat changes nothing."""
    with writer_turn(db):
        _begin(db)
        inbound_id, duplicate, locked = _store_and_lock(db, msg, ctx, now, waiting=True)
        if duplicate:
            db.rollback()
            return Taken(inbound_id, duplicate=True, handled=False)
        assert locked is not None
        if not locked.others_waiting:
            try:
                result = _process_once(db, inbound_id, msg, ctx=ctx, now=now, inline=False, fresh=True,
                                       locked=locked)
            except Exception as exc:  # noqa: BLE001 - even the dead letter failed: keep the message, dead
                db.rollback()
                log.exception("dead-lettering failed (%s/%s)", msg.channel, type(exc).__name__)
                return Taken(_keep_dead(db, msg, ctx, now, exc), duplicate=False, handled=True)
            return Taken(result.inbound_id, duplicate=False, handled=True)
        db.commit()
    return Taken(inbound_id, duplicate=False, handled=False)


def _keep_dead(db: Session, msg: InboundMessage, ctx: ServiceContext, now: datetime, error: Exception) -> int:
    """Store the message as dead, nothing else (what the dead letter could not write: its apology)."""
    _begin(db)
    inbound_id, _ = _store(db, msg, ctx, now)
    db.connection().execute(_DEAD, {"row_id": inbound_id, "now": now, "error": type(error).__name__})
    db.commit()
    return inbound_id


def process_inbound(db: Session, inbound_id: int, *, ctx: ServiceContext, now: datetime,
                    inline: bool = False, message: InboundMessage | None = None) -> HandleResult:
    """Handle a stored message (once: a handled one replays its replies). `message` gives the attachments'
    bytes when the caller still has them; otherwise they are rebuilt from the stored payload."""
    if message is None:  # rebuilt from the stored row (its status is checked under the lock below)
        row = db.get(InboundRow, inbound_id)
        if row is None:
            raise LookupError(f"no inbound message {inbound_id}")
        message = _rebuild(row, ctx)
        db.rollback()
    msg = message
    with writer_turn(db):
        _begin(db)
        return _process_once(db, inbound_id, msg, ctx=ctx, now=now, inline=inline)


def _process_once(db: Session, inbound_id: int, msg: InboundMessage, *, ctx: ServiceContext, now: datetime,
                  inline: bool, answer: InlineAnswer | None = None, fresh: bool = False,
                  locked: _SessionRow | None = None) -> HandleResult:
    """Handle the message (a handled one replays its replies) and commit; a failure is dead-lettered.
    `fresh`: stored in this very transaction, so a failure rolls it back and the dead letter stores it.
    `locked`: the session row, when the caller has locked it already in this transaction."""
    try:
        result = _process(db, inbound_id, msg, ctx=ctx, now=now, inline=inline, fresh=fresh, answer=answer,
                          locked=locked)
        db.commit()
        return result
    except Exception as exc:
        db.rollback()
        log.exception("inbound handling failed (%s/%s)", msg.channel, type(exc).__name__)
        return _dead_letter(db, msg, ctx=ctx, now=now, error=exc, inline=inline, answer=answer,
                            inbound_id=None if fresh else inbound_id)


# --- storage, locking --------------------------------------------------------------------------------


def _begin(db: Session) -> None:
    """SQLite: take the write lock first (BEGIN IMMEDIATE), so the read-then-write below cannot fail
    half-way and contacts are served one at a time. PostgreSQL: the session row lock does that."""
    if db.in_transaction():
        db.rollback()
    conn = db.connection()
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        if raw is not None and not raw.in_transaction:
            _BEGIN_IMMEDIATE.run(conn, {})


_BEGIN_IMMEDIATE = Prepared(text("BEGIN IMMEDIATE"))
_INBOUND = Base.metadata.tables[InboundRow.__tablename__]
_SESSIONS = Base.metadata.tables[DialogueSession.__tablename__]
_OUTBOX = Base.metadata.tables[Outbox.__tablename__]
_CONTACTS = Base.metadata.tables[Contact.__tablename__]

_INBOUND_COLUMNS = ("channel", "user_key", "external_id", "received_at", "text", "payload", "status",
                    "replies")
# The hot path's statements, built once (building a statement costs more than running it on SQLite).
_STORE = {
    name: Prepared(insert(_INBOUND)
                   .on_conflict_do_nothing(index_elements=["channel", "user_key", "external_id"])
                   .returning(_INBOUND.c.id), columns=_INBOUND_COLUMNS)
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_FIND_INBOUND = select(_INBOUND.c.id).where(
    _INBOUND.c.channel == bindparam("channel"), _INBOUND.c.user_key == bindparam("user_key"),
    _INBOUND.c.external_id == bindparam("external_id"))
# The session row (the contact's lock) with the sender's Contact beside it, one statement: every message
# reads both. FOR UPDATE OF the session only (PostgreSQL locks no row of an outer join's nullable side).
_SESSION_COLUMNS = (_SESSIONS.c.id, _SESSIONS.c.state, _SESSIONS.c.expires_at,
                    _CONTACTS.c.id.label("contact_id"), _CONTACTS.c.household_id, _CONTACTS.c.staff_id,
                    _CONTACTS.c.status, _CONTACTS.c.last_inbound_at, _CONTACTS.c.display_name,
                    _CONTACTS.c.created_at)
_WITH_CONTACT = _SESSIONS.outerjoin(_CONTACTS, (_CONTACTS.c.channel == _SESSIONS.c.channel)
                                    & (_CONTACTS.c.external_id == _SESSIONS.c.user_key))
_SESSION_KEY = (_SESSIONS.c.channel == bindparam("channel"), _SESSIONS.c.user_key == bindparam("user_key"))
_SESSION_OF = Prepared(select(*_SESSION_COLUMNS).select_from(_WITH_CONTACT).where(*_SESSION_KEY)
                       .with_for_update(of=_SESSIONS))
# ... and, for a channel that keeps its own order (Telegram's update_id), whether another message of the
# contact waits unhandled: the same statement (handle_in_order asks this on every message)
_WAITING = (_INBOUND.c.channel == bindparam("channel"), _INBOUND.c.user_key == bindparam("user_key"),
            waiting_status(_INBOUND.c.status))  # through ix_inbound_waiting, not the contact's history
_OTHERS_WAITING = (select(_INBOUND.c.id).where(*_WAITING, _INBOUND.c.id != bindparam("row_id"))
                   .limit(1).scalar_subquery().label("waiting"))
_SESSION_AND_WAITING = Prepared(select(*_SESSION_COLUMNS, _OTHERS_WAITING).select_from(_WITH_CONTACT)
                                .where(*_SESSION_KEY).with_for_update(of=_SESSIONS))


def _store_and_lock_statement(waiting: bool) -> Select[Any]:
    """PostgreSQL: the message stored and the session locked (with its contact, and for handle_in_order the
    queue) in one statement: the INSERT a data-modifying CTE, the lock a sub-SELECT, both LEFT JOINed to one
    row, so the answer says both whether the message was new (stored_id) and whether the session exists
    (id). The CTE's new row is invisible to the rest of the statement, so the queue needs no "besides this
    one"."""
    values = {name: bindparam(f"in_{name}", type_=_INBOUND.c[name].type) for name in _INBOUND_COLUMNS}
    stored = (pg_insert(_INBOUND).values(values)
              .on_conflict_do_nothing(index_elements=["channel", "user_key", "external_id"])
              .returning(_INBOUND.c.id).cte("stored"))
    queue = select(_INBOUND.c.id).where(*_WAITING).limit(1).scalar_subquery().label("waiting")
    locked = (select(*_SESSION_COLUMNS, *((queue,) if waiting else ())).select_from(_WITH_CONTACT)
              .where(*_SESSION_KEY).with_for_update(of=_SESSIONS).subquery("locked"))
    one = select(literal_column("1").label("one")).subquery("one")
    return (select(stored.c.id.label("stored_id"), *locked.c)
            .select_from(one.outerjoin(stored, true()).outerjoin(locked, true())))


_STORE_AND_LOCK = {waiting: Prepared(_store_and_lock_statement(waiting)) for waiting in (False, True)}
_NEW_SESSION = {
    name: insert(_SESSIONS).on_conflict_do_nothing(index_elements=["channel", "user_key"])
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
# keyed by session_id and inbound_id (not row_id): _FINISH holds both
_SAVE_STATE = Prepared(update(_SESSIONS).where(_SESSIONS.c.id == bindparam("session_id")).values(
    state=bindparam("state"), updated_at=bindparam("now"), expires_at=bindparam("expires")))
_NEW_CONTACT = _CONTACTS.insert().returning(_CONTACTS.c.id)
_TOUCH_CONTACT = Prepared(update(_CONTACTS).where(_CONTACTS.c.id == bindparam("row_id")).values(
    last_inbound_at=bindparam("now")))
_OUTBOX_COLUMNS = ("channel", "to", "contact_id", "kind", "body", "extra", "dedupe_key", "inbound_id",
                   "status", "attempts", "next_attempt_at", "created_at", "sent_at", "provider_status",
                   "segments")
_ADD_REPLY = Prepared(_OUTBOX.insert().returning(_OUTBOX.c.id), columns=_OUTBOX_COLUMNS)
# several replies in one statement: the ids come back in no set order (SQLite gives RETURNING no order, and
# asking SQLAlchemy to sort them made it insert a row at a time), so each comes with its row's dedupe key
_ADD_REPLIES = _OUTBOX.insert().returning(_OUTBOX.c.id, _OUTBOX.c.dedupe_key)
_DEAD = update(_INBOUND).where(
    _INBOUND.c.id == bindparam("row_id"), _INBOUND.c.status != InboundStatus.HANDLED).values(
    status=InboundStatus.DEAD, error=bindparam("error"), handled_at=bindparam("now"))
_HANDLED = Prepared(update(_INBOUND).where(_INBOUND.c.id == bindparam("inbound_id")).values(
    status=InboundStatus.HANDLED, replies=bindparam("replies"), handled_at=bindparam("now")))


def _store(db: Session, msg: InboundMessage, ctx: ServiceContext, now: datetime) -> tuple[int, bool]:
    """Insert the message unless (channel, user_key, external_id) is stored already: (id, duplicate).
    INSERT ... ON CONFLICT DO NOTHING: a concurrent twin waits for the first to commit, then finds it."""
    conn = db.connection()
    values = _inbound_values(msg, ctx)
    new_id = _STORE[conn.dialect.name].scalar(conn, values)
    if new_id is not None:
        return int(new_id), False
    return _stored_id(conn, msg), True


def _inbound_values(msg: InboundMessage, ctx: ServiceContext) -> dict[str, Any]:
    text = ctx.vault.encrypt(msg.text) if msg.text is not None else None
    return {"channel": Channel(msg.channel), "user_key": msg.user_key, "external_id": msg.external_id,
            "received_at": msg.received_at, "text": text, "payload": _payload(msg),
            "status": InboundStatus.RECEIVED, "replies": []}


def _stored_id(conn: Connection, msg: InboundMessage) -> int:
    """The id of the message as stored before (a repeat)."""
    found = conn.execute(_FIND_INBOUND, {"channel": Channel(msg.channel), "user_key": msg.user_key,
                                         "external_id": msg.external_id}).scalar()
    assert found is not None
    return int(found)


def _store_and_lock(db: Session, msg: InboundMessage, ctx: ServiceContext, now: datetime, *,
                    waiting: bool = False) -> tuple[int, bool, _SessionRow | None]:
    """_store, then for a new message _lock_session (`waiting`: also whether another message of the contact
    waits): (inbound id, duplicate, the locked session row; None for a duplicate). On PostgreSQL one round
    trip when the contact has a session (every message but its first)."""
    conn = db.connection()
    if conn.dialect.name != "postgresql":
        inbound_id, duplicate = _store(db, msg, ctx, now)
        if duplicate:
            return inbound_id, True, None
        return inbound_id, False, _lock_session(db, msg, now, waiting_besides=inbound_id if waiting else None)
    params = {f"in_{name}": value for name, value in _inbound_values(msg, ctx).items()}
    params.update(channel=Channel(msg.channel), user_key=msg.user_key)
    row = _STORE_AND_LOCK[waiting].first(conn, params)  # one row, always (the LEFT JOINs' outer side)
    assert row is not None
    if row.stored_id is None:
        return _stored_id(conn, msg), True, None
    inbound_id = int(row.stored_id)
    if row.id is None:  # the contact's first message: the session is created, then locked
        return inbound_id, False, _lock_session(db, msg, now, waiting_besides=inbound_id if waiting else None)
    return inbound_id, False, _session_row(row, waiting)


def _payload(msg: InboundMessage) -> dict[str, Any]:
    """What is kept besides the text: attachment metadata (bytes go to Attachment rows), raw extras."""
    return {
        "text_encrypted": msg.text is not None,
        "display_name": msg.display_name,
        "attachments": [{"kind": a.kind, "content_type": a.content_type, "file_id": a.file_id,
                         "size": a.size if a.size is not None else (len(a.data) if a.data else None),
                         "meta": a.meta} for a in msg.attachments],
        "raw": msg.raw,
    }


def _rebuild(row: InboundRow, ctx: ServiceContext) -> InboundMessage:
    text = ctx.vault.decrypt(row.text) if row.text is not None else None
    payload = row.payload or {}
    attachments = tuple(
        Attachment(kind=a["kind"], content_type=a["content_type"], file_id=a.get("file_id"),
                   size=a.get("size"), meta=a.get("meta") or {})
        for a in payload.get("attachments", []))
    return InboundMessage(channel=str(row.channel), user_key=row.user_key, external_id=row.external_id,
                          text=text, received_at=row.received_at, attachments=attachments,
                          display_name=payload.get("display_name"), raw=payload.get("raw") or {})


@dataclass(frozen=True)
class Sender:
    """The sender's Contact as the message found it: what the handling reads of it on every message (a
    plain row: loading the ORM object cost twice the query). Commands that change the contact load it."""

    id: int
    household_id: int | None
    staff_id: int | None
    status: ContactStatus
    display_name: str | None
    created_at: datetime
    last_inbound_at: datetime | None

    def contact(self, msg: InboundMessage) -> Contact:
        """The Contact ORM object of this row (what a command that changes the contact works on)."""
        return Contact(id=self.id, channel=Channel(msg.channel), external_id=msg.user_key,
                       household_id=self.household_id, staff_id=self.staff_id, display_name=self.display_name,
                       status=self.status, last_inbound_at=self.last_inbound_at, created_at=self.created_at)


@dataclass
class _SessionRow:
    id: int
    state: dict[str, Any]
    expires_at: datetime | None
    contact: Sender | None  # the sender's Contact as the lock's statement read it; None: no contact yet
    contact_seen: datetime | None = None  # its last_inbound_at
    others_waiting: bool = False  # asked only by handle_in_order


def _lock_session(db: Session, msg: InboundMessage, now: datetime, *,
                  waiting_besides: int | None = None) -> _SessionRow:
    """The contact's session row, locked until commit (created on first contact), with the sender's
    contact; `waiting_besides`: also whether a message of the contact other than that one waits."""
    conn = db.connection()
    key: dict[str, Any] = {"channel": Channel(msg.channel), "user_key": msg.user_key}
    query = _SESSION_OF
    if waiting_besides is not None:
        query, key["row_id"] = _SESSION_AND_WAITING, waiting_besides
    row = query.first(conn, key)
    if row is None:
        # a concurrent first message of the same contact waits here for the other to commit
        conn.execute(_NEW_SESSION[conn.dialect.name], {
            "channel": key["channel"], "user_key": key["user_key"], "state": {}, "updated_at": now,
            "expires_at": None})
        row = query.first(conn, key)
    assert row is not None
    return _session_row(row, waiting_besides is not None)


def _session_row(row: Row[*tuple[Any, ...]], waiting: bool) -> _SessionRow:
    """The _SessionRow of a locking statement's answer (`waiting`: it has the queue's column)."""
    return _SessionRow(id=row.id, state=row.state or {}, expires_at=row.expires_at,
                       contact=None if row.contact_id is None else Sender(
                           id=row.contact_id, household_id=row.household_id, staff_id=row.staff_id,
                           status=ContactStatus(row.status), display_name=row.display_name,
                           created_at=row.created_at, last_inbound_at=row.last_inbound_at),
                       contact_seen=row.last_inbound_at,
                       others_waiting=waiting and row.waiting is not None)


def _contact(db: Session, msg: InboundMessage, now: datetime, session_row: _SessionRow) -> Sender:
    """The sender (read with the session's lock; created on the first message, under that lock)."""
    conn = db.connection()
    found = session_row.contact
    if found is None:  # first message: the session row's lock keeps a twin from inserting it too
        new_id = conn.execute(_NEW_CONTACT, {
            "channel": Channel(msg.channel), "external_id": msg.user_key, "display_name": msg.display_name,
            "status": ContactStatus.ACTIVE, "created_at": now, "last_inbound_at": now}).scalar_one()
        return Sender(id=int(new_id), household_id=None, staff_id=None, status=ContactStatus.ACTIVE,
                      display_name=msg.display_name, created_at=now, last_inbound_at=now)
    last = session_row.contact_seen
    if last is None or not now - TOUCH_EVERY < last <= now:  # to the minute: one write, not one a message
        _TOUCH_CONTACT.run(conn, {"row_id": found.id, "now": now})
        return replace(found, last_inbound_at=now)
    return found


def _load_state(row: _SessionRow | DialogueSession, vault: Vault) -> dict[str, Any]:
    stored = row.state or {}
    if "enc" in stored:
        state: dict[str, Any] = json.loads(vault.decrypt(stored["enc"]))
        return state
    return dict(stored)


def _saved_state(row: _SessionRow, state: dict[str, Any], vault: Vault, now: datetime,
                 ttl: timedelta) -> dict[str, Any]:
    """_SAVE_STATE's parameters: the state encrypted, its expiry."""
    return {"session_id": row.id, "now": now, "expires": now + ttl if state.get("flow") else None,
            "state": {"enc": vault.encrypt(json.dumps(state, ensure_ascii=False, sort_keys=True))}}


# --- the handling itself -------------------------------------------------------------------------------


def _process(db: Session, inbound_id: int, msg: InboundMessage, *, ctx: ServiceContext, now: datetime,
             inline: bool, fresh: bool = False, answer: InlineAnswer | None = None,
             locked: _SessionRow | None = None) -> HandleResult:
    session_row = locked or _lock_session(db, msg, now)
    if not fresh:
        status = db.scalar(select(InboundRow.status).where(InboundRow.id == inbound_id))
        if status is None:
            raise LookupError(f"no inbound message {inbound_id}")
        if status != InboundStatus.RECEIVED:  # handled meanwhile (a retry raced the original)
            row = db.get(InboundRow, inbound_id, populate_existing=True)
            assert row is not None
            return _replay(db, row)
    contact = _contact(db, msg, now, session_row)
    state = _load_state(session_row, ctx.vault)
    _forget_old_pause(state, now, ctx.paused_ttl)
    replies: list[Reply] = []
    # the household's case matters in a flow too: 查询 or 撤回 said in the middle of one are about it
    facts = _facts(db, ctx, channel=msg.channel, user_key=msg.user_key, now=now,
                   household_id=contact.household_id)
    if (session_row.expires_at is not None and now >= session_row.expires_at and state.get("flow")):
        expired = engine.expire(state, facts)
        state, replies = expired.state, list(expired.replies)
    parse = ctx.parser(_text_for_parser(msg), ctx.gazetteer)

    if contact.staff_id is not None:
        response = cadre.current()(cadre.CadreRequest(
            db=db, staff_id=contact.staff_id, contact_id=contact.id, message=msg, parse=parse, state=state,
            now=now, vault=ctx.vault, notifier=ctx.notifier, locale=ctx.locale))
        state, replies = response.state, replies + list(response.replies)
    else:
        step = engine.advance(state, msg, parse, facts)
        state, replies = step.state, replies + list(step.replies)
        state, more = _apply_all(db, ctx, contact, msg, now, state, list(step.commands), facts)
        replies += more
    if not replies:  # never silence (e.g. a cadre handler that had nothing to say)
        t = translator("conversations", ctx.locale)
        replies = [Reply(t.gettext("Sorry, I did not understand that."))]
    if contact.staff_id is None:
        state = engine.remember_choices(state, replies)

    sent = _answers_inline(answer, contact)
    saved = _saved_state(session_row, state, ctx.vault, now, ctx.dialogue_ttl)
    rows = _outbox_rows(msg, contact, inbound_id, replies, now, inline, answer=answer if sent else None)
    handled = {"inbound_id": inbound_id, "now": now, "replies": [_reply_json(r) for r in replies]}
    conn = db.connection()
    if conn.dialect.name == "postgresql":  # one round trip for the three writes (a reply at least)
        outbox_ids = _finish_in_one(conn, saved, rows, handled)
    else:
        _SAVE_STATE.run(conn, saved)
        outbox_ids = _insert_outbox(conn, rows)
        _HANDLED.run(conn, handled)
    return HandleResult(inbound_id=inbound_id, duplicate=False, replies=replies, outbox_ids=outbox_ids,
                        answered_inline=sent)


_SILENCED = (ContactStatus.OPTED_OUT, ContactStatus.UNREACHABLE)


def _answers_inline(answer: InlineAnswer | None, contact: Sender) -> bool:
    """Whether the replies go in the webhook's own response (and are written as sent)."""
    return answer is not None and contact.status not in _SILENCED and answer.in_time()


def _forget_old_pause(state: dict[str, Any], now: datetime, ttl: timedelta) -> None:
    paused_at = state.get("paused_at")
    if paused_at and now - datetime.fromisoformat(paused_at) > ttl:
        state.pop("paused", None)
        state.pop("paused_at", None)


def _text_for_parser(msg: InboundMessage) -> str:
    """The text, or a shared location's label (a WeChat location is offered as the village)."""
    if msg.text:
        return msg.text
    for a in msg.attachments:
        if a.kind == "location":
            return str(a.meta.get("label") or a.meta.get("address") or "")
    return ""


def _apply_all(db: Session, ctx: ServiceContext, contact: Sender, msg: InboundMessage, now: datetime,
               state: dict[str, Any], commands: list[Command],
               facts: Facts) -> tuple[dict[str, Any], list[Reply]]:
    applier = Applier(db=db, vault=ctx.vault, notifier=ctx.notifier, contact_id=contact.id, message=msg,
                      sender=contact.contact(msg) if commands else None,
                      now=now, lookup_limit=ctx.lookup_limit, lookup_window=ctx.lookup_window,
                      max_attachment_bytes=ctx.max_attachment_bytes)
    replies: list[Reply] = []
    applied = 0
    while commands and applied < MAX_COMMANDS:
        command = commands.pop(0)
        applied += 1
        result = applier(command)
        step = engine.resume(state, command, result, facts)
        state = step.state
        replies += step.replies
        commands += step.commands
    return state, replies


def _facts(db: Session, ctx: ServiceContext, *, channel: str, user_key: str, now: datetime,
           household_id: int | None = None) -> Facts:
    """What the engine is told about a contact: its channel's facts and, for a contact linked to a household
    (`household_id`), that household's latest case. The one construction of Facts."""
    linked = linked_open = unsigned = refused = False
    number: str | None = None
    on_record: str | None = None
    if household_id is not None:
        found = db.execute(select(Case, Household.phone_enc)
                           .join(Household, Household.id == Case.household_id)
                           .where(Case.household_id == household_id)
                           .order_by(Case.opened_at.desc(), Case.id.desc()).limit(1)).first()
        case, phone_enc = (found[0], found[1]) if found is not None else (None, None)
        on_record = mask_phone(ctx.vault.decrypt(phone_enc)) if phone_enc else None
        if case is not None:
            linked = True
            number = case.number
            linked_open = case.status in OPEN_STATUSES
            unsigned = linked_open and bool(pending_signatures(db=db, vault=ctx.vault, case=case))
            refused = case.status == CaseStatus.REFUSED
    known_phone = normalize_phone(user_key) if channel == Channel.SMS.value else None
    return Facts(channel=channel, now=now, locale=ctx.locale, known_phone=known_phone,
                 linked_case=number if linked else None, linked_case_open=linked_open,
                 linked_case_unsigned=unsigned, linked_case_refused=refused, phone_on_record=on_record,
                 annex_version=ctx.annex_version,
                 annex_text=annex1.text(ctx.annex_version), hotline=ctx.hotline, places=ctx.gazetteer)


# --- answers -------------------------------------------------------------------------------------------


def _reply_json(reply: Reply) -> dict[str, Any]:
    return {"text": reply.text, "choices": list(reply.choices)}


def _write_outbox(db: Session, msg: InboundMessage, contact: Sender, inbound_id: int, replies: list[Reply],
                  now: datetime, inline: bool, answer: InlineAnswer | None = None) -> list[int]:
    """One Outbox row per reply (in order), in the caller's transaction: pending, or sent when `answer`
    says the webhook's response carries them."""
    rows = _outbox_rows(msg, contact, inbound_id, replies, now, inline, answer)
    return _insert_outbox(db.connection(), rows)


def _outbox_rows(msg: InboundMessage, contact: Sender, inbound_id: int, replies: list[Reply], now: datetime,
                 inline: bool, answer: InlineAnswer | None = None) -> list[dict[str, Any]]:
    """The Outbox rows of the replies, in reply order (see _write_outbox)."""
    rows: list[dict[str, Any]] = []
    for i, reply in enumerate(replies):
        extra: dict[str, Any] = {"choices": list(reply.choices)}
        if inline:
            extra["inline"] = True
        rows.append(dict(
            channel=Channel(msg.channel), to=msg.user_key, contact_id=contact.id, kind="reply",
            body=reply.text, extra=extra, dedupe_key=f"in{inbound_id}:{i}", inbound_id=inbound_id,
            status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now + INLINE_GRACE if inline else now,
            created_at=now, sent_at=None, provider_status=None, segments=None))
        if answer is not None:
            rows[-1].update(status=OutboxStatus.SENT, sent_at=now, provider_status="inline",
                            segments=answer.segments(reply) if answer.segments is not None else None)
    return rows


def _insert_outbox(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the rows; their ids in the rows' order."""
    if not rows:
        return []
    if len(rows) == 1:
        return [int(_ADD_REPLY.scalar_one(conn, rows[0]))]
    ids = {key: int(row_id) for row_id, key in conn.execute(_ADD_REPLIES, rows)}
    return [ids[row["dedupe_key"]] for row in rows]


def _finish_statement() -> Insert:
    """PostgreSQL: the state saved, the message marked handled and its first reply written, one statement
    (two data-modifying CTEs before the INSERT), so a step's last writes are one round trip, not three.
    One row: SQLAlchemy caches no INSERT of several rows in VALUES, and compiling this one cost more than
    the round trips it saves."""
    row = {name: bindparam(f"out_{name}", type_=_OUTBOX.c[name].type) for name in _OUTBOX_COLUMNS}
    return (_OUTBOX.insert().values(row).add_cte(_SAVE_STATE.statement.cte("saved"))
            .add_cte(_HANDLED.statement.cte("handled"))
            .returning(_OUTBOX.c.id))


_FINISH = Prepared(_finish_statement())


def _finish_in_one(conn: Connection, saved: dict[str, Any], rows: list[dict[str, Any]],
                   handled: dict[str, Any]) -> list[int]:
    """_SAVE_STATE, _insert_outbox and _HANDLED on PostgreSQL: with the first reply in one statement, the
    others (annex 1's SMS parts) in a second; the ids in the rows' order."""
    params = {**saved, **handled, **{f"out_{name}": rows[0][name] for name in _OUTBOX_COLUMNS}}
    first = int(_FINISH.scalar_one(conn, params))
    return [first, *_insert_outbox(conn, rows[1:])]


def _replay(db: Session, inbound: InboundRow) -> HandleResult:
    replies = [Reply(text=r["text"], choices=tuple(r.get("choices", ()))) for r in inbound.replies or []]
    ids = list(db.scalars(select(Outbox.id).where(Outbox.inbound_id == inbound.id).order_by(Outbox.id)))
    return HandleResult(inbound_id=inbound.id, duplicate=True, replies=replies, outbox_ids=ids)


def _dead_letter(db: Session, msg: InboundMessage, *, ctx: ServiceContext, now: datetime, error: Exception,
                 inline: bool, inbound_id: int | None = None,
                 answer: InlineAnswer | None = None) -> HandleResult:
    """Handling failed: keep the message (dead), apologise, and let staff see it. Never silence."""
    _begin(db)
    if inbound_id is None:
        inbound_id, duplicate = _store(db, msg, ctx, now)
        if duplicate:
            row = db.get(InboundRow, inbound_id, populate_existing=True)
            if row is not None and row.status == InboundStatus.HANDLED:
                result = _replay(db, row)
                db.rollback()
                return result
    row = db.get(InboundRow, inbound_id, populate_existing=True)
    assert row is not None
    t = translator("conversations", ctx.locale)
    replies = [Reply(t.gettext("Sorry, something went wrong on our side. Your message is kept and staff "
                               "will look at it. You can also call {hotline}.").format(hotline=ctx.hotline))]
    contact = _contact(db, msg, now, _lock_session(db, msg, now))
    row.status = InboundStatus.DEAD
    row.error = type(error).__name__  # no message text: it could carry personal data
    row.replies = [_reply_json(r) for r in replies]
    row.handled_at = now
    sent = _answers_inline(answer, contact)
    ids = _write_outbox(db, msg, contact, inbound_id, replies, now, inline, answer=answer if sent else None)
    db.commit()
    return HandleResult(inbound_id=inbound_id, duplicate=False, replies=replies, outbox_ids=ids,
                        answered_inline=sent)


def question_under_way(db: Session, *, channel: str, user_key: str, ctx: ServiceContext,
                       now: datetime) -> list[Reply]:
    """The question a contact's dialogue waits on, asked again (none when no flow is under way). A question a
    command produces (annex 1, filled in by FillAnnex) is asked as the dialogue asks it (_ask_by_command)."""
    state = state_of(db, channel, user_key, ctx.vault)
    if not state.get("flow"):
        return []
    asked = engine.ask_again(state, _facts(db, ctx, channel=channel, user_key=user_key, now=now))
    if not asked.commands:
        return asked.replies
    return _ask_by_command(db, channel=channel, user_key=user_key, ctx=ctx, now=now)


def _ask_by_command(db: Session, *, channel: str, user_key: str, ctx: ServiceContext,
                    now: datetime) -> list[Reply]:
    """The question under way when a command produces it (annex 1 at the signing step: FillAnnex, which only
    reads): asked under the contact's lock, the command applied and its result handed back as for a message,
    and the state kept, so what was shown is what a signature is checked against (the filled text's hash:
    the date may have turned since) and the choices shown are the ones a typed answer is read against."""
    msg = InboundMessage(channel=channel, user_key=user_key, external_id="question-under-way", text=None,
                         received_at=now)
    with writer_turn(db):
        _begin(db)
        row = _lock_session(db, msg, now)
        contact = _contact(db, msg, now, row)
        state = _load_state(row, ctx.vault)
        facts = _facts(db, ctx, channel=channel, user_key=user_key, now=now,
                       household_id=contact.household_id)
        asked = engine.ask_again(state, facts)
        state, more = _apply_all(db, ctx, contact, msg, now, asked.state, list(asked.commands), facts)
        replies = [*asked.replies, *more]
        state = engine.remember_choices(state, replies)
        _SAVE_STATE.run(db.connection(), _saved_state(row, state, ctx.vault, now, ctx.dialogue_ttl))
        db.commit()
    return replies


def state_of(db: Session, channel: str, user_key: str, vault: Vault) -> dict[str, Any]:
    """The decrypted dialogue state of a contact (for tests, the simulator and support)."""
    row = db.scalar(select(DialogueSession).where(DialogueSession.channel == Channel(channel),
                                                  DialogueSession.user_key == user_key))
    return _load_state(row, vault) if row is not None else {}


__all__ = ["HandleResult", "ServiceContext", "Taken", "handle_in_order", "handle_inbound", "process_inbound",
           "question_under_way", "record_inbound", "state_of"]
