"""Wiring of the chat channels into the app: the dialogue service context, the Outbox notifier, the
webhook routers of every configured channel, and the in-process outbox dispatcher of `shenbao serve`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from bot import runtime
from bot.context import BotContext
from bot.dispatcher import Dispatcher
from bot.notify import OutboxNotifier
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
    )
    service_ctx = ServiceContext(
        vault=vault,
        gazetteer=gazetteer,
        notifier=notifier,
        locale=settings.locale,
        dialogue_ttl=timedelta(minutes=settings.dialogue_ttl_minutes),
    )
    return BotContext(
        settings=settings, sessions=sessions, clock=clock, service_ctx=service_ctx, extras=dict(extras or {})
    )


def dispatcher_for(ctx: BotContext) -> Dispatcher:
    notifier = ctx.service_ctx.notifier
    return runtime.dispatcher(
        ctx, fallback=notifier.fallback if isinstance(notifier, OutboxNotifier) else None
    )


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
    """`shenbao worker`: the outbox dispatcher alone (several may run side by side)."""
    with standalone(settings, clock=clock) as ctx:
        dispatcher = dispatcher_for(ctx)
        if once:
            return asyncio.run(dispatcher.run_once())
        log.info("outbox worker started for %s", [s.channel for s in dispatcher.senders])
        try:
            asyncio.run(dispatcher.run_forever(interval=settings.dispatcher_interval_seconds))
        except KeyboardInterrupt:
            pass
    return 0
