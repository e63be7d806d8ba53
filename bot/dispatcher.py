"""The outbox dispatcher: claims due rows, sends each through its channel's Sender, records the result.

Order of things for one row (each step its own commit, so a crash anywhere loses nothing and, once a
provider id is known, sends nothing twice):
1. claim (lease), dropping instead a notice out of date by now (a reminder of a task done meanwhile);
2. a row that already has its provider id is simply marked sent (G2); a row whose last try may have
reached the provider is looked up first (S9); 3. reserve the rate slots; 4. send one part; 5. record the
provider id at once; repeat 3-5 for further parts; errors become backoff, a permanent failure (contact
marked), or dead after the cap (G3), with a fallback hook for the latter two.

When a rate limit is the bottleneck (a backlog for Telegram's 30 a second, one SMS number's one a second)
a round does not churn: it claims no more rows of a channel than the channel's shared slot lets go within
`horizon`; its sends queue for a slot in order, waiting for one that frees within `max_wait` (Telegram's
overall 1/30 s); a row whose slot is known busy for longer is not tried, and all such rows go back at the
end of the round in one statement, from the moment their slot frees, spread by its interval; the loop then
sleeps until the earliest of those moments. The slots themselves stay in the database (several processes
share them); what the dispatcher remembers of them is only a hint that saves asking.

A send's own database steps are one statement each on the round's autocommit connection: its rate slots
(outbox.take_free_slots) and its provider id (outbox.record_held, guarded by the claim). On PostgreSQL's
`serve` the rounds run on the server's event loop, their database work in greenlets on asyncpg (`on_loop`).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import outbox
from bot.outbox import Claimed
from cases.clock import Clock
from cases.db import engines_of, run_on_loop, writer_turn
from cases.models import ContactStatus, OutboxStatus

log = logging.getLogger(__name__)
T = TypeVar("T")


class SendError(Exception):
    """Base of what a Sender raises; the message must hold no phone or ID number. `code` is the structured
    cause stored with the row ("twilio:21610", "telegram:blocked", "wechat:45015"), which the console
    explains in plain words (api/console/failures.py)."""

    code: str | None = None


class PermanentFailure(SendError):
    """Never retried (blocked, opted out, window closed); may mark the contact and ask for a fallback."""

    def __init__(
        self,
        reason: str,
        *,
        code: str | None = None,
        contact_status: ContactStatus | None = None,
        fallback: bool = False,
    ):
        super().__init__(reason)
        self.code = code
        self.contact_status = contact_status
        self.fallback = fallback


class RetryAfter(SendError):
    """The provider asked us to wait (Telegram 429 retry_after); not counted as a failed attempt."""

    def __init__(self, seconds: float, reason: str = "rate limited", *, code: str | None = None):
        super().__init__(f"{reason}: retry after {seconds:g}s")
        self.seconds = seconds
        self.code = code


class TransientFailure(SendError):
    """Try again later with backoff; `uncertain` when the provider may have accepted it (timeout, 5xx)."""

    def __init__(self, reason: str, *, code: str | None = None, uncertain: bool = False):
        super().__init__(reason)
        self.code = code
        self.uncertain = uncertain


class Sender(Protocol):
    """One channel's way out. Implementations talk HTTP through an injectable client."""

    channel: str

    def parts(self, row: Claimed) -> list[str]:
        """The texts to send for this row, in order (split for the channel's length limits)."""
        ...

    def rate_keys(self, row: Claimed) -> list[tuple[str, timedelta]]:
        """Rate slots a single send takes: (key, interval between sends on that key)."""
        ...

    async def send(self, row: Claimed, text: str, index: int) -> str:
        """Send one part; return the provider's message id."""
        ...

    async def lookup(self, row: Claimed) -> str | None:
        """After an uncertain failure: the provider id if the provider already has this message."""
        ...


Fallback = Callable[[Session, Claimed, str, datetime], None]
"""Called (in a transaction the dispatcher commits) when a row failed permanently with fallback, or died."""

Sleep = Callable[[float], Awaitable[None]]
"""How the dispatcher waits (asyncio.sleep; tests pass one that moves their pinned clock)."""


MIN_PAUSE = 0.01  # seconds: a round that moved nothing never loops at once


