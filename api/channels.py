"""Wiring of the chat channels into the app: the dialogue service context, the Outbox notifier, the
webhook routers of every configured channel, and the background jobs (outbox dispatcher and cadre
reminders) of `shenbao worker` and of the in-process thread of `shenbao serve`."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time as _time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from bot import runtime
from bot.context import BotContext
from bot.dispatcher import Dispatcher, Round, run_rounds
from bot.notify import OutboxNotifier
from bot.spool import Spool
from cases import reminders
from cases.clock import Clock
from cases.crypto import Vault
from cases.models import Area

log = logging.getLogger(__name__)


def gazetteer_from_db(sessions: sessionmaker[Session]) -> Any:
    """The county's divisions from the areas table, for place names in messages (None when empty)."""
    import nlu

    with sessions() as db:
        rows = [(a.code, a.name, str(a.level), a.parent_code) for a in db.scalars(select(Area))]
    return nlu.Gazetteer.from_areas(rows) if rows else None


def build_context(
    settings: Settings,
    *,
    sessions: sessionmaker[Session],
    clock: Clock,
    extras: dict[str, Any] | None = None,
    gazetteer: Any = None,
) -> BotContext:
    """The channels' context: the dialogue service context with an Outbox notifier, on `sessions`."""
    from conversations.service import ServiceContext

    vault = Vault(settings.secret_key)
    notifier = OutboxNotifier(
        decrypt=vault.decrypt,
        clock=clock,
        sms_enabled=bool(settings.twilio_auth_token),
        locale=settings.locale,
        staff_sms_quiet=(settings.sms_quiet_start, settings.sms_quiet_end),
    )
    service_ctx = ServiceContext(
        vault=vault,
        gazetteer=gazetteer,
        notifier=notifier,
        locale=settings.locale,
        dialogue_ttl=timedelta(minutes=settings.dialogue_ttl_minutes),
    )
    return BotContext(
        settings=settings,
        sessions=sessions,
        clock=clock,
        service_ctx=service_ctx,
        extras=dict(extras or {}),
        spool=Spool(settings.spool_dir, vault, clock),
    )


def dispatcher_for(ctx: BotContext) -> Dispatcher:
    notifier = ctx.service_ctx.notifier
    return runtime.dispatcher(
        ctx, fallback=notifier.fallback if isinstance(notifier, OutboxNotifier) else None
    )


def warm_up(ctx: BotContext) -> None:
    """Before the first household waits: parse one message (loads jieba's dictionary and the gazetteer's
    index, about 0.3 s), then move everything built so far out of the garbage collector's way. A full
    collection would otherwise walk these ~240,000 long-lived objects (about 100-230 ms with the GIL held)
    in the middle of whatever requests were running; frozen, they are never walked again."""
    service = ctx.service_ctx
    service.parser("我家老人生病住院了，花了两万块", service.gazetteer)
    gc.collect()
    gc.freeze()


def reminder_policy(settings: Settings) -> reminders.ReminderPolicy:
    """SMS quiet hours, the digest hour (Beijing time) and the escalation margin where no region
    setting gives one, from Settings."""
    return reminders.ReminderPolicy(
        quiet_start=settings.sms_quiet_start,
        quiet_end=settings.sms_quiet_end,
        digest_at=settings.digest_at,
        fallback_escalation_margin_days=settings.escalation_margin_days,
    )


