"""Shared fixtures: database tests run on SQLite, and on PostgreSQL when SHENBAO_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from cases import logs
from cases.clock import BEIJING, FrozenClock
from cases.db import make_engine, make_loop_engine, make_session_factory, run_on_loop
from cases.models import Base

POSTGRES_URL = os.environ.get("SHENBAO_TEST_POSTGRES_URL")
T = TypeVar("T")
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])
SHARED_DATA = next(  # ../shared/data beside the repo (or beside the folder of git worktrees)
    (p / "shared" / "data" for p in Path(__file__).resolve().parents[1:4]
     if (p / "shared" / "data").is_dir()),
    Path(__file__).resolve().parents[2] / "shared" / "data",
)
FIXTURES = Path(__file__).parent / "fixtures"


def shared_data(name: str) -> Path:
    """A file of ../shared/data, or skip with the reason when the folder is absent."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"reference data {path} is absent (it lives in ../shared/data beside the repo)")
    return path


@pytest.fixture(autouse=True)
def _spool_per_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's Settings spool into its own folder (bot/spool.py), never the developer's var/spool."""
    monkeypatch.setenv("SHENBAO_SPOOL_DIR", str(tmp_path / "spool"))


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[str | None]:
    """Migrate the PostgreSQL test database once per run (from an empty schema)."""
    if not POSTGRES_URL:
        yield None
        return
    from cases import migrate

    engine = make_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)
    engine.dispose()
    yield POSTGRES_URL


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A clean database with the current schema, on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url
        return
    url = request.getfixturevalue("_postgres_schema")
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def masked_logs() -> Iterator[None]:
    """Log records masked as `shenbao` masks them (cases.logs.install), for this test only."""
    restore = logs.install()
    yield
    restore()


@pytest.fixture
def clock() -> FrozenClock:
    """Monday 2026-03-02 10:00 Beijing time: a plain working day."""
    return FrozenClock(datetime(2026, 3, 2, 10, 0, tzinfo=BEIJING))


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(environment="test", database_url=db_url, secret_key="test-secret-key-0123456789abcdef",
                    public_url="https://shenbao.example.org", run_dispatcher=False)


def with_engine(kind: str, check: Callable[[Engine], T], *, url: str | None = None, **kwargs: Any) -> T:
    """Run `check` with a pooled engine of `kind`: "threads" (`make_engine`, psycopg: the dispatcher, the
    console, the CLI) or "loop" (`make_loop_engine`, asyncpg: the webhooks' work, inside `run_on_loop`);
    on PostgreSQL at `url`, else the test database."""
    url = url or POSTGRES_URL
    assert url is not None
    if kind == "threads":
        engine = make_engine(url, **kwargs)
        try:
            return check(engine)
        finally:
            engine.dispose()

    async def go() -> T:
        loop_engine = make_loop_engine(url, **kwargs)
        assert loop_engine is not None
        try:
            return await run_on_loop(lambda: check(loop_engine.sync_engine))
        finally:
            await loop_engine.dispose()

    return asyncio.run(go())


# --- work counted, not timed (SQLite's steps, PostgreSQL's plan) ---------------------------------


@contextmanager
def counting_steps(db: Session) -> Iterator[list[int]]:
    """Count the SQLite virtual machine steps run on the session's connection meanwhile."""
    raw = db.connection().connection.driver_connection
    steps = [0]

    def step() -> int:
        steps[0] += 1
        return 0

    raw.set_progress_handler(step, 1)
    try:
        yield steps
    finally:
        raw.set_progress_handler(None, 1)


def rows_touched(plan: dict[str, Any]) -> int:
    """Rows a PostgreSQL plan node and those under it produced or threw away, over all their loops."""
    loops = int(plan.get("Actual Loops", 1))
    own = int(plan.get("Actual Rows", 0)) * loops + sum(
        int(plan.get(key, 0)) for key in ("Rows Removed by Filter", "Rows Removed by Join Filter",
                                          "Rows Removed by Index Recheck"))
    return own + sum(rows_touched(child) for child in plan.get("Plans", []))
