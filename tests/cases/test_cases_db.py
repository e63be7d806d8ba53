"""SQLite engines: WAL checkpoints off the requests' commits when a background checkpointer runs."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import IntegrityError

from api.app import create_app
from api.settings import Settings
from cases import migrate
from cases.db import (
    SQLITE_AUTOCHECKPOINT_PAGES,
    SQLITE_BACKSTOP_CHECKPOINT_PAGES,
    WalCheckpointer,
    make_engine,
    server_settings,
    wal_checkpointer_for,
)
from cases.models import Channel, Contact, ContactStatus


def _autocheckpoint(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def _fill(engine: Engine, pages: int) -> None:
    """Write about `pages` 4 KiB pages in several commits (each commit appends frames to the WAL)."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, blob BLOB)")
    for _ in range(pages // 50):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO filler (blob) VALUES (randomblob(3500))"), [{}] * 50)


def test_requests_checkpoint_by_sqlites_rule_unless_a_checkpointer_runs(tmp_path: Path) -> None:
    plain = make_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    backed = make_engine(f"sqlite:///{tmp_path / 'backed.db'}", background_checkpoints=True)
    try:
        assert _autocheckpoint(plain) == SQLITE_AUTOCHECKPOINT_PAGES == 1000
        assert _autocheckpoint(backed) == SQLITE_BACKSTOP_CHECKPOINT_PAGES
        _fill(plain, 1500)
        _fill(backed, 1500)
        # 1,500 pages: the plain engine's commits copied the WAL back into the database file; the backed
        # engine's commits left everything in the WAL for the checkpointer.
        assert (tmp_path / "plain.db").stat().st_size > 1000 * 3500
        assert (tmp_path / "backed.db").stat().st_size < 100 * 4096
    finally:
        plain.dispose()
        backed.dispose()


def test_the_checkpointer_copies_the_wal_back_from_its_own_thread(tmp_path: Path) -> None:
    db_file = tmp_path / "shenbao.db"
    engine = make_engine(f"sqlite:///{db_file}", background_checkpoints=True)
    checkpointer = wal_checkpointer_for(engine, 0.05)
    assert checkpointer is not None
    try:
        _fill(engine, 300)
        assert db_file.stat().st_size < 100 * 4096  # all still in the WAL
        checkpointer.start()
        deadline = time.monotonic() + 10
        while db_file.stat().st_size < 300 * 3500 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert db_file.stat().st_size >= 300 * 3500
        assert any(t.name == "sqlite-wal-checkpointer" for t in threading.enumerate())
    finally:
        checkpointer.stop()
        engine.dispose()
    assert not any(t.name == "sqlite-wal-checkpointer" for t in threading.enumerate())
    busy, frames, copied = WalCheckpointer(make_engine(f"sqlite:///{db_file}")).checkpoint()
    assert busy == 0 and frames == copied


def test_no_checkpointer_for_postgresql_memory_or_interval_zero(tmp_path: Path) -> None:
    memory = make_engine("sqlite://")
    file_engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    pg = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connects
    assert wal_checkpointer_for(memory, 1.0) is None
    assert wal_checkpointer_for(file_engine, 0) is None
    assert wal_checkpointer_for(pg, 1.0) is None
    assert isinstance(wal_checkpointer_for(file_engine, 1.0), WalCheckpointer)


def test_the_app_runs_its_checkpointer_for_its_lifetime(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    migrate.upgrade(make_engine(url))
    app = create_app(Settings(environment="test", database_url=url, secret_key="s" * 40,
                              sqlite_checkpoint_seconds=0.05))
    assert _autocheckpoint(app.state.engine) == SQLITE_BACKSTOP_CHECKPOINT_PAGES
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert any(t.name == "sqlite-wal-checkpointer" for t in threading.enumerate())
    assert not any(t.name == "sqlite-wal-checkpointer" for t in threading.enumerate())


def test_a_database_error_logged_shows_no_phone_number(engine: Engine, caplog: pytest.LogCaptureFixture,
                                                         masked_logs: None) -> None:
    """SQLAlchemy hides the statement's parameters; PostgreSQL's own message still names the row's key,
    so the log record masks it (cases.logs): log.exception writes neither."""
    phone = "+8613912345678"
    row = {"channel": Channel.SMS, "external_id": phone, "status": ContactStatus.ACTIVE,
           "created_at": datetime(2026, 3, 2, tzinfo=UTC)}
    with engine.connect() as conn:
        conn.execute(insert(Contact), row)
        with pytest.raises(IntegrityError) as caught:
            conn.execute(insert(Contact), row)
        conn.rollback()
    assert "[SQL parameters hidden" in str(caught.value)
    with caplog.at_level(logging.ERROR):
        try:
            raise caught.value
        except IntegrityError:
            logging.getLogger("shenbao.test").exception("storing %s failed", phone)
    logged = caplog.text
    assert "IntegrityError" in logged and "storing +861********78 failed" in logged
    assert "13912345678" not in logged


def test_libpq_options_are_read_as_server_settings() -> None:
    """The database URL's `options`, as the event loop's asyncpg connections get them (no server needed)."""
    assert server_settings("-c search_path=a,b -cstatement_timeout=5s --lock-timeout=1s") == {
        "search_path": "a,b", "statement_timeout": "5s", "lock_timeout": "1s"}
    with pytest.raises(ValueError, match="name=value"):
        server_settings("-c search_path")
    with pytest.raises(ValueError, match="-c name=value"):
        server_settings("search_path=a")
