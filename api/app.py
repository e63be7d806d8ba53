"""The composition root: create_app(settings) wires the database, routes and channel adapters."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api import errors
from api.routes import auth
from api.settings import Settings
from cases.clock import Clock, system_clock
from cases.db import make_engine, make_session_factory


def create_app(settings: Settings, *, clock: Clock = system_clock,
               channel_extras: dict[str, Any] | None = None) -> FastAPI:
    """Build the app for `settings`; the schema must already be migrated (`shenbao serve` does it).
    `channel_extras` replaces the channels' HTTP clients (tests: recording fakes at the HTTP boundary)."""
    app = FastAPI(
        title="Shenbao 申报",
        description="Household self-reporting for dynamic monitoring against falling back into poverty.",
        version="0.1.0",
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_session_factory(engine)
    app.state.clock = clock

    errors.install(app)
    app.include_router(auth.router)

    from api.channels import install_channels

    install_channels(app, settings, clock=clock, extras=channel_extras)  # webhooks, simulator at /

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
