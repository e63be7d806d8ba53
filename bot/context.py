"""What every adapter is built with: the settings it reads, the database, the clock, and the hand-off
to the dialogue service (conversations.service), plus a few helpers every adapter shares."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.smstext import with_choices
from bot.spool import Spool
from cases.clock import Clock
from cases.db import LoopSessions, WriterTurn, another_process_writes, run_on_loop, writer_lock
from cases.models import InboundMessage as InboundRow
from cases.models import InboundStatus, Outbox
from conversations.messages import InboundMessage
from conversations.service import (
    InlineAnswer,
    Taken,
    handle_in_order,
    handle_inbound,
    process_inbound,
    record_inbound,
)

__all__ = ["BotContext", "Deadline", "Handled", "dead_letter", "finish_db_work", "keep_past_deadline",
           "pending_for", "run_db_work", "with_choices"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class BotSettings(Protocol):
    """The part of api.settings.Settings the channels read (bot may not import api)."""

    public_url: str
    secret_key: str
    telegram_bot_token: str | None
    telegram_secret_token: str | None
    telegram_api_url: str
    wechat_token: str | None
    wechat_app_id: str | None
    wechat_app_secret: str | None
    wechat_aes_key: str | None
    wechat_api_url: str
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_from: str | None
    web_simulator: bool
    locale: str
    db_threads: int
    db_in_flight: int
    spool_dir: Path


@dataclass(frozen=True)
class Handled:
    """What an adapter needs back from the service."""

    inbound_id: int | None
    duplicate: bool
    replies: Sequence[Any]
    outbox_ids: Sequence[int]
    answered_inline: bool = False


@dataclass
class BotContext:
    """Built once by api.app.create_app and handed to every router factory."""

    settings: BotSettings
    sessions: sessionmaker[Session]
    clock: Clock
    service_ctx: Any = None  # conversations.service.ServiceContext
    extras: dict[str, Any] = field(default_factory=dict)  # test seams: HTTP clients / transports
    spool: Spool | None = None  # webhook messages the database did not take before the deadline

    def now(self) -> datetime:
        return self.clock()

    @property
    def engine(self) -> Engine:
        bind = self.sessions.kw["bind"]
        assert isinstance(bind, Engine)
        return bind

    # --- the hand-off to conversations.service (the pinned interface) ---------------------------

    def handle(
        self, db: Session, msg: InboundMessage, *, inline: bool = False, answer: InlineAnswer | None = None
    ) -> Handled:
        """Store, dedupe, advance the dialogue and write replies to the outbox, in one transaction."""
        result = handle_inbound(db, msg, ctx=self.service_ctx, now=self.now(), inline=inline, answer=answer)
        return Handled(
            result.inbound_id,
            result.duplicate,
            list(result.replies),
            list(result.outbox_ids),
            result.answered_inline,
        )

    def record(self, db: Session, msg: InboundMessage) -> tuple[int, bool]:
        """Store the inbound message only (committed); (inbound id, duplicate)."""
        inbound_id, duplicate = record_inbound(db, msg, ctx=self.service_ctx, now=self.now())
        return int(inbound_id), bool(duplicate)

    def take(self, db: Session, msg: InboundMessage) -> Taken:
        """Store the message and handle it at once unless others of its contact wait (then: process each)."""
        return handle_in_order(db, msg, ctx=self.service_ctx, now=self.now())

    def process(self, db: Session, inbound_id: int, message: InboundMessage | None = None) -> None:
        """Handle a stored inbound message (the dialogue step, replies to the outbox)."""
        process_inbound(db, inbound_id, ctx=self.service_ctx, now=self.now(), message=message)

    def replay_spooled(self) -> int:
        """Hand every spooled message the database can take now to the service; the number stored."""
        if self.spool is None:
            return 0
        return self.spool.replay(self._store_spooled)

    def replay_before(self, msg: InboundMessage) -> list[int]:
        """Before `msg` is handled: its contact's spooled messages, so they keep their order. Returns the
        outbox ids of their replies (due now), which the route may answer inline ahead of `msg`'s own.
        Cheap when the spool is empty: every WeChat and SMS message calls it."""
        if self.spool is None or not self.spool.held(msg.channel, msg.user_key):
            return []
        written: list[int] = []

        def store(spooled: InboundMessage) -> None:
            written.extend(self._store_spooled(spooled).outbox_ids)

        # msg itself, kept at its first delivery and sent again by the platform now, is the caller's to handle
        self.spool.replay(store, only=(msg.channel, msg.user_key), skip=msg)
        return written

    def _store_spooled(self, spooled: InboundMessage) -> Handled:
        with self.sessions() as db:
            return self.handle(db, spooled)


_IN_FLIGHT: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary())
_LOOP_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _loop_gate() -> asyncio.Lock:
    """The running loop's queue for the writer turn: requests wait in it in arrival order."""
    loop = asyncio.get_running_loop()
    gate = _LOOP_GATES.get(loop)
    if gate is None:
        gate = _LOOP_GATES[loop] = asyncio.Lock()
    return gate


_RUNNING: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()


async def finish_db_work(seconds: float) -> int:
    """At shutdown: wait up to `seconds` for requests' database work still running on this loop (an
    SMS or WeChat message answered at its deadline goes on after its response; cancelled with the loop, its
    transaction would roll back a message the platform will not send again). Returns how many were left."""
    loop = asyncio.get_running_loop()
    pending = [task for task in _RUNNING if task.get_loop() is loop and not task.done()]
    if pending:
        await asyncio.wait(pending, timeout=seconds)
    left = sum(1 for task in pending if not task.done())
    if left:
        log.warning("shutdown: %d requests' database work still running", left)
    return left


