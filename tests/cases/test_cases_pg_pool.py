"""PostgreSQL's pool tests a connection before use only when it sat idle: a restarted server is met by a
new connection after a quiet spell, and by one failed statement (then a fresh pool) in steady use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from cases.db import make_engine
from tests.conftest import POSTGRES_URL, with_engine

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL only (SHENBAO_TEST_POSTGRES_URL)")


@pytest.fixture
def admin() -> Iterator[Engine]:
    """A connection outside the pool under test, to end its server processes as a restart would."""
    assert POSTGRES_URL is not None
    eng = make_engine(POSTGRES_URL, poolclass=NullPool)
    yield eng
    eng.dispose()


def backend(engine: Engine) -> int:
    """Use a pooled connection once (it goes back to the pool): its server process id."""
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def end_backend(admin: Engine, pid: int) -> None:
    """End the server process `pid`; PostgreSQL itself waits (up to 5 s) until it is gone, else false."""
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar_one()


ENGINES = pytest.mark.parametrize("kind", ["threads", "loop"])


@ENGINES
def test_a_connection_idle_past_the_limit_is_tested_and_replaced_before_use(admin: Engine, kind: str) -> None:
    def check(engine: Engine) -> None:
        assert engine.dialect.driver == ("asyncpg" if kind == "loop" else "psycopg")
        first = backend(engine)
        end_backend(admin, first)
        assert backend(engine) != first  # no error: the ping found it gone and the pool connected anew

    with_engine(kind, check, ping_idle_seconds=0)


@ENGINES
def test_a_connection_in_steady_use_is_not_tested_a_lost_one_fails_once_then_the_pool_is_fresh(
    admin: Engine, kind: str
) -> None:
    def check(engine: Engine) -> None:
        first = backend(engine)
        end_backend(admin, first)
        with pytest.raises(DBAPIError) as lost:
            backend(engine)
        assert lost.value.connection_invalidated
        assert backend(engine) != first

    with_engine(kind, check, ping_idle_seconds=3600)


def test_the_event_loops_engine_reads_libpqs_options_from_the_url() -> None:
    """The configured URL is psycopg's (libpq's options); asyncpg connects with the same meaning."""
    assert POSTGRES_URL is not None
    joiner = "&" if "?" in POSTGRES_URL else "?"
    url = (POSTGRES_URL + joiner + "connect_timeout=5&application_name=shenbao-web"
           + "&options=-c%20statement_timeout%3D7s%20-clock_timeout%3D3s")

    def check(engine: Engine) -> tuple[str, ...]:
        with engine.connect() as conn:
            return tuple(conn.execute(text(
                "SELECT current_setting('application_name'), current_setting('statement_timeout'), "
                "current_setting('lock_timeout')")).one())

    assert with_engine("loop", check, url=url) == ("shenbao-web", "7s", "3s")
    assert with_engine("threads", check, url=url) == ("shenbao-web", "7s", "3s")  # as psycopg reads it

