"""The outbox dispatcher: claims due rows, sends each through its channel's Sender, records the result.

Order of things for one row (each step its own commit, so a crash anywhere loses nothing and, once a
provider id is known, sends nothing twice):
1. claim (lease); 2. a row that already has its provider id is simply marked sent (G2); a row whose
last try may have reached the provider is looked up first (S9); 3. reserve the rate slots; 4. send one
part; 5. record the provider id at once; repeat 3-5 for further parts; errors become backoff, a
permanent failure (contact marked), or dead after the cap (G3), with a fallback hook for the latter two.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from bot import outbox
from bot.outbox import Claimed
from cases.clock import Clock
from cases.db import writer_turn
from cases.models import ContactStatus, OutboxStatus

log = logging.getLogger(__name__)


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


@dataclass
class Dispatcher:
    sessions: sessionmaker[Session]
    senders: Sequence[Sender]
    clock: Clock
    fallback: Fallback | None = None
    batch: int = 50
    concurrency: int = 8
    max_attempts: int = outbox.MAX_ATTEMPTS

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
        now = self.clock()
        with self._writing() as db:
            rows = outbox.claim_due(db, now=now, channels=[s.channel for s in self.senders], limit=self.batch)
        if not rows:
            return 0
        gate = asyncio.Semaphore(self.concurrency)

        async def one(row: Claimed) -> None:
            async with gate:
                await self.process(row)

        # rows of one address are sent one after the other, in id order
        by_address: dict[tuple[str, str], list[Claimed]] = {}
        for row in rows:
            by_address.setdefault((row.channel, row.to), []).append(row)

        async def chain(group: list[Claimed]) -> None:
            for row in sorted(group, key=lambda r: r.id):
                await one(row)

        await asyncio.gather(*(chain(g) for g in by_address.values()))
        return len(rows)

    async def process(self, row: Claimed) -> None:
        sender = self._sender(row.channel)
        now = self.clock()
        parts = sender.parts(row)
        done = int(row.extra.get("parts_sent", 0))
        if row.provider_id and done >= len(parts):
            with self._writing() as db:
                outbox.mark_sent(db, row.id, now=now, note="recovered")
            return
        if row.blocked is not None:  # S6/T6: nothing goes to an opted-out or blocked contact
            self._permanent(
                row, PermanentFailure(f"contact {row.blocked}", code=f"contact:{row.blocked}", fallback=True)
            )
            return
        if row.extra.get("uncertain"):
            try:
                found = await sender.lookup(row)
            except SendError as exc:
                self._transient(row, TransientFailure(f"lookup failed: {exc}", code=exc.code, uncertain=True))
                return
            if found:
                with self._writing() as db:
                    outbox.record_provider_id(db, row.id, found, now=self.clock(), parts_sent=len(parts))
                return
        for index in range(done, len(parts)):
            now = self.clock()
            with self._writing() as db:
                busy_until = outbox.reserve_slots(db, sender.rate_keys(row), now=now)
                if busy_until is not None:
                    outbox.release(db, row.id, until=busy_until)
                    return
            try:
                provider_id = await sender.send(row, parts[index], index)
            except RetryAfter as exc:
                with self._writing() as db:
                    outbox.release(
                        db,
                        row.id,
                        until=self.clock() + timedelta(seconds=exc.seconds),
                        error=str(exc),
                        code=exc.code,
                    )
                return
            except PermanentFailure as exc:
                self._permanent(row, exc)
                return
            except TransientFailure as exc:
                self._transient(row, exc)
                return
            except Exception as exc:  # noqa: BLE001 - a sender bug must not stop the dispatcher
                log.exception("outbox %s: unexpected sender error", row.id)
                self._transient(
                    row, TransientFailure(f"{type(exc).__name__}", code="internal:sender", uncertain=True)
                )
                return
            last = index == len(parts) - 1
            with self._writing() as db:
                outbox.record_provider_id(
                    db, row.id, provider_id, now=self.clock(), parts_sent=index + 1, done=last
                )

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
        """Work until `stop` is set; sleeps `interval` seconds when nothing is due."""
        while stop is None or not stop.is_set():
            try:
                claimed = await self.run_once()
            except Exception:  # noqa: BLE001 - keep the loop alive (database briefly away ...)
                log.exception("dispatcher round failed")
                claimed = 0
            if not claimed:
                await asyncio.sleep(interval)


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