def _in_flight(count: int) -> asyncio.Semaphore:
    """The running loop's bound on requests whose database work runs at once on it (PostgreSQL)."""
    by_count = _IN_FLIGHT.setdefault(asyncio.get_running_loop(), {})
    found = by_count.get(count)
    if found is None:
        found = by_count[count] = asyncio.Semaphore(count)
    return found


async def run_db_work(ctx: BotContext, work: Callable[[], T]) -> T:
    """Run a request's blocking database work (store, dialogue step, replies, commit).

    SQLite: right here on the event loop, holding this process's writer turn. The work is a few
    milliseconds of CPU under a lock every writer takes anyway, and worker threads would only add GIL
    hand-offs between them and the loop (SMS webhook at saturation: 2.6 ms of CPU a message on the
    loop, 3.8-5.0 ms when requests went to threads). Requests queue for the turn on the loop, in arrival
    order; while another thread of this process holds it (the dispatcher, the reminders sweep) a worker
    thread waits for it to be given back, and the first in the queue takes it.

    PostgreSQL, the server's sessions (cases.db.LoopSessions): on the loop too, in a greenlet whose
    statements wait for their round trips on the loop (asyncpg), at most `settings.db_in_flight`
    requests at once, the rest queued in arrival order. Against two worker threads: SMS webhook at
    saturation 1.9-2.2 ms of CPU a message instead of 2.7-2.8, 440-510 messages a second instead of 340
    (on asyncio psycopg; on asyncpg since, 1.63-1.66 ms and 578-589 a second).
    Another process writing SQLite (tried without waiting), or PostgreSQL on a plain factory (the CLI's):
    one of `settings.db_threads` worker threads, so the loop never waits on the database."""
    lock = writer_lock(ctx.engine)
    if lock is not None:
        async with _loop_gate():
            while not lock.acquire(blocking=False):
                await asyncio.to_thread(_wait_free, lock)
            try:
                if not another_process_writes(ctx.engine):
                    return work()
            finally:
                lock.release()
    if isinstance(ctx.sessions, LoopSessions):
        task = asyncio.current_task()
        if task is not None:  # waited for at shutdown (finish_db_work), not cancelled with the loop
            _RUNNING.add(task)
        try:
            async with _in_flight(ctx.settings.db_in_flight):
                return await run_on_loop(work)
        finally:
            _RUNNING.discard(task)  # type: ignore[arg-type]
    pool = _db_threads(ctx.settings.db_threads)
    in_context = partial(contextvars.copy_context().run, work)  # as asyncio.to_thread runs it
    return await asyncio.get_running_loop().run_in_executor(pool, in_context)


class Deadline:
    """Who was first at the webhook's deadline: the handler writing its replies as answered inline, or
    the route giving up and answering empty (then the rows stay pending for the dispatcher). Decided once,
    under a lock, so a reply is never both marked answered and left out of the response."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._outcome: str | None = None

    def claim(self) -> bool:
        """The handler: answer inline, unless the route gave up already."""
        with self._lock:
            self._outcome = self._outcome or "inline"
            return self._outcome == "inline"

    def expire(self) -> bool:
        """The route: give up on an inline answer, unless the handler claimed it already."""
        with self._lock:
            self._outcome = self._outcome or "late"
            return self._outcome == "late"


def _finished(_result: object) -> bool:
    return True


async def keep_past_deadline(
    ctx: BotContext, msg: InboundMessage, work: asyncio.Future[T], stored: Callable[[T], bool] = _finished
) -> bool:
    """The route answers its platform now (deadline passed, or the work failed) and the platform will not
    send `msg` again: keep it in the spool first (in a thread: a write and an fsync), and drop the file
    once `work` has stored it (`stored` tells from its result; by default, finishing without an error).
    False when the spool failed (a context built without one, as some tests' and benches', answers as if
    it had kept the message)."""
    spool = ctx.spool
    if spool is None:
        return True
    try:
        await asyncio.to_thread(spool.keep, msg)
    except OSError:
        log.exception("inbound message could not be spooled")
        return False

    def done(task: asyncio.Future[T]) -> None:
        if not task.cancelled() and task.exception() is None and stored(task.result()):
            spool.discard(msg)

    work.add_done_callback(done)
    return True


@cache
def _db_threads(count: int) -> ThreadPoolExecutor:
    """The process's threads for requests' database work (created on first use, one pool per size)."""
    return ThreadPoolExecutor(max_workers=count, thread_name_prefix="shenbao-db")


def _wait_free(lock: WriterTurn) -> None:
    """Block (off the loop) until `lock` is free; the caller then takes it on its own thread."""
    with lock:
        pass


def dead_letter(ctx: BotContext, inbound_id: int, error: BaseException) -> None:
    """Mark a stored inbound message as failed (kept for staff; never thrown back at the platform)."""
    with ctx.sessions() as db:
        row = db.get(InboundRow, inbound_id)
        if row is not None and row.status != InboundStatus.HANDLED:
            row.status = InboundStatus.DEAD
            row.error = type(error).__name__  # no message: a database error's carries the row's values
            db.commit()


def pending_for(db: Session, *, channel: str, user_key: str) -> list[Outbox]:
    """Rows still waiting for this address (for the web page that polls)."""
    from cases.models import OutboxStatus, open_status

    return list(
        db.scalars(
            select(Outbox)
            .where(  # open_status: through ix_outbox_open, not the address's whole history
                Outbox.channel == channel,
                Outbox.to == user_key,
                open_status(Outbox.status),
                Outbox.status == OutboxStatus.PENDING,
            )
            .order_by(Outbox.id)
        )
    )