@dataclass
class Round:
    """What one round did, for the loop that decides when the next one runs."""

    claimed: int = 0
    deferred: int = 0  # rows given back untried: a rate slot they need was busy
    dropped: int = 0  # due rows found out of date at the claim and dropped, not sent (outbox.claim)
    full: bool = False  # the batch, or a channel's share of it, was filled: more may be due now
    wake_at: datetime | None = None  # the earliest moment a given-back row or a held-back channel can go

    def pause(self, *, now: datetime, interval: float) -> float:
        """Seconds to wait before the next round: none after a full batch that moved, else until the
        earliest slot frees (at most `interval`); never zero when nothing moved."""
        moved = self.claimed - self.deferred + self.dropped
        if self.full and moved > 0:
            return 0.0
        wait = interval
        if self.wake_at is not None:
            wait = min(wait, max(0.0, (self.wake_at - now).total_seconds()))
        return wait if moved > 0 else max(wait, MIN_PAUSE)


async def run_rounds(
    step: Callable[[], Awaitable[Round]],
    *,
    clock: Clock,
    interval: float,
    stop: threading.Event | None,
    sleep: Sleep,
    name: str = "dispatcher",
) -> None:
    """Run `step` until `stop` is set, waiting between rounds as the last one's Round.pause says."""
    while stop is None or not stop.is_set():
        try:
            done = await step()
        except Exception:  # noqa: BLE001 - keep the loop alive (database briefly away ...)
            log.exception("%s round failed", name)
            done = Round()
        wait = done.pause(now=clock(), interval=interval)
        if wait > 0:
            await sleep(wait)


@dataclass
class _Batch:
    """One round's claim: when and under which lease it was taken, the rows to give back, and one lock a
    rate key so this round's sends queue for a slot in order instead of all asking the database."""

    started: datetime
    lease_until: datetime
    # the round's connection, in autocommit: a send's rate slots and its record are one statement each, one
    # round trip on PostgreSQL (a session's transaction costs a BEGIN and a COMMIT more, and a checkout)
    conn: Connection
    deferred: list[tuple[Claimed, datetime, list[tuple[str, timedelta]]]] = field(default_factory=list)
    wake: list[datetime] = field(default_factory=list)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    frozen: bool = False  # the clock stood still through a wait (a pinned test clock): wait no more

    def lock(self, key: str) -> asyncio.Lock:
        return self.locks.setdefault(key, asyncio.Lock())