@dataclass
class Jobs:
    """The background work of `shenbao worker` (and of `serve`'s thread): cadre reminders and digests
    (cases.reminders, idempotent, so several workers may run them) every `reminder_every`, and the
    outbox dispatcher that sends what they and the dialogues wrote."""

    ctx: BotContext
    dispatcher: Dispatcher
    policy: reminders.ReminderPolicy
    reminder_every: timedelta = timedelta(minutes=1)
    last_reminders: datetime | None = None
    # between batches of a sync (the changed cases; every open case at the day's first tick): as long as the
    # batch took (it runs beside requests)
    pause: reminders.Pause | None = _time.sleep

    def reminders_due(self) -> bool:
        now = self.ctx.clock()
        return self.last_reminders is None or now - self.last_reminders >= self.reminder_every

    def run_reminders(self) -> reminders.RunReport | None:
        """One reminders tick (tasks synced; due, overdue, escalation and digest messages written)."""
        if not self.reminders_due():
            return None
        self.last_reminders = self.ctx.clock()
        report = reminders.tick(self.ctx.sessions, self.ctx.clock, self.ctx.service_ctx.notifier, self.policy,
                                pause=self.pause)
        if report.sent or report.deferred_sms:
            log.info("reminders written: %s (SMS held for quiet hours: %d)", report.sent, report.deferred_sms)
        return report

    async def run_once(self) -> int:
        """Reminders when due, then one dispatcher batch; the number of outbox rows claimed."""
        return (await self.run_round()).claimed

    def spool_due(self) -> bool:
        """Webhook messages spooled at a deadline (bot/spool.py) wait, and it is time to try them again."""
        spool = self.ctx.spool
        if spool is None:
            return False
        spool.rescan()  # files other processes on this host spooled too (one directory listing)
        return spool.due()

    def replay_spool(self) -> int:
        """Store the spooled messages the database can take now; how many."""
        stored = self.ctx.replay_spooled()
        if stored:
            log.info("spooled messages stored: %d", stored)
        return stored

    async def run_round(self) -> Round:
        """Spooled messages and reminders when due, then one dispatcher round."""
        try:
            if not self.spool_due():
                pass
            elif not self.dispatcher.on_loop:
                self.replay_spool()
            else:  # stored in a thread, not on the server's loop
                await asyncio.to_thread(self.replay_spool)
        except Exception:  # noqa: BLE001 - the reminders and the sends go on; the files stay for the next round
            log.exception("spool replay failed")
        try:
            if not self.dispatcher.on_loop:
                self.run_reminders()
            elif self.reminders_due():  # a batch job with pauses: in a thread, not on the server's loop
                await asyncio.to_thread(self.run_reminders)
        except Exception:  # noqa: BLE001 - keep sending what is queued even if the reminder run failed
            log.exception("reminders run failed")
        return await self.dispatcher.run_round()

    async def run_forever(self, *, interval: float = 1.0, stop: threading.Event | None = None) -> None:
        """Work until `stop` is set, pausing between rounds as the dispatcher's do (bot.dispatcher.Round):
        at once after a full batch, else until the earliest rate slot frees or `interval` seconds."""
        await run_rounds(
            self.run_round,
            clock=self.ctx.clock,
            interval=interval,
            stop=stop,
            sleep=self.dispatcher.sleep,
            name="worker",
        )


def jobs_for(ctx: BotContext) -> Jobs:
    settings: Settings = ctx.settings  # type: ignore[assignment]
    return Jobs(
        ctx=ctx,
        dispatcher=dispatcher_for(ctx),
        policy=reminder_policy(settings),
        reminder_every=timedelta(seconds=settings.reminder_interval_seconds),
    )


def run_jobs_on_loop(app: FastAPI, jobs: Jobs, *, interval: float) -> None:
    """PostgreSQL's `serve`: the app's lifespan runs `jobs` as a task on the server's event loop, the
    dispatcher's database work in greenlets on the loop's engine (asyncpg) as the webhooks' is, and stops
    it at shutdown. In a thread of its own (SQLite's `serve`, which keeps it there: its work there queues
    for the process's writer turn), the dispatcher's GIL hand-offs cost the loop more than the thread's
    own work: webhook bench, PostgreSQL, Telegram paced at 500 a second: p99 138 and 591 ms at 2.11 and
    2.55 ms of the server's CPU a message with the thread, 70 and 75 ms at 1.96 and 1.97 without it."""
    if app.state.loop_engine is None:
        raise ValueError("the jobs run on the loop only beside the loop's engine (PostgreSQL)")
    jobs.dispatcher.on_loop = True
    app.state.loop_jobs = (jobs, interval)


def install_channels(
    app: FastAPI, settings: Settings, *, clock: Clock, extras: dict[str, Any] | None = None
) -> BotContext:
    """Mount the configured channels on `app` (the dispatcher is started by `shenbao serve`, not the app)."""
    sessions: sessionmaker[Session] = app.state.sessions
    ctx = build_context(
        settings, sessions=sessions, clock=clock, extras=extras, gazetteer=_safe_gazetteer(sessions)
    )
    app.state.channels = ctx
    app.state.channel_names = runtime.mount(app, ctx)
    return ctx


def _safe_gazetteer(sessions: sessionmaker[Session]) -> Any:
    try:
        return gazetteer_from_db(sessions)
    except Exception:  # noqa: BLE001 - an unmigrated database: the dialogue still works without place names
        log.warning("no gazetteer: the areas table could not be read")
        return None


@contextmanager
def standalone(settings: Settings, *, clock: Clock) -> Iterator[BotContext]:
    """A context on its own engine, for `shenbao worker`, `chat` and `telegram-polling`."""
    from cases.db import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    try:
        yield build_context(settings, sessions=sessions, clock=clock, gazetteer=_safe_gazetteer(sessions))
    finally:
        engine.dispose()


def run_worker(settings: Settings, *, clock: Clock, once: bool = False) -> int:
    """`shenbao worker`: reminders and the outbox dispatcher, without the web app (several may run)."""
    with standalone(settings, clock=clock) as ctx:
        jobs = jobs_for(ctx)
        if once:
            asyncio.run(jobs.run_once())
            return 0
        log.info("worker started: reminders, outbox for %s", [s.channel for s in jobs.dispatcher.senders])
        try:
            asyncio.run(jobs.run_forever(interval=settings.dispatcher_interval_seconds))
        except KeyboardInterrupt:
            pass
    return 0
