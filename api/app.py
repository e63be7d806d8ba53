"""The composition root: create_app(settings) wires the database, routes and channel adapters."""

from __future__ import annotations

from fastapi import FastAPI

from api import errors
from api.console import mount as mount_console
from api.routes import auth
from api.settings import Settings
from cases.clock import Clock, system_clock
from cases.db import make_engine, make_session_factory


def create_app(settings: Settings, *, clock: Clock = system_clock) -> FastAPI:
    """Build the app for `settings`; the schema must already be migrated (`shenbao serve` does it)."""
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
    mount_console(app)  # the staff console at /console

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