@dataclass
class Dispatcher:
    """Sends the outbox. Rate slots live in the database (outbox.take_free_slots); what this dispatcher last
    learnt of them is kept only as a hint, so rows that cannot go yet are neither claimed nor tried."""

    sessions: sessionmaker[Session]
    senders: Sequence[Sender]
    clock: Clock
    fallback: Fallback | None = None
    batch: int = 50
    concurrency: int = 8
    max_attempts: int = outbox.MAX_ATTEMPTS
    sleep: Sleep = asyncio.sleep
    # a send waits inside its batch for a rate slot that frees within `max_wait` (Telegram's overall
    # 1/30 s), never for a longer one (a chat's second, an SMS number's): such a row is given back
    max_wait: timedelta = timedelta(milliseconds=100)
    horizon: timedelta = timedelta(seconds=2)  # how far ahead a batch paces its sends (lease: 60 s)
    lease: timedelta = outbox.LEASE
    # PostgreSQL's `serve`: the rounds run on the server's event loop and their database work in greenlets
    # on the loop's engine (asyncpg), as the webhooks' does, instead of in a thread of their own whose GIL
    # hand-offs cost the loop more than the thread's work (see api/channels.py, run_jobs_on_loop)
    on_loop: bool = False
    # rate key -> the moment it frees, as last seen (a hint: the database decides)
    _slots: dict[str, datetime] = field(default_factory=dict, init=False, repr=False)
    # channel -> the rate key every one of its sends takes, and its interval (seen in its batches)
    _shared: dict[str, tuple[str, timedelta]] = field(default_factory=dict, init=False, repr=False)
    # the moments rows this dispatcher gave back fall due (a heap, past ones dropped): when to wake
    _due: list[datetime] = field(default_factory=list, init=False, repr=False)

    async def _db(self, work: Callable[[], T]) -> T:
        """Run blocking database work: in a greenlet on the loop's engine (`on_loop`), else right here."""
        return await run_on_loop(work) if self.on_loop else work()

    def _engine(self) -> Engine:
        """The engine of this dispatcher's sessions: the loop's (asyncpg) when `on_loop`."""
        engines = engines_of(self.sessions)
        return engines[-1] if self.on_loop else engines[0]

    def _connect(self) -> Connection:
        """A round's connection: autocommit, so each of a send's one-statement steps is one round trip."""
        return self._engine().connect().execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def _direct(self, batch: _Batch) -> Iterator[Connection]:
        """The round's autocommit connection in the writer turn, for a send's one-statement steps (its rate
        slots, its record)."""
        with writer_turn(batch.conn.engine):
            yield batch.conn

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """A session whose writes wait for the process's SQLite writer turn (no busy-timeout sleeps)."""
        with self.sessions() as db, writer_turn(db):
            yield db

    def _sender(self, channel: str) -> Sender:
        for s in self.senders:
            if s.channel == channel:
                return s
        raise LookupError(channel)

    async def run_once(self) -> int:
        """Claim one batch of due rows and work through it; returns how many rows were claimed."""
        return (await self.run_round()).claimed

    async def run_round(self) -> Round:
        """Claim one batch of due rows (no more of a channel than its shared rate slot lets go soon), send
        them paced by their rate slots, give back in one statement those whose slot is busy for longer."""
        now = self.clock()
        self._slots = {k: t for k, t in self._slots.items() if t > now}
        while self._due and self._due[0] <= now:
            heapq.heappop(self._due)
        channels, limits, held_until = self._claim_limits(now)
        claim = outbox.Claim([])
        if channels:
            claim = await self._db(partial(self._claim, now, channels, limits))
        rows = claim.rows
        if not rows:
            waits = self._due[:1] + ([held_until] if held_until is not None else [])
            # rows dropped as out of date moved the queue: others may be due behind them, claim again now
            return Round(dropped=claim.dropped, full=claim.dropped > 0, wake_at=min(waits, default=None))
        self._learn_shared(rows)
        conn = await self._db(self._connect)
        try:
            batch = _Batch(started=now, lease_until=now + self.lease, conn=conn)
            outcomes = await self._work_through(rows, batch, held_until)
        finally:
            await self._db(conn.close)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        taken: dict[str, int] = {}
        for row in rows:
            taken[row.channel] = taken.get(row.channel, 0) + 1
        full = (len(rows) >= self.batch or any(taken.get(c, 0) >= n for c, n in limits.items())
                or claim.dropped > 0)
        wake = min([*batch.wake, *self._due[:1]], default=None)
        return Round(claimed=len(rows), deferred=len(batch.deferred), dropped=claim.dropped, full=full,
                     wake_at=wake)

    def _claim(self, now: datetime, channels: list[str], limits: dict[str, int]) -> outbox.Claim:
        with self._writing() as db:
            return outbox.claim(db, now=now, channels=channels, limit=self.batch, lease=self.lease,
                                limits=limits)

    async def _work_through(
        self, rows: list[Claimed], batch: _Batch, held_until: datetime | None
    ) -> list[BaseException | None]:
        """Send a claimed batch: rows of one address one after the other in id order, `concurrency`
        addresses at a time; then give back in one statement the rows that wait for a busy slot. Returns
        what each address's chain raised."""
        if held_until is not None:
            batch.wake.append(held_until)
        gate = asyncio.Semaphore(self.concurrency)

        async def one(row: Claimed) -> None:
            async with gate:
                await self.process(row, batch)

        by_address: dict[tuple[str, str], list[Claimed]] = {}
        for row in rows:
            by_address.setdefault((row.channel, row.to), []).append(row)

        async def chain(group: list[Claimed]) -> None:
            for row in sorted(group, key=lambda r: r.id):
                await one(row)

        outcomes = await asyncio.gather(*(chain(g) for g in by_address.values()), return_exceptions=True)
        # every row of the batch has settled: sent, recorded, or waiting here to go back
        await self._db(partial(self._give_back, batch))
        return list(outcomes)

    def _per_batch(self, interval: timedelta) -> int:
        """How many sends on a key of this interval one batch makes: those it waits for within the
        horizon when the interval is short enough to wait for, else one."""
        if timedelta(0) < interval <= self.max_wait:
            return 1 + int(self.horizon / interval)
        return 1

    def _claim_limits(self, now: datetime) -> tuple[list[str], dict[str, int], datetime | None]:
        """The channels to claim for and how many rows of each: a channel whose shared rate key is busy
        beyond `max_wait` gets none (and its free time comes back as the moment to wake); one that
        waits in-batch gets what its key lets go within the horizon; any other, a slot's worth."""
        channels: list[str] = []
        limits: dict[str, int] = {}
        held: datetime | None = None
        for sender in self.senders:
            shared = self._shared.get(sender.channel)
            if shared is None:
                channels.append(sender.channel)
                continue
            key, interval = shared
            free = max(now, self._slots.get(key, now))
            if free - now > self.max_wait:
                held = free if held is None else min(held, free)
                continue
            channels.append(sender.channel)
            limits[sender.channel] = min(self.batch, self._per_batch(interval))
        return channels, limits, held

    def _learn_shared(self, rows: Sequence[Claimed]) -> None:
        """Note, per channel, the rate key all of its rows in this batch need (seen from two addresses)."""
        by_channel: dict[str, list[dict[str, timedelta]]] = {}
        for row in rows:
            by_channel.setdefault(row.channel, []).append(dict(self._sender(row.channel).rate_keys(row)))
        for channel, keys in by_channel.items():
            if len(keys) < 2:
                continue
            common = set(keys[0]).intersection(*keys[1:])
            if common:
                key = max(common, key=lambda k: keys[0][k])
                self._shared[channel] = (key, keys[0][key])
            else:
                self._shared.pop(channel, None)

    async def _slot(self, batch: _Batch, keys: list[tuple[str, timedelta]]) -> datetime | None:
        """Reserve one send's rate slots: None when taken, else the moment to give the row back at. A slot
        known to be busy is not asked for; one that frees within `max_wait` (and the horizon) is waited
        for, this batch's sends queueing for it in order."""
        names = sorted({k for k, _ in keys})
        refusals = 0
        async with AsyncExitStack() as stack:
            for name in names:
                await stack.enter_async_context(batch.lock(name))
            while True:
                now = self.clock()
                if now - batch.started > self.lease / 2:  # held too long already: another round sends it
                    return now
                free = max([now, *(self._slots.get(k, now) for k in names)])
                if free > now:
                    if batch.frozen or free - now > self.max_wait or free > batch.started + self.horizon:
                        return free
                    await self.sleep((free - now).total_seconds())
                    if self.clock() <= now:
                        batch.frozen = True
                        return free
                    continue
                busy = await self._db(partial(self._take, batch, keys, now))
                if not busy:
                    for key, interval in keys:
                        self._slots[key] = now + interval
                    return None
                for key, until in busy.items():  # another process took it: wait for it, or give back
                    self._slots[key] = max(until, self._slots.get(key, until))
                refusals += 1
                if refusals >= 3:
                    return max(now, *(self._slots.get(k, now) for k in names))

    def _take(self, batch: _Batch, keys: list[tuple[str, timedelta]], now: datetime) -> dict[str, datetime]:
        with self._direct(batch) as conn:
            return outbox.take_free_slots(conn, keys, now=now)

    def _give_back(self, batch: _Batch) -> None:
        """Release the rows this round did not try, in one statement, each from the moment the known slots
        let it go: rows waiting for the same key spread by its interval, a batch's worth together (one
        SMS number: a second apart; Telegram's overall key: up to a horizon's worth at once, the next
        batch paces them), so later claims take only what can be sent."""
        if not batch.deferred:
            return
        taken: dict[str, int] = {}
        back: list[tuple[int, datetime]] = []
        for row, at, keys in sorted(batch.deferred, key=lambda d: (d[1], d[0].id)):
            when = at
            for key, interval in keys:
                n, group = taken.get(key, 0), self._per_batch(interval)
                taken[key] = n + 1
                when = max(when, self._slots.get(key, at) + (n // group) * group * interval)
            back.append((row.id, when))
        with self._writing() as db:
            outbox.give_back(db, back, lease_until=batch.lease_until)
        for _, when in back:
            heapq.heappush(self._due, when)

    async def process(self, row: Claimed, batch: _Batch) -> None:
        sender = self._sender(row.channel)
        now = self.clock()
        parts = sender.parts(row)
        done = int(row.extra.get("parts_sent", 0))
        if row.provider_id and done >= len(parts):
            await self._db(partial(self._mark_sent, row.id, now))
            return
        if row.blocked is not None:  # S6/T6: nothing goes to an opted-out or blocked contact
            await self._db(partial(
                self._permanent,
                row, PermanentFailure(f"contact {row.blocked}", code=f"contact:{row.blocked}", fallback=True),
            ))
            return
        if row.extra.get("uncertain"):
            try:
                found = await sender.lookup(row)
            except SendError as exc:
                failed = TransientFailure(f"lookup failed: {exc}", code=exc.code, uncertain=True)
                await self._db(partial(self._transient, row, failed))
                return
            if found:
                await self._db(partial(self._recorded_elsewhere, row.id, found, len(parts)))
                return
        keys = sender.rate_keys(row)
        held: tuple[dict[str, Any], str | None] | None = (dict(row.extra), row.provider_id)  # as claimed
        for index in range(done, len(parts)):
            busy_until = await self._slot(batch, keys)
            if busy_until is not None:
                batch.deferred.append((row, busy_until, keys))
                return
            try:
                provider_id = await sender.send(row, parts[index], index)
            except RetryAfter as exc:
                until = self.clock() + timedelta(seconds=exc.seconds)
                await self._db(partial(self._release, row.id, until, exc))
                batch.wake.append(until)
                return
            except PermanentFailure as exc:
                await self._db(partial(self._permanent, row, exc))
                return
            except TransientFailure as exc:
                await self._db(partial(self._transient, row, exc))
                return
            except Exception as exc:  # noqa: BLE001 - a sender bug must not stop the dispatcher
                log.exception("outbox %s: unexpected sender error", row.id)
                await self._db(partial(
                    self._transient,
                    row, TransientFailure(f"{type(exc).__name__}", code="internal:sender", uncertain=True),
                ))
                return
            last = index == len(parts) - 1
            held = await self._db(
                partial(self._record, row, batch, held, provider_id, parts_sent=index + 1, done=last)
            )
            if last:  # the address's next row, if any, may go once its slots free
                batch.wake.append(max(self._slots.get(k, batch.started) for k, _ in keys))

    def _mark_sent(self, row_id: int, now: datetime) -> None:
        with self._writing() as db:
            outbox.mark_sent(db, row_id, now=now, note="recovered")

    def _recorded_elsewhere(self, row_id: int, provider_id: str, parts: int) -> None:
        """The provider had the message after all (an uncertain send looked up): its id, all parts sent."""
        with self._writing() as db:
            outbox.record_provider_id(db, row_id, provider_id, now=self.clock(), parts_sent=parts)

    def _release(self, row_id: int, until: datetime, exc: RetryAfter) -> None:
        with self._writing() as db:
            outbox.release(db, row_id, until=until, error=str(exc), code=exc.code)

    def _record(
        self,
        row: Claimed,
        batch: _Batch,
        held: tuple[dict[str, Any], str | None] | None,
        provider_id: str,
        *,
        parts_sent: int,
        done: bool,
    ) -> tuple[dict[str, Any], str | None] | None:
        """Record a sent part's provider id at once (G2): in one statement while the row is as this claim
        left it (`held`: its extra and provider id), else by reading it first. Returns what the row now
        holds, or None once someone else changed it (later parts are then recorded the reading way)."""
        now = self.clock()
        if held is not None:
            extra, was = held
            extra = {**extra, "provider_ids": [*extra.get("provider_ids", []), provider_id],
                     "parts_sent": parts_sent}
            with self._direct(batch) as conn:
                if outbox.record_held(conn, row, provider_id, lease_until=batch.lease_until, extra=extra,
                                      was=was, now=now, done=done):
                    return extra, was or provider_id
        with self._writing() as db:
            outbox.record_provider_id(db, row.id, provider_id, now=now, parts_sent=parts_sent, done=done)
        return None

    def _permanent(self, row: Claimed, exc: PermanentFailure) -> None:
        log.info("outbox %s failed permanently: %s", row.id, exc)
        with self._writing() as db:
            outbox.fail(db, row.id, error=str(exc), code=exc.code, contact_status=exc.contact_status)
            if exc.fallback and self.fallback is not None:
                self.fallback(db, row, str(exc), self.clock())
                db.commit()

    def _transient(self, row: Claimed, exc: TransientFailure) -> None:
        with self._writing() as db:
            status = outbox.retry_later(
                db,
                row.id,
                now=self.clock(),
                error=str(exc),
                code=exc.code,
                max_attempts=self.max_attempts,
                uncertain=exc.uncertain,
            )
            if status == OutboxStatus.DEAD:
                log.warning("outbox %s is dead after %s attempts", row.id, row.attempts)
                if self.fallback is not None:
                    self.fallback(db, row, f"dead: {exc}", self.clock())
                    db.commit()

    async def run_forever(self, *, interval: float = 1.0, stop: threading.Event | None = None) -> None:
        """Work until `stop` is set: at once after a full batch, else waiting until the earliest rate slot
        frees or `interval` seconds, whichever is sooner."""
        await run_rounds(self.run_round, clock=self.clock, interval=interval, stop=stop, sleep=self.sleep)


class Runner(Protocol):
    async def run_forever(self, *, interval: float = 1.0, stop: threading.Event | None = None) -> None: ...


def start_in_thread(dispatcher: Runner, *, interval: float) -> tuple[threading.Thread, threading.Event]:
    """Run the dispatcher (or api.channels.Jobs) in a daemon thread with its own event loop (`serve`)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=lambda: asyncio.run(dispatcher.run_forever(interval=interval, stop=stop)),
        name="outbox-dispatcher",
        daemon=True,
    )
    thread.start()
    return thread, stop
