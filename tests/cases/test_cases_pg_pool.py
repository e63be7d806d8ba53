"""PostgreSQL's pool tests a connection before use only when it sat idle: a restarted server is met by a
new connection after a quiet spell, and by one failed statement (then a fresh pool) in steady use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from cases.db import make_engine
from tests.conftest import POSTGRES_URL

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


def test_a_connection_idle_past_the_limit_is_tested_and_replaced_before_use(admin: Engine) -> None:
    assert POSTGRES_URL is not None
    engine = make_engine(POSTGRES_URL, ping_idle_seconds=0)
    try:
        first = backend(engine)
        end_backend(admin, first)
        assert backend(engine) != first  # no error: the ping found it gone and the pool connected anew
    finally:
        engine.dispose()


def test_a_connection_in_steady_use_is_not_tested_a_lost_one_fails_once_then_the_pool_is_fresh(
    admin: Engine,
) -> None:
    assert POSTGRES_URL is not None
    engine = make_engine(POSTGRES_URL, ping_idle_seconds=3600)
    try:
        first = backend(engine)
        end_backend(admin, first)
        with pytest.raises(DBAPIError) as lost:
            backend(engine)
        assert lost.value.connection_invalidated
        assert backend(engine) != first
    finally:
        engine.dispose()
