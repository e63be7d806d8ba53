"""The composition root: create_app(settings) wires the database, routes and channel adapters."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api import errors
from api.console import mount as mount_console
from api.routes import (
    attachments,
    audit,
    auth,
    cases,
    codes,
    deliveries,
    exports,
    hotline,
    members,
    staff,
    workflow,
)
from api.settings import Settings
from bot.context import finish_db_work
from cases.clock import Clock, system_clock
from cases.crypto import Vault
from cases.db import make_engine, make_loop_engine, make_session_factory, wal_checkpointer_for
from cases.notify import Notifier, NullNotifier

# at shutdown, how long requests' database work still running on the loop is waited for
SHUTDOWN_WAIT_SECONDS = 10.0


def start_loop_jobs(app: FastAPI) -> tuple[asyncio.Task[None], threading.Event] | None:
    """The background jobs `run_jobs_on_loop` gave the app (api/channels.py), started as a task on this
    loop; None when there are none."""
    given = getattr(app.state, "loop_jobs", None)
    if given is None:
        return None
    jobs, interval = given
    stop = threading.Event()
    return asyncio.create_task(jobs.run_forever(interval=interval, stop=stop), name="outbox-dispatcher"), stop


async def stop_loop_jobs(task: asyncio.Task[None], stop: threading.Event) -> None:
    """Let the jobs finish their round (up to SHUTDOWN_WAIT_SECONDS), then cancel them: what a round left
    unsent is sent after the restart (its lease lapses)."""
    stop.set()
    await asyncio.wait({task}, timeout=SHUTDOWN_WAIT_SECONDS)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def create_app(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    notifier: Notifier | None = None,
    channel_extras: dict[str, Any] | None = None,
) -> FastAPI:
    """Build the app for `settings`; the schema must already be migrated (`shenbao serve` does it).

    `notifier` tells staff and households about case events; without one, bot/notify.py's Outbox notifier
    (the one the dialogues use) does. `channel_extras` replaces the channels' HTTP clients (tests: recording
    fakes at the HTTP boundary).
    """
    engine = make_engine(settings.database_url, background_checkpoints=settings.sqlite_checkpoint_seconds > 0)
    checkpointer = wal_checkpointer_for(engine, settings.sqlite_checkpoint_seconds)
    loop_engine = make_loop_engine(settings.database_url)  # PostgreSQL: the webhooks' work on the event loop

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if checkpointer is not None:
            checkpointer.start()
        jobs = start_loop_jobs(_app)
        try:
            yield
        finally:
            if jobs is not None:
                await stop_loop_jobs(*jobs)
            if checkpointer is not None:
                checkpointer.stop()
            if loop_engine is not None:
                await finish_db_work(SHUTDOWN_WAIT_SECONDS)
                await loop_engine.dispose()

    app = FastAPI(
        title="Shenbao 申报",
        description="Household self-reporting for dynamic monitoring against falling back into poverty.",
        version="0.1.0",
        lifespan=lifespan,
        telemetry=None if settings.telemetry else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.checkpointer = checkpointer
    app.state.loop_engine = loop_engine
    app.state.sessions = make_session_factory(engine, on_loop=loop_engine)
    app.state.clock = clock
    app.state.vault = Vault(settings.secret_key)
    app.state.notifier = notifier or NullNotifier()

    errors.install(app)
    from api.channels import install_channels

    # webhooks and the simulator at / first: Starlette tries routes in order (the staff API's ~100 routes
    # before them cost every webhook message 60-90 us of matching)
    channels = install_channels(app, settings, clock=clock, extras=channel_extras)
    if notifier is None:
        app.state.notifier = channels.service_ctx.notifier
    routers = (auth, cases, attachments, workflow, members, hotline, staff, audit, exports, deliveries, codes)
    for module in routers:
        app.include_router(module.router)
    mount_console(app)  # the staff console at /console

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str | int]:
        """Up; `spooled`: webhook messages waiting on this host for the database (bot/spool.py), which a
        monitor should see go back to 0."""
        spool = channels.spool
        return {"status": "ok", "spooled": len(spool.held()) if spool is not None else 0}

    return app
